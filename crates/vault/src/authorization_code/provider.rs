//! Access tokens of a linked delegated connection: the `refresh_token` grant on the stored refresh token.
//!
//! - **Rotation.** Every redemption returns a new refresh token, saved at once through
//!   [`RefreshTokenStore::save_rotated`] (a compare-and-swap on the token that was used). When the swap is lost,
//!   another process rotated first: its token stays, the access token in hand is still good, and the next
//!   refresh loads the newest token again. The identity platform leaves used refresh tokens valid (reference
//!   §1.3), so the race costs nothing.
//! - **One refresh at a time.** Access tokens are cached in a [`TokenCache`] until five minutes before expiry;
//!   concurrent callers of one provider share one refresh.
//! - **Re-link.** `invalid_grant` (revoked, expired after 90 idle days, consent withdrawn, password reset, user
//!   gone) and `interaction_required` (a sign-in is needed) mean nothing works until an admin links again: the
//!   provider first checks that the store has no newer token (another process may just have re-linked), then
//!   calls [`RefreshTokenStore::mark_needs_relink`] with a plain reason and the AADSTS code, and answers a
//!   [`TokenError`] with `needs_relink`. Network failures, 5xx and throttling are transient and change nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use model::{AccessToken, AccessTokenProvider, Secret, TokenError, TokenFuture};

use super::DelegatedAppConfig;
use super::confidential_client::ConfidentialClient;
use crate::error::{Error, Result};
use crate::token_cache::TokenCache;
use crate::token_endpoint::{EndpointFailure, FormValue};

/// The boxed future a [`RefreshTokenStore`] method returns. A store failure is a [`TokenError`] (usually
/// transient: the database is unreachable).
pub type TokenStoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TokenError>> + Send + 'a>>;

/// Where a delegated connection's refresh token lives (sealed), implemented by the engine over the store.
pub trait RefreshTokenStore: Send + Sync {
    /// The newest refresh token.
    fn load(&self) -> TokenStoreFuture<'_, Secret>;

    /// Replaces `previous` by `newest` atomically; `false` when the stored token is no longer `previous`
    /// (another process rotated first — its token is kept).
    fn save_rotated(&self, previous: &Secret, newest: Secret) -> TokenStoreFuture<'_, bool>;

    /// Records that the connection needs to be linked again, and why (plain words with the AADSTS code).
    fn mark_needs_relink(&self, reason: String) -> TokenStoreFuture<'_, ()>;
}

/// Delegated access tokens for one resource of one linked tenant. See the module documentation.
pub struct DelegatedTokenProvider {
    client: ConfidentialClient,
    /// The `scope` of each refresh: the resource's `/.default` plus `offline_access`.
    scope: String,
    store: Arc<dyn RefreshTokenStore>,
    cache: TokenCache,
}

