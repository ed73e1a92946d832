//! The one retry loop of the HTTP clients: repeat a failed call within a budget, waiting what the server's
//! `Retry-After` asks or else full-jitter backoff (`domain::backoff`, shared with the job engine). A write
//! that must not be repeated blindly goes through the same loop in the `OnlyIfNotApplied` mode.

use super::failure::{Failure, HttpFailure};
use crate::domain::backoff::Backoff;
use std::time::Duration;

/// How many times, and how patiently, an HTTP client repeats a failed call within one job attempt.
pub struct RetryBudget {
    pub max_attempts: u32,
    /// A server asking to wait longer than this gets the wait handed to the job engine instead of holding
    /// a worker.
    pub max_retry_after: Duration,
    pub backoff: Backoff,
}

/// A client configuration's retry fields (every HTTP client's config has the same four).
pub trait RetrySettings {
    /// `(max_attempts, max_retry_after, backoff_base, backoff_cap)`.
    fn retry_settings(&self) -> (u32, Duration, Duration, Duration);
}

impl RetryBudget {
    /// The budget a client's configuration sets.
    pub fn of(cfg: &impl RetrySettings) -> RetryBudget {
        let (max_attempts, max_retry_after, base, cap) = cfg.retry_settings();
        RetryBudget {
            max_attempts,
            max_retry_after,
            backoff: Backoff { base, cap },
        }
    }
}

/// Whether resending after an ambiguous failure (the request may have been applied) is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Reads, and writes that set values: repeating them is safe.
    Safe,
    /// Writes that add something (a note, a document) or set values a sale may have changed since: resent
    /// only when they surely were not applied; otherwise the caller looks before sending again.
    OnlyIfNotApplied,
}

impl Resend {
    fn allows(self, failure: Failure) -> bool {
        match (self, failure) {
            (_, Failure::Final) => false,
            (Resend::Safe, _) => true,
            (Resend::OnlyIfNotApplied, failure) => matches!(failure, Failure::NotApplied { .. }),
        }
    }
}

/// Runs `attempt` until it succeeds, `resend` refuses the failure, the budget is spent, or the server asks
/// for a longer wait than the budget allows. `system` names the server in the debug log.
pub async fn with_retries<T, E, Fut>(
    budget: &RetryBudget,
    system: &str,
    resend: Resend,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: HttpFailure,
{
    let mut retry = 0;
    loop {
        let error = match attempt().await {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        retry += 1;
        let failure = error.failure();
        if !resend.allows(failure) || retry >= budget.max_attempts {
            return Err(error);
        }
        let delay = match failure.retry_after() {
            Some(wait) if wait > budget.max_retry_after => return Err(error),
            Some(wait) => wait,
            None => budget.backoff.delay(retry, None, fastrand::f64()),
        };
        tracing::debug!(error = %error, ?delay, retry, "retrying {system} call");
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_if_not_applied_resends_only_what_never_took_effect() {
        let not_applied = Failure::NotApplied { retry_after: None };
        let transient = Failure::Transient { retry_after: None };
        assert!(Resend::Safe.allows(transient));
        assert!(Resend::OnlyIfNotApplied.allows(not_applied));
        assert!(!Resend::OnlyIfNotApplied.allows(transient));
        assert!(!Resend::Safe.allows(Failure::Final));
    }
}
