//! Access tokens and the provider trait through which the Microsoft API clients (`graph`, later `exchange`) get
//! them without depending on `vault`, which implements it.
//!
//! [`Secret`] holds any secret text (a token, a client secret, a password): its `Debug` and `Display` are
//! redacted and its memory is zeroed on drop, so a secret cannot reach a log line or an error message by accident.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use zeroize::Zeroize;

/// Secret text. `Debug`/`Display` print `[redacted]`; read it with [`Secret::expose`] only where it goes on the
/// wire or into the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    #[must_use]
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret text, for the one place that must send or encrypt it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A bearer token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
}

/// Why a token could not be had. The message never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TokenError {
    /// What went wrong, for the admin (the identity platform's error code and description when it answered).
    pub message: String,
    /// Whether trying again later may help (a network failure or a 5xx), as opposed to a credential problem.
    pub transient: bool,
    /// Whether the grant behind the token is gone for good (a delegated refresh token revoked, expired or no
    /// longer consented): nothing works until an admin links the connection again. Never set together with
    /// [`Self::transient`].
    pub needs_relink: bool,
}

/// The boxed future [`AccessTokenProvider::access_token`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, TokenError>> + Send + 'a>>;

/// Something that hands out valid access tokens for one resource (Graph, Exchange), caching and refreshing them
/// as it sees fit. Implemented by `vault`; used by `graph` and `exchange`.
pub trait AccessTokenProvider: Send + Sync {
    /// A token valid for at least a minute more.
    fn access_token(&self) -> TokenFuture<'_>;

    /// A new token, never the cached one: for a caller whose API refused the current token as expired or
    /// invalid (clocks disagree, the token was revoked). By default the same as [`Self::access_token`].
    fn fresh_access_token(&self) -> TokenFuture<'_> {
        self.access_token()
    }
}