impl std::fmt::Debug for DelegatedTokenProvider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DelegatedTokenProvider")
            .field("client", &self.client)
            .field("scope", &self.scope)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl DelegatedTokenProvider {
    /// A provider for `resource_scope` (e.g. [`super::graph_resource_scope`]: `https://graph.microsoft.com/.default`)
    /// with the refresh token in `store`. `config.tenant` should be the linked tenant's id. Sends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a malformed tenant, client id, login URL or an empty scope; the certificate
    /// errors of [`crate::ClientCredentialsProvider::new`] for a provider-app certificate that cannot work.
    pub fn new(config: DelegatedAppConfig, resource_scope: String, store: Arc<dyn RefreshTokenStore>) -> Result<Self> {
        let resource_scope = resource_scope.trim().to_string();
        if resource_scope.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "resource_scope",
                value: resource_scope,
                reason: "expected a scope such as https://graph.microsoft.com/.default".into(),
            });
        }
        let scope = if resource_scope.split(' ').any(|scope| scope.eq_ignore_ascii_case("offline_access")) {
            resource_scope
        } else {
            format!("{resource_scope} offline_access")
        };
        Ok(Self { client: ConfidentialClient::new(&config)?, scope, store, cache: TokenCache::new() })
    }

    /// HTTP requests sent to the token endpoint so far (retries included).
    #[must_use]
    pub fn token_requests(&self) -> u64 {
        self.client.requests()
    }

    /// Forgets the cached access token, so the next call refreshes.
    pub async fn invalidate(&self) {
        self.cache.invalidate().await;
    }

    /// Redeems the stored refresh token (no cache). See the module documentation.
    async fn refresh(&self) -> Result<AccessToken, TokenError> {
        let mut presented = self.store.load().await?;
        let mut reloaded = false;
        loop {
            let outcome = self
                .client
                .request(|| {
                    vec![
                        ("grant_type", FormValue::Plain("refresh_token".into())),
                        ("refresh_token", FormValue::Secret(presented.clone())),
                        ("scope", FormValue::Plain(self.scope.clone())),
                    ]
                })
                .await;
            match outcome {
                Ok(response) => {
                    if let Some(newest) = response.refresh_token
                        && newest != presented
                    {
                        self.save(&presented, newest).await;
                    }
                    return Ok(response.access_token);
                }
                Err(failure) if needs_relink(&failure) => {
                    if !reloaded {
                        // Another process may have rotated or re-linked since we loaded: try its token once.
                        let newest = self.store.load().await?;
                        if newest != presented {
                            presented = newest;
                            reloaded = true;
                            continue;
                        }
                    }
                    return Err(self.relink(&failure).await);
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    /// Stores the rotated token; a lost swap or a store failure leaves the access token in hand usable.
    async fn save(&self, presented: &Secret, newest: Secret) {
        match self.store.save_rotated(presented, newest).await {
            Ok(true) => tracing::debug!(client_id = self.client.client_id(), "refresh token rotated"),
            Ok(false) => tracing::debug!(
                client_id = self.client.client_id(),
                "another process rotated the refresh token first; keeping its token"
            ),
            Err(error) => tracing::warn!(
                client_id = self.client.client_id(),
                %error,
                "the rotated refresh token could not be stored; the previous one stays in use"
            ),
        }
    }

    async fn relink(&self, failure: &EndpointFailure) -> TokenError {
        let reason = relink_reason(failure);
        tracing::warn!(client_id = self.client.client_id(), tenant = self.client.tenant(), %reason, "needs re-link");
        if let Err(error) = self.store.mark_needs_relink(reason.clone()).await {
            tracing::warn!(%error, "the connection could not be marked as needing re-link");
        }
        TokenError {
            message: format!("the connection must be linked again: {reason} ({})", failure.error.message),
            transient: false,
            needs_relink: true,
        }
    }
}

impl AccessTokenProvider for DelegatedTokenProvider {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(self.cache.get_or_refresh(|| self.refresh()))
    }

    fn fresh_access_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            self.cache.invalidate().await;
            self.cache.get_or_refresh(|| self.refresh()).await
        })
    }
}

/// Whether the failure means the grant is gone for good.
fn needs_relink(failure: &EndpointFailure) -> bool {
    matches!(failure.error_code.as_deref(), Some("invalid_grant" | "interaction_required"))
}

/// Plain words for why the connection needs re-linking, with the AADSTS code.
fn relink_reason(failure: &EndpointFailure) -> String {
    let why = match failure.aadsts {
        Some(50173) => {
            "the refresh token was revoked: the user's sign-in sessions were revoked or their password was changed \
             or reset"
        }
        Some(700082) => "the refresh token expired after 90 days without use",
        Some(70008 | 700084) => "the refresh token expired",
        Some(65001) => "consent for the application was withdrawn or never given for this user",
        Some(50034) => "the user who linked the connection no longer exists",
        Some(50057) => "the user who linked the connection is disabled",
        Some(50055) => "the password of the user who linked the connection expired",
        Some(50076 | 50079) => "the user who linked the connection must complete multi-factor authentication",
        Some(53003) => "a Conditional Access policy blocks the sign-in",
        Some(70000 | 9002313) => "the refresh token is not valid for this application and tenant",
        _ => "the identity platform no longer accepts the refresh token",
    };
    match failure.aadsts {
        Some(code) => format!("{why} (AADSTS{code})"),
        None => why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str, aadsts: Option<u32>) -> EndpointFailure {
        EndpointFailure {
            error: TokenError { message: "refused".into(), transient: false, needs_relink: false },
            error_code: Some(code.into()),
            aadsts,
        }
    }

    #[test]
    fn only_a_dead_grant_needs_relink() {
        assert!(needs_relink(&failure("invalid_grant", Some(50173))));
        assert!(needs_relink(&failure("interaction_required", Some(50076))));
        assert!(!needs_relink(&failure("invalid_client", Some(7000215))));
        assert!(!needs_relink(&failure("temporarily_unavailable", None)));
        assert!(!needs_relink(&EndpointFailure::local(TokenError {
            message: "network".into(),
            transient: true,
            needs_relink: false
        })));
    }

    #[test]
    fn reasons_are_plain_words_with_the_code() {
        assert_eq!(
            relink_reason(&failure("invalid_grant", Some(700082))),
            "the refresh token expired after 90 days without use (AADSTS700082)"
        );
        assert!(relink_reason(&failure("invalid_grant", Some(50173))).contains("revoked"));
        assert_eq!(
            relink_reason(&failure("invalid_grant", None)),
            "the identity platform no longer accepts the refresh token"
        );
    }
}
