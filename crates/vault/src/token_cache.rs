//! A cache for one access token, shared by every token provider in `vault` (client credentials today, delegated
//! refresh tokens later).
//!
//! The cached token is handed out until [`TokenCache::DEFAULT_MARGIN`] (five minutes) before it expires. When it
//! has to be refreshed, exactly one caller runs the refresh while every concurrent caller waits for that refresh
//! and receives its outcome — the token, or the same error — instead of starting a request of its own
//! (single-flight). A refresh that is cancelled (its caller's future dropped) simply lets the next waiter try.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use model::{AccessToken, TokenError};
use tokio::sync::Mutex;

/// Where a [`TokenCache`] reads the time.
type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The last refresh and what it gave.
#[derive(Default)]
struct Slot {
    /// The token in hand, valid or not.
    token: Option<AccessToken>,
    /// The error of the last refresh, with that refresh's number, when it failed.
    failure: Option<(u64, TokenError)>,
}

/// One cached access token with single-flight refresh. See the module documentation.
pub struct TokenCache {
    slot: Mutex<Slot>,
    /// Refreshes finished so far (successful or not); also numbers them.
    refreshes: AtomicU64,
    margin: Duration,
    clock: Clock,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenCache")
            .field("refreshes", &self.refreshes.load(Ordering::Relaxed))
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenCache {
    /// How long before its expiry a cached token is replaced.
    pub const DEFAULT_MARGIN: Duration = Duration::minutes(5);

    /// An empty cache using the system clock and [`Self::DEFAULT_MARGIN`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_clock(Self::DEFAULT_MARGIN, Utc::now)
    }

    /// An empty cache that replaces tokens `margin` before their expiry and reads the time from `clock`.
    #[must_use]
    pub fn with_clock(margin: Duration, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Self { slot: Mutex::new(Slot::default()), refreshes: AtomicU64::new(0), margin, clock: Arc::new(clock) }
    }

    /// The cached token when it is still valid for more than the margin; otherwise runs `refresh` (at most one
    /// refresh at a time across all callers) and caches what it returns.
    ///
    /// A caller that waited while another caller's refresh ran gets that refresh's result, error included, so a
    /// broken credential costs one request however many callers asked at once.
    ///
    /// # Errors
    ///
    /// The error of the refresh this call ran or waited for.
    pub async fn get_or_refresh<F, Fut>(&self, refresh: F) -> Result<AccessToken, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, TokenError>>,
    {
        let seen = self.refreshes.load(Ordering::Acquire);
        let mut slot = self.slot.lock().await;
        if let Some(token) = &slot.token
            && self.is_fresh(token)
        {
            return Ok(token.clone());
        }
        if let Some((number, error)) = &slot.failure
            && *number > seen
        {
            return Err(error.clone());
        }
        let outcome = refresh().await;
        let number = self.refreshes.fetch_add(1, Ordering::AcqRel) + 1;
        match &outcome {
            Ok(token) => {
                slot.token = Some(token.clone());
                slot.failure = None;
            }
            Err(error) => slot.failure = Some((number, error.clone())),
        }
        outcome
    }

    /// Forgets the cached token (e.g. after an API refused it), so the next call refreshes.
    pub async fn invalidate(&self) {
        self.slot.lock().await.token = None;
    }

    /// How many refreshes have finished (successfully or not) since the cache was made.
    #[must_use]
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Acquire)
    }

    fn is_fresh(&self, token: &AccessToken) -> bool {
        token.expires_at - self.margin > (self.clock)()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI64;

    use model::Secret;

    use super::*;

    fn token(text: &str, expires_at: DateTime<Utc>) -> AccessToken {
        AccessToken { token: Secret::new(text), expires_at }
    }

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("valid timestamp")
    }

    /// A cache whose clock is `start()` plus the seconds stored in the returned counter.
    fn cache_with_manual_clock() -> (TokenCache, Arc<AtomicI64>) {
        let offset = Arc::new(AtomicI64::new(0));
        let reader = offset.clone();
        let cache = TokenCache::with_clock(TokenCache::DEFAULT_MARGIN, move || {
            start() + Duration::seconds(reader.load(Ordering::SeqCst))
        });
        (cache, offset)
    }

    #[tokio::test]
    async fn a_token_is_reused_until_five_minutes_before_expiry() {
        let (cache, offset) = cache_with_manual_clock();
        let expires = start() + Duration::hours(1);
        let first = cache.get_or_refresh(|| async { Ok(token("one", expires)) }).await.expect("first");
        assert_eq!(first.token.expose(), "one");

        offset.store(Duration::minutes(54).num_seconds() + 59, Ordering::SeqCst);
        let cached = cache.get_or_refresh(|| async { Ok(token("two", expires)) }).await.expect("cached");
        assert_eq!(cached.token.expose(), "one");
        assert_eq!(cache.refreshes(), 1);

        offset.store(Duration::minutes(55).num_seconds(), Ordering::SeqCst);
        let renewed =
            cache.get_or_refresh(|| async { Ok(token("two", expires + Duration::hours(1))) }).await.expect("renewed");
        assert_eq!(renewed.token.expose(), "two");
        assert_eq!(cache.refreshes(), 2);
    }

    #[tokio::test]
    async fn invalidate_forces_a_refresh() {
        let cache = TokenCache::new();
        let expires = Utc::now() + Duration::hours(1);
        cache.get_or_refresh(|| async { Ok(token("one", expires)) }).await.expect("first");
        cache.invalidate().await;
        let renewed = cache.get_or_refresh(|| async { Ok(token("two", expires)) }).await.expect("second");
        assert_eq!(renewed.token.expose(), "two");
    }

    #[tokio::test]
    async fn a_failure_is_not_cached_for_later_callers() {
        let cache = TokenCache::new();
        let error = TokenError { message: "down".into(), transient: true, needs_relink: false };
        let failed = cache.get_or_refresh(|| async { Err(error.clone()) }).await;
        assert_eq!(failed.expect_err("fails"), error);
        let expires = Utc::now() + Duration::hours(1);
        let recovered = cache.get_or_refresh(|| async { Ok(token("one", expires)) }).await.expect("recovers");
        assert_eq!(recovered.token.expose(), "one");
        assert_eq!(cache.refreshes(), 2);
    }

    #[tokio::test]
    async fn waiting_callers_share_one_failed_refresh() {
        let cache = Arc::new(TokenCache::new());
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (entered, has_entered) = tokio::sync::oneshot::channel::<()>();
        let leader = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_or_refresh(|| async move {
                        entered.send(()).expect("test waits");
                        released.await.expect("released");
                        Err(TokenError { message: "AADSTS7000215: bad".into(), transient: false, needs_relink: false })
                    })
                    .await
            })
        };
        has_entered.await.expect("leader refreshing");
        let calls = AtomicU64::new(0);
        let mut followers: Vec<_> = (0..5)
            .map(|_| {
                Box::pin(cache.get_or_refresh(|| async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(TokenError { message: "second".into(), transient: false, needs_relink: false })
                }))
            })
            .collect();
        // Poll each follower once: it notes the refresh count and queues on the lock the leader holds.
        std::future::poll_fn(|context| {
            for follower in &mut followers {
                assert!(follower.as_mut().poll(context).is_pending());
            }
            std::task::Poll::Ready(())
        })
        .await;
        release.send(()).expect("leader waits");
        assert!(leader.await.expect("joins").is_err());
        for follower in followers {
            let error = follower.await.expect_err("shares the failure");
            assert_eq!(error.message, "AADSTS7000215: bad");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(cache.refreshes(), 1);
    }
}
