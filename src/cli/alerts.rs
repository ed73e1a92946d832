//! `syncdesk alerts …`: see what the engine raised (negative stock, failures, drift…) and acknowledge it.

use clap::Subcommand;

use super::{CliResult, Context, Failure, output};
use crate::domain::time::{age, now_ms};

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// List open alerts, newest first.
    List {
        /// Include acknowledged alerts.
        #[arg(long)]
        all: bool,
        /// At most this many alerts, newest first.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON (stable field names) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an open alert; the same condition may then raise a new one.
    Ack {
        /// The alert id.
        id: i64,
    },
}

pub fn run(context: &Context, command: AlertsCommand) -> CliResult {
    let mut app = context.app()?;
    match command {
        AlertsCommand::List { all, limit, json } => {
            if limit <= 0 {
                return Err(Failure::rejected("--limit: must be positive"));
            }
            let alerts = app.alerts(all, limit)?;
            if json {
                return output::json(&alerts);
            }
            let now = now_ms();
            let rows = alerts
                .iter()
                .map(|a| {
                    let state = match (&a.acknowledged_by, a.emailed_at) {
                        (Some(by), _) => format!("acked by {by}"),
                        (None, Some(_)) => "open, mailed".to_string(),
                        (None, None) => "open".to_string(),
                    };
                    vec![
                        a.id.to_string(),
                        a.severity.clone(),
                        a.kind.clone(),
                        age(a.created_at, now),
                        state,
                        a.subject.clone(),
                    ]
                })
                .collect();
            output::table(&["ID", "SEVERITY", "KIND", "AGE", "STATE", "SUBJECT"], rows)?;
            Ok(())
        }
        AlertsCommand::Ack { id } => {
            let alert = app.acknowledge_alert(id)?;
            output::outln!("alert {} ({}) acknowledged", alert.id, alert.subject)?;
            Ok(())
        }
    }
}
