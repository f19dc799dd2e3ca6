//! A small circuit breaker: after `threshold` consecutive failures it
//! opens and refuses calls for `cooldown`; then it lets one trial call
//! through (half-open), which closes it on success or opens it again on
//! failure. While open, a dead dependency costs callers nothing.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the breaker lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One trial call is in flight; others are refused.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { since: Instant },
}

/// The breaker, shared by every clone of a client.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker opening after `threshold` (at least 1) consecutive
    /// failures, for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a call may go out now. When the cool-down is over this
    /// admits one trial call and refuses the rest until it reports back
    /// (or until another cool-down passes, should the trial be abandoned).
    pub fn try_acquire(&self) -> bool {
        let mut inner = self.lock();
        let now = Instant::now();
        match *inner {
            Inner::Closed { .. } => true,
            Inner::Open { until } | Inner::HalfOpen { since: until } if now < until => false,
            Inner::Open { .. } | Inner::HalfOpen { .. } => {
                *inner = Inner::HalfOpen {
                    since: now + self.cooldown,
                };
                true
            }
        }
    }

    /// A call succeeded: close.
    pub fn record_success(&self) {
        let mut inner = self.lock();
        if !matches!(*inner, Inner::Closed { .. }) {
            tracing::info!("circuit breaker closed");
        }
        *inner = Inner::Closed { failures: 0 };
    }

    /// A call failed: count it, and open at the threshold (or at once
    /// after a failed trial).
    pub fn record_failure(&self) {
        let mut inner = self.lock();
        let open = match *inner {
            Inner::Closed { failures } => {
                let failures = failures.saturating_add(1);
                *inner = Inner::Closed { failures };
                failures >= self.threshold
            }
            Inner::HalfOpen { .. } | Inner::Open { .. } => true,
        };
        if open {
            if !matches!(*inner, Inner::Open { .. }) {
                tracing::warn!(
                    cooldown_ms = self.cooldown.as_millis() as u64,
                    "circuit breaker opened"
                );
            }
            *inner = Inner::Open {
                until: Instant::now() + self.cooldown,
            };
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() < until => BreakerState::Open,
            // The cool-down is over: the next call is the trial.
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether calls are being refused.
    pub fn is_open(&self) -> bool {
        self.state() == BreakerState::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_closes_after_a_good_trial() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(50));
        assert!(breaker.try_acquire());
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.try_acquire());
        breaker.record_failure();
        assert!(breaker.is_open());
        assert!(!breaker.try_acquire());
        std::thread::sleep(Duration::from_millis(60));
        assert!(breaker.try_acquire(), "the trial call goes through");
        assert!(!breaker.try_acquire(), "only one trial at a time");
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.try_acquire());
    }

    #[test]
    fn a_failed_trial_opens_again() {
        let breaker = CircuitBreaker::new(1, Duration::from_millis(30));
        breaker.record_failure();
        assert!(breaker.is_open());
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.try_acquire());
        breaker.record_failure();
        assert!(breaker.is_open());
        assert!(!breaker.try_acquire());
    }

    #[test]
    fn a_success_resets_the_count() {
        let breaker = CircuitBreaker::new(2, Duration::from_secs(60));
        breaker.record_failure();
        breaker.record_success();
        breaker.record_failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
