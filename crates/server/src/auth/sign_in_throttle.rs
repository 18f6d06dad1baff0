//! Refuses sign-ins to a user name after repeated failures: [`MAX_FAILURES`] wrong passwords within
//! [`WINDOW`] lock that name for the rest of the window, whatever password comes next. Every name is treated
//! alike, known or not, so the lock says nothing about which accounts exist. Argon2's cost already slows each
//! guess; this stops a patient guesser from trying more than a handful of passwords per window.
//!
//! The record lives in memory (a restart clears it) and holds at most [`MAX_NAMES`] names, dropping the ones
//! whose failures are oldest first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Failed sign-ins that lock a user name.
pub const MAX_FAILURES: usize = 5;
/// How long failures are remembered (and a lock lasts, counted from the oldest remembered failure).
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The most user names remembered at once.
pub const MAX_NAMES: usize = 10_000;

/// Recent failed sign-ins per user name.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SignInThrottle {
    fn failures(&self) -> MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl SignInThrottle {
    /// How long `username` stays locked at `now`, or `None` when it may try.
    pub fn locked_for(&self, username: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures();
        let recent = failures.get_mut(&key(username))?;
        recent.retain(|at| now.duration_since(*at) < WINDOW);
        if recent.len() < MAX_FAILURES {
            return None;
        }
        recent.front().map(|oldest| WINDOW.saturating_sub(now.duration_since(*oldest)))
    }

    /// Records a failed sign-in of `username` at `now`.
    pub fn record_failure(&self, username: &str, now: Instant) {
        let mut failures = self.failures();
        if failures.len() >= MAX_NAMES && !failures.contains_key(&key(username)) {
            let oldest = failures.iter().min_by_key(|(_, times)| times.back().copied()).map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                failures.remove(&oldest);
            }
        }
        let recent = failures.entry(key(username)).or_default();
        recent.retain(|at| now.duration_since(*at) < WINDOW);
        recent.push_back(now);
    }

    /// Forgets the failures of `username` (after it signed in).
    pub fn clear(&self, username: &str) {
        self.failures().remove(&key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_name_until_the_window_passes() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for minute in 0..MAX_FAILURES as u64 {
            assert_eq!(throttle.locked_for("Alice", start + Duration::from_secs(minute * 60)), None);
            throttle.record_failure("alice ", start + Duration::from_secs(minute * 60));
        }
        let locked = throttle.locked_for("ALICE", start + Duration::from_secs(300)).expect("locked");
        assert_eq!(locked, Duration::from_secs(600));
        assert_eq!(throttle.locked_for("bob", start), None, "other names are not affected");
        assert_eq!(throttle.locked_for("alice", start + WINDOW), None, "the oldest failure has expired");
        throttle.clear("alice");
        assert_eq!(throttle.locked_for("alice", start + Duration::from_secs(300)), None);
    }
}
