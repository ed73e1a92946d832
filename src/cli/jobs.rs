//! `syncdesk jobs …`: look at the background queue, retry dead jobs, discard what should not run.

use clap::Subcommand;

use super::{CliResult, Context, Failure, output};
use crate::domain::time::{now_ms, to_short};
use crate::store::{Job, JobState};

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// queued, running, retrying, done, dead or cancelled.
        #[arg(long, value_parser = parse_state)]
        state: Option<JobState>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
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
            );
            Ok(())
        }
        JobsCommand::Retry { id: Some(id), .. } => {
            let job = app.retry_job(id)?;
            println!("job {} ({}) queued to run now", job.id, job.kind);
            Ok(())
        }
        JobsCommand::Retry { id: None, .. } => {
            let n = app.retry_all_dead()?;
            println!("{n} dead job(s) queued to run now");
            Ok(())
        }
        JobsCommand::Discard { id } => {
            let job = app.discard_job(id)?;
            println!("job {} ({}) discarded", job.id, job.kind);
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
