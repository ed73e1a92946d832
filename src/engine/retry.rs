//! When a failed job runs again, or ends. Transient failures are retried with capped, jittered backoff for a
//! time budget per kind counted from the job's first failure (carried over when a newer job supersedes a
//! failing one), so a job outlasts real outages yet still ends; permanent errors and refusals end it at once.

use std::time::Duration;

use super::handler::{ErrorClass, JobError};
use crate::config::JobsConfig;
use crate::domain::backoff::Backoff;
use crate::domain::time::Millis;

/// How a kind of job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    /// How long after its first failure a job may still be retried.
    pub budget: Duration,
    /// Tries a job gets even when its budget is already spent (slow failures still get a few).
    pub min_attempts: u32,
}

/// What happens to a job after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// When to try again; `None`: the job is dead.
    pub retry_at: Option<Millis>,
    /// What the job shows as its error.
    pub message: String,
}

impl RetryPolicy {
    pub fn for_kind(cfg: &JobsConfig, kind: &str) -> Self {
        RetryPolicy {
            backoff: cfg.backoff(),
            budget: cfg.retry_for(kind),
            min_attempts: cfg.max_attempts_for(kind),
        }
    }

    /// Decides after attempt number `attempts` failed with `error` at `now`; `first_failed_at` is the job's
    /// first failure before this one, if any. `rand01` is the jitter sample in `[0, 1)`.
    pub fn decide(
        &self,
        attempts: u32,
        first_failed_at: Option<Millis>,
        now: Millis,
        error: &JobError,
        rand01: f64,
    ) -> Decision {
        if error.class != ErrorClass::Transient {
            return Decision {
                retry_at: None,
                message: error.message.clone(),
            };
        }
        let failing_for = (now - first_failed_at.unwrap_or(now)).max(0);
        let spent = failing_for as u128 >= self.budget.as_millis();
        if spent && attempts >= self.min_attempts {
            return Decision {
                retry_at: None,
                message: format!(
                    "gave up after {attempts} attempts over {}: {}",
                    span(failing_for),
                    error.message
                ),
            };
        }
        let delay = self.backoff.delay(attempts, error.retry_after, rand01);
        Decision {
            retry_at: Some(now + delay.as_millis() as i64),
            message: error.message.clone(),
        }
    }
}

/// A duration for people: `850ms`, `42s`, `7m 05s`, `6h 00m`.
pub fn span(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    match s {
        0 => format!("{ms}ms"),
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_and_refused_end_at_once() {
        let p = RetryPolicy::for_kind(&JobsConfig::default(), "shop.push_status");
        for e in [
            JobError::permanent("HTTP 403 rest_cannot_edit"),
            JobError::refused("cannot change order status from pending to delivered"),
        ] {
            let d = p.decide(1, None, 1_000, &e, 0.5);
            assert_eq!(d.retry_at, None);
            assert_eq!(d.message, e.message);
        }
    }

    #[test]
    fn transient_failures_end_when_the_budget_and_the_minimum_tries_are_spent() {
        let p = RetryPolicy {
            backoff: Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(300),
            },
            budget: Duration::from_secs(60),
            min_attempts: 3,
        };
        let e = JobError::retry("connection refused");
        // Budget spent but only 2 tries: once more.
        assert!(p.decide(2, Some(0), 120_000, &e, 0.5).retry_at.is_some());
        // Tries enough but within the budget: again.
        assert!(p.decide(9, Some(0), 59_000, &e, 0.5).retry_at.is_some());
        let d = p.decide(3, Some(0), 60_000, &e, 0.5);
        assert_eq!(d.retry_at, None);
        assert_eq!(
            d.message,
            "gave up after 3 attempts over 1m 00s: connection refused"
        );
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(850), "850ms");
        assert_eq!(span(42_000), "42s");
        assert_eq!(span(425_000), "7m 05s");
        assert_eq!(span(6 * 3_600_000), "6h 00m");
    }
}
