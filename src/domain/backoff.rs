//! Retry timing: exponential backoff with full jitter and a cap, overridden by a server's `Retry-After`.
//! Full jitter (a uniform pick in `[0, min(cap, base·2^n)]`) spreads retries of many jobs that failed together.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The largest delay the jitter may pick after `attempt` failures (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(32);
        let grown = self.base.saturating_mul(1u32 << exp.min(31));
        grown.min(self.cap)
    }

    /// The delay before the next try. `rand01` is a uniform sample in `[0, 1)`; a `retry_after` given by the
    /// server wins over the computed delay (capped at an hour so a broken header cannot park a job for days).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, rand01: f64) -> Duration {
        if let Some(server) = retry_after {
            return server.min(Duration::from_secs(3600));
        }
        self.ceiling(attempt).mul_f64(rand01.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Backoff {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
        }
    }

    #[test]
    fn ceiling_doubles_until_the_cap() {
        let p = policy();
        assert_eq!(p.ceiling(1), Duration::from_millis(500));
        assert_eq!(p.ceiling(2), Duration::from_secs(1));
        assert_eq!(p.ceiling(4), Duration::from_secs(4));
        assert_eq!(p.ceiling(8), Duration::from_secs(60));
        assert_eq!(p.ceiling(400), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_the_ceiling() {
        let p = policy();
        for attempt in 1..20 {
            for r in [0.0, 0.3, 0.999] {
                assert!(p.delay(attempt, None, r) <= p.ceiling(attempt));
            }
        }
    }

    #[test]
    fn retry_after_overrides_but_is_bounded() {
        let p = policy();
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2)), 0.0),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(99_999)), 0.5),
            Duration::from_secs(3600)
        );
    }
}
