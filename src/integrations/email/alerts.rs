//! Alert mail: urgent alerts within seconds, the rest in a periodic digest. Each run sends ONE mail listing
//! every open alert of its severities not yet mailed, and marks them mailed — with the job's "accepted by the
//! mail server" record, in one transaction — the moment the server accepted it, so a mail server outage
//! delays alerts (the job retries) and never loses them. The Message-ID is made from the job and the alerts
//! it lists: a resend after a crash in between is recognisably the same message.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::alerts::Severity;
use crate::domain::time::{now_ms, to_short};
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, job_error};
use crate::integrations::email::client::{EMAIL_ACCEPTED, Mailer};
use crate::store::alerts::{self, Alert};
use crate::store::{Job, jobs};

/// Which alerts a handler mails, and how it titles the mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Immediate,
    Digest,
}

pub struct AlertEmail {
    mode: Mode,
    mailer: Result<Mailer, String>,
    recipients: Vec<String>,
    severities: Vec<Severity>,
    /// Both alert handlers share this lock, so two runs never read the same unmailed alerts and mail them
    /// twice (one engine runs per database, so an in-process lock is enough).
    sending: Arc<tokio::sync::Mutex<()>>,
}

impl AlertEmail {
    /// The immediate and digest handlers, sharing one send lock.
    pub fn pair(config: &Config) -> (AlertEmail, AlertEmail) {
        let sending = Arc::new(tokio::sync::Mutex::new(()));
        let make = |mode, severities| AlertEmail {
            mode,
            mailer: Mailer::new(&config.email).map_err(|e| e.to_string()),
            recipients: config.alerts.recipients.clone(),
            severities,
            sending: sending.clone(),
        };
        (
            make(Mode::Immediate, config.alerts.immediate.clone()),
            make(Mode::Digest, config.alerts.digest_severities()),
        )
    }

    async fn send(&self, job: &Job, ctx: &JobContext) -> Result<(), JobError> {
        if self.recipients.is_empty() || self.severities.is_empty() {
            return Ok(()); // Nobody to tell: alerts stay listed in `syncdesk alerts list`.
        }
        let _sending = self.sending.lock().await;
        let severities = self.severities.clone();
        let due = ctx
            .with_store(move |store| {
                alerts::due_for_email(store.conn(), &severities).map_err(|e| JobError::store(&e))
            })
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        let mailer = self
            .mailer
            .as_ref()
            .map_err(|e| JobError::permanent(e.clone()))?;
        let (subject, body) = match self.mode {
            Mode::Immediate => compose_immediate(&due),
            Mode::Digest => compose_digest(&due),
        };
        let ids: Vec<i64> = due.iter().map(|a| a.id).collect();
        let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
        let message_id = mailer.stable_message_id(&[
            "alerts",
            &job.id.to_string(),
            &job.created_at.to_string(),
            &listed.join("-"),
        ]);
        let answer = mailer
            .send_as(&self.recipients, &subject, body, Some(message_id.clone()))
            .await
            .map_err(job_error)?;
        let job_id = job.id;
        ctx.with_store(move |store| {
            store
                .write(|tx| {
                    let now = now_ms();
                    alerts::mark_emailed(tx, &ids, now)?;
                    jobs::record_effect(
                        tx,
                        job_id,
                        EMAIL_ACCEPTED,
                        &format!("{message_id} {answer}"),
                        now,
                    )
                })
                .map_err(|e| JobError::store(&e))
        })
        .await?;
        Ok(())
    }
}

impl JobHandler for AlertEmail {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.send(job, ctx))
    }
}

/// One urgent alert: its own subject. Several (a burst): a count and the first subject.
pub fn compose_immediate(due: &[Alert]) -> (String, String) {
    let subject = match due {
        [one] => format!("[{}] {}", one.severity, one.subject),
        [first, ..] => format!(
            "[{}] {} alerts: {}, …",
            first.severity,
            due.len(),
            first.subject
        ),
        [] => "No alerts".to_string(),
    };
    let mut body = String::new();
    for a in due {
        body.push_str(&entry(a));
    }
    body.push_str(FOOTER);
    (subject, body)
}

/// Every alert of the digest's severities, most severe first.
pub fn compose_digest(due: &[Alert]) -> (String, String) {
    let mut sorted: Vec<&Alert> = due.iter().collect();
    sorted.sort_by_key(|a| (std::cmp::Reverse(Severity::parse(&a.severity)), a.id));
    let mut counts: Vec<String> = Vec::new();
    for s in Severity::ALL.into_iter().rev() {
        let n = due.iter().filter(|a| a.severity == s.as_str()).count();
        if n > 0 {
            counts.push(format!("{n} {}", s.as_str()));
        }
    }
    let subject = format!(
        "syncdesk alert digest: {} alerts ({})",
        due.len(),
        counts.join(", ")
    );
    let mut body = format!(
        "{} alerts were raised since the last digest:\n\n",
        due.len()
    );
    for a in sorted {
        body.push_str(&entry(a));
    }
    body.push_str(FOOTER);
    (subject, body)
}

const FOOTER: &str = "Sent by syncdesk. See them with `syncdesk alerts list`; close one with `syncdesk alerts ack ID`.\n";

fn entry(a: &Alert) -> String {
    format!(
        "#{} [{}] {} — {} ({})\n    {}\n\n",
        a.id,
        a.severity,
        a.kind,
        a.subject,
        to_short(a.created_at),
        a.message
    )
}
