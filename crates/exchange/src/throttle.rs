//! The throttle every clone of a [`crate::ExchangeClient`] shares: an adaptive concurrency limit and a pause
//! that holds every sender.
//!
//! Every HTTP request first takes a [`Permit`] from [`Throttle::acquire`], which waits while a pause is in force
//! or while as many requests as the current limit are in flight. The limit starts at `max_concurrency`; the
//! tenant's "maximum number of concurrent requests" 429 halves it ([`Throttle::halve`], at least 1), and each run
//! of successes as long as the current limit raises it by one, up to `max_concurrency` (additive increase,
//! multiplicative decrease). A spent request quota — a JSON 429 with `Retry-After`, or `Rate-Limit-Remaining: 0`
//! until `Rate-Limit-Reset` — pauses every sender ([`Throttle::pause_for`]) without touching the limit: sending
//! fewer at once would not bring the quota back sooner. Waiting uses a `Notify` (woken when a permit is
//! returned) and the pause's deadline, never polling.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug)]
struct State {
    /// The current concurrency limit (1..=max).
    limit: usize,
    /// Requests holding a permit.
    in_flight: usize,
    /// Successes since the limit last changed.
    successes: usize,
    /// No request starts before this instant.
    paused_until: Option<Instant>,
}

/// Shared throttle state (cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max: usize,
    state: Mutex<State>,
    released: Notify,
}

/// The right to have one HTTP request in flight; returned on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    inner: Arc<Inner>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        {
            let mut state = lock(&self.inner.state);
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.inner.released.notify_waiters();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding this lock cannot leave the counters inconsistent in a harmful way.
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Throttle {
    /// A throttle allowing up to `max_concurrency` requests in flight (at least 1).
    pub(crate) fn new(max_concurrency: usize) -> Throttle {
        let max = max_concurrency.max(1);
        Throttle {
            inner: Arc::new(Inner {
                max,
                state: Mutex::new(State { limit: max, in_flight: 0, successes: 0, paused_until: None }),
                released: Notify::new(),
            }),
        }
    }

    /// Waits for any pause to pass and for a free slot under the current limit.
    pub(crate) async fn acquire(&self) -> Permit {
        loop {
            let released = self.inner.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let pause = {
                let mut state = lock(&self.inner.state);
                match state.paused_until {
                    Some(until) if until > Instant::now() => Some(until),
                    _ => {
                        state.paused_until = None;
                        if state.in_flight < state.limit {
                            state.in_flight += 1;
                            return Permit { inner: Arc::clone(&self.inner) };
                        }
                        None
                    }
                }
            };
            match pause {
                Some(until) => tokio::time::sleep_until(until).await,
                None => released.await,
            }
        }
    }

    /// Records a refusal for too many concurrent requests: halves the limit (at least 1).
    pub(crate) fn halve(&self) {
        let mut state = lock(&self.inner.state);
        state.limit = (state.limit / 2).max(1);
        state.successes = 0;
    }

    /// Holds every sender for `pause` (a longer pause already in force stays).
    pub(crate) fn pause_for(&self, pause: Duration) {
        let mut state = lock(&self.inner.state);
        let until = Instant::now() + pause;
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// Records a request that was not throttled: after a run of successes as long as the limit, raises it by one.
    pub(crate) fn succeeded(&self) {
        let raised = {
            let mut state = lock(&self.inner.state);
            state.successes += 1;
            if state.successes >= state.limit && state.limit < self.inner.max {
                state.limit += 1;
                state.successes = 0;
                true
            } else {
                false
            }
        };
        if raised {
            self.inner.released.notify_waiters();
        }
    }

    /// The current concurrency limit.
    pub(crate) fn limit(&self) -> usize {
        lock(&self.inner.state).limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halving_and_successes_move_the_limit_within_bounds() {
        let throttle = Throttle::new(8);
        throttle.halve();
        assert_eq!(throttle.limit(), 4);
        for _ in 0..5 {
            throttle.halve();
        }
        assert_eq!(throttle.limit(), 1, "never below one");
        throttle.succeeded();
        assert_eq!(throttle.limit(), 2);
        for _ in 0..100 {
            throttle.succeeded();
        }
        assert_eq!(throttle.limit(), 8, "never above the maximum");
    }

    #[tokio::test]
    async fn permits_are_limited_and_returned() {
        let throttle = Throttle::new(1);
        let first = throttle.acquire().await;
        let waiting = tokio::spawn({
            let throttle = throttle.clone();
            async move {
                let _second = throttle.acquire().await;
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a second permit waits while the only one is out");
        drop(first);
        waiting.await.expect("the second permit is granted once the first is returned");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_sender_and_keeps_the_limit() {
        let throttle = Throttle::new(4);
        throttle.pause_for(Duration::from_secs(5));
        throttle.pause_for(Duration::from_secs(1));
        let started = Instant::now();
        let _permit = throttle.acquire().await;
        assert!(started.elapsed() >= Duration::from_secs(5), "the longer pause wins");
        assert_eq!(throttle.limit(), 4);
    }
}
