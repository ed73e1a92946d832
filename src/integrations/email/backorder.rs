//! The backorder notice: when an order enters a backorder status, purchasing gets an e-mail listing what
//! the order still needs. Sent by a job, so a mail server outage delays the notice but never loses it; sent
//! once: the job looks for its own "accepted by the mail server" record before sending, writes that record
//! the moment the server accepts, and uses one Message-ID per job so even a resend in the instant between
//! those two is the same message.

use std::time::Duration;

use crate::engine::job_payload;
use serde::Deserialize;

use crate::config::EmailConfig;
use crate::domain::time::now_ms;
use crate::engine::{BoxFuture, JobContext, JobError, JobHandler, job_error};
use crate::integrations::email::client::{EMAIL_ACCEPTED, Mailer};
use crate::store::{Job, jobs, orders};

pub struct BackorderEmail {
    mailer: Result<Mailer, String>,
    recipients: Vec<String>,
}

#[derive(Deserialize)]
struct Payload {
    order_id: i64,
}

impl BackorderEmail {
    pub fn new(cfg: &EmailConfig) -> Self {
        BackorderEmail {
            mailer: Mailer::new(cfg).map_err(|e| e.to_string()),
            recipients: cfg.purchasing.clone(),
        }
    }

    async fn send(&self, job: &Job, ctx: &JobContext) -> Result<(), JobError> {
        let payload: Payload = job_payload(job)?;
        let job_id = job.id;
        if let Some(sent) = accepted_before(ctx, job_id).await? {
            tracing::info!(job = job_id, accepted = %sent, "backorder mail was accepted by an earlier run; not sent again");
            return Ok(());
        }
        let mailer = self
            .mailer
            .as_ref()
            .map_err(|e| JobError::permanent(e.clone()))?;
        let (subject, body) = ctx
            .with_store(move |store| {
                let conn = store.conn();
                let order = orders::get(conn, payload.order_id)
                    .map_err(|e| JobError::store(&e))?
                    .ok_or_else(|| {
                        JobError::permanent(format!(
                            "order id {} no longer exists",
                            payload.order_id
                        ))
                    })?;
                let lines = orders::lines(conn, order.id).map_err(|e| JobError::store(&e))?;
                Ok(compose(&order.number, order.customer.as_deref(), &lines))
            })
            .await?;
        let message_id = mailer.stable_message_id(&[
            "backorder",
            &job_id.to_string(),
            &job.created_at.to_string(),
        ]);
        let answer = mailer
            .send_as(&self.recipients, &subject, body, Some(message_id.clone()))
            .await
            .map_err(job_error)?;
        record_accepted(ctx, job_id, format!("{message_id} {answer}")).await;
        Ok(())
    }
}

/// The acceptance an earlier run of this job recorded, if any.
pub(super) async fn accepted_before(
    ctx: &JobContext,
    job_id: i64,
) -> Result<Option<String>, JobError> {
    ctx.with_store(move |s| {
        jobs::effect(s.conn(), job_id, EMAIL_ACCEPTED)
            .map(|e| e.map(|e| e.detail))
            .map_err(|e| JobError::store(&e))
    })
    .await
}

/// Records at once that the mail server accepted the job's message. A store that refuses the write is
/// tried a few more times; if it still refuses, the job reports done all the same (the engine writes that
/// down once the store is back), since failing it would send the mail again.
async fn record_accepted(ctx: &JobContext, job_id: i64, detail: String) {
    let mut wait = Duration::from_millis(50);
    for _ in 0..6 {
        let detail = detail.clone();
        let written = ctx
            .with_store(move |s| {
                s.write(|tx| jobs::record_effect(tx, job_id, EMAIL_ACCEPTED, &detail, now_ms()))
                    .map_err(|e| JobError::store(&e))
            })
            .await;
        match written {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(job = job_id, error = %e.message, "could not record the accepted mail yet");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
}

impl JobHandler for BackorderEmail {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.send(job, ctx))
    }
}

/// Subject and plain-text body of the notice.
pub fn compose(
    number: &str,
    customer: Option<&str>,
    lines: &[orders::OrderLine],
) -> (String, String) {
    let subject = format!("Backorder: order {number} needs purchasing");
    let mut body = format!(
        "Order {number}{} is on backorder.\nThese items need to be purchased:\n\n",
        customer.map(|c| format!(" for {c}")).unwrap_or_default()
    );
    body.push_str(&format!(
        "{:<24} {:>8} {:>8} {:>8}\n",
        "SKU", "ordered", "shipped", "needed"
    ));
    for l in lines {
        body.push_str(&format!(
            "{:<24} {:>8} {:>8} {:>8}\n",
            l.sku,
            l.quantity,
            l.quantity_shipped,
            (l.quantity - l.quantity_shipped).max(0)
        ));
    }
    body.push_str(
        "\nSent by syncdesk. Move the order back to Processing once the stock has arrived.\n",
    );
    (subject, body)
}
