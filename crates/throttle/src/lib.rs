//! The throttle each of Tenure's HTTP clients (Graph, Exchange) shares across its clones: an adaptive
//! concurrency limit (AIMD) and a pause that holds every sender.
//!
//! Every HTTP request first takes a [`Permit`] from [`Throttle::acquire`], which waits while a pause is in force
//! or while as many requests as the current limit are in flight. The limit starts at `max_concurrency`; a refusal
//! for sending too much at once halves it ([`Throttle::halve`], at least 1), and each run of successes as long as
//! the current limit raises it by one, up to `max_concurrency` (additive increase, multiplicative decrease). A
//! service's "retry after" pauses every sender ([`Throttle::pause_for`]); Graph's 429 does both
//! ([`Throttle::throttled`]). Waiting uses a `Notify` (woken when a permit is returned) and the pause's deadline,
//! never polling.
//!
//! The clients are I/O leaves that do not depend on each other; this crate is the one piece they share.

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
pub struct Throttle {
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
pub struct Permit {
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
    pub fn new(max_concurrency: usize) -> Throttle {
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
    pub async fn acquire(&self) -> Permit {
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

    /// Records a 429: halves the limit and pauses every sender for `retry_after`.
    pub fn throttled(&self, retry_after: Duration) {
        self.halve();
        self.pause_for(retry_after);
    }

    /// Records a refusal for too many concurrent requests: halves the limit (at least 1).
    pub fn halve(&self) {
        let mut state = lock(&self.inner.state);
        state.limit = (state.limit / 2).max(1);
        state.successes = 0;
    }

    /// Holds every sender for `pause` (a longer pause already in force stays).
    pub fn pause_for(&self, pause: Duration) {
        let mut state = lock(&self.inner.state);
        let until = Instant::now() + pause;
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// Records a request that was not throttled: after a run of successes as long as the limit, raises it by one.
    pub fn succeeded(&self) {
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
    pub fn limit(&self) -> usize {
        lock(&self.inner.state).limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_halves_the_limit_and_successes_raise_it_again() {
        let throttle = Throttle::new(8);
        assert_eq!(throttle.limit(), 8);
        throttle.throttled(Duration::ZERO);
        assert_eq!(throttle.limit(), 4);
        throttle.throttled(Duration::ZERO);
        throttle.throttled(Duration::ZERO);
        throttle.throttled(Duration::ZERO);
        assert_eq!(throttle.limit(), 1, "never below one");
        throttle.succeeded();
        assert_eq!(throttle.limit(), 2);
        throttle.succeeded();
        assert_eq!(throttle.limit(), 2, "a run as long as the limit is needed");
        throttle.succeeded();
        assert_eq!(throttle.limit(), 3);
        for _ in 0..100 {
            throttle.succeeded();
        }
        assert_eq!(throttle.limit(), 8, "never above the maximum");
    }

    #[tokio::test]
    async fn permits_are_limited_and_returned() {
        let throttle = Throttle::new(2);
        let first = throttle.acquire().await;
        let _second = throttle.acquire().await;
        let waiting = tokio::spawn({
            let throttle = throttle.clone();
            async move {
                let _third = throttle.acquire().await;
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a third permit waits while two are out");
        drop(first);
        waiting.await.expect("the third permit is granted once one is returned");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_sender_until_it_passes() {
        let throttle = Throttle::new(4);
        throttle.throttled(Duration::from_secs(5));
        let started = Instant::now();
        let _permit = throttle.acquire().await;
        assert!(started.elapsed() >= Duration::from_secs(5));
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
