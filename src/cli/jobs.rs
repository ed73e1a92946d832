//! `syncdesk jobs …`: look at the background queue and one job's attempt history, retry dead jobs, discard
//! what should not run.

use clap::Subcommand;

use super::{CliResult, Context, Failure, output};
use crate::domain::time::{now_ms, to_rfc3339, to_short};
use crate::engine::retry::span;
use crate::store::jobs::JobDetail;
use crate::store::{Job, JobState};

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// queued, running, retrying, done, dead or cancelled.
        #[arg(long, value_parser = parse_state)]
        state: Option<JobState>,
        /// At most this many jobs, newest first.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One job: its state, why it failed, every attempt (start, end, outcome, message) and what it did.
    Show {
        id: i64,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run a job again now with a fresh attempt budget.
    Retry {
        /// The job id.
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        id: Option<i64>,
        /// Every dead job.
        #[arg(long)]
        all_dead: bool,
    },
    /// Cancel a job that has not finished.
    Discard { id: i64 },
}

fn parse_state(s: &str) -> Result<JobState, String> {
    JobState::parse(s).ok_or_else(|| {
        let all: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown state '{s}'; one of {}", all.join(", "))
    })
}

pub fn run(context: &Context, command: JobsCommand) -> CliResult {
    let mut app = context.app()?;
    match command {
        JobsCommand::List { state, limit, json } => {
            if limit <= 0 {
                return Err(Failure::rejected("--limit: must be positive"));
            }
            let jobs = app.jobs(state, limit)?;
            if json {
                return output::json(&jobs);
            }
            let now = now_ms();
            output::table(
                &[
                    "ID",
                    "KIND",
                    "KEY",
                    "STATE",
                    "ATTEMPTS",
                    "NEXT RUN",
                    "LAST ERROR",
                ],
                jobs.iter().map(|j| row(j, now)).collect(),
            )?;
            Ok(())
        }
        JobsCommand::Show { id, json } => {
            let detail = app.job_detail(id)?;
            if json {
                return output::json(&detail);
            }
            output::out!("{}", show(&detail, now_ms()))?;
            Ok(())
        }
        JobsCommand::Retry { id: Some(id), .. } => {
            let job = app.retry_job(id)?;
            output::outln!("job {} ({}) queued to run now", job.id, job.kind)?;
            Ok(())
        }
        JobsCommand::Retry { id: None, .. } => {
            let n = app.retry_all_dead()?;
            output::outln!("{n} dead job(s) queued to run now")?;
            Ok(())
        }
        JobsCommand::Discard { id } => {
            let job = app.discard_job(id)?;
            output::outln!("job {} ({}) discarded", job.id, job.kind)?;
            Ok(())
        }
    }
}

fn row(j: &Job, now: i64) -> Vec<String> {
    let next = match j.state {
        JobState::Queued | JobState::Retrying if j.run_at <= now => "now".to_string(),
        JobState::Queued | JobState::Retrying => to_short(j.run_at),
        _ => "-".to_string(),
    };
    vec![
        j.id.to_string(),
        j.kind.clone(),
        j.key.clone().unwrap_or_default(),
        j.state.as_str().to_string(),
        format!("{}/{}", j.attempts, j.max_attempts),
        next,
        j.last_error.clone().unwrap_or_default(),
    ]
}

/// `jobs show`: the job, then its attempts oldest first, then its recorded effects.
pub fn show(d: &JobDetail, now: i64) -> String {
    let j = &d.job;
    let mut out = format!(
        "job {} · {}{} · {}\n",
        j.id,
        j.kind,
        j.key
            .as_deref()
            .map(|k| format!(" ({k})"))
            .unwrap_or_default(),
        j.state.as_str()
    );
    out.push_str(&format!(
        "created {} · attempts {} (at least {} before giving up)\n",
        to_rfc3339(j.created_at),
        j.attempts,
        j.max_attempts
    ));
    if let Some(first) = d.first_failed_at {
        out.push_str(&format!(
            "failing since {} ({} ago)\n",
            to_rfc3339(first),
            span(now - first)
        ));
    }
    if matches!(j.state, JobState::Queued | JobState::Retrying) {
        out.push_str(&format!("next try {}\n", to_rfc3339(j.run_at)));
    }
    if let Some(outcome) = &j.outcome {
        out.push_str(&format!("outcome: {outcome}\n"));
    }
    if let Some(e) = &j.last_error {
        let class = d.error_class.map(|c| c.as_str()).unwrap_or("error");
        out.push_str(&format!("error ({class}): {e}\n"));
    }
    if let Some(old) = d.supersedes {
        out.push_str(&format!(
            "replaced failing job {old} (its attempts are listed below)\n"
        ));
    }
    out.push_str("\nattempts:\n");
    if d.history.is_empty() {
        out.push_str("  none yet\n");
    }
    for a in &d.history {
        let of = if a.job_id == j.id {
            String::new()
        } else {
            format!(" [job {}]", a.job_id)
        };
        out.push_str(&format!(
            "  #{:<3} {} → {} ({:>8}) {:<9} {}{}\n",
            a.attempt,
            to_rfc3339(a.started_at),
            &to_rfc3339(a.ended_at)[11..],
            span(a.ended_at - a.started_at),
            a.outcome,
            a.message.as_deref().unwrap_or(""),
            of
        ));
    }
    if !d.effects.is_empty() {
        out.push_str("\neffects:\n");
        for e in &d.effects {
            out.push_str(&format!(
                "  {} {} {}\n",
                to_rfc3339(e.recorded_at),
                e.effect,
                e.detail
            ));
        }
    }
    out
}
