//! What can go wrong while creating, linking, testing or using a stored connection, in words for the admin.
//!
//! No variant carries a secret: provider errors arrive as `model::TokenError`/`vault::Error` messages, which the
//! vault already keeps free of tokens and keys.

/// A connection operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// No connection has that id or name.
    #[error("no connection {0}")]
    NotFound(String),
    /// The input is not acceptable (a malformed client ID, a connection of the wrong kind for the operation).
    #[error("{0}")]
    Invalid(String),
    /// Something the operation needs is not configured (the provider app, the master key).
    #[error("{0}")]
    NotConfigured(String),
    /// The OAuth callback's `state` is unknown, used, expired or belongs to another session.
    #[error("{0}")]
    InvalidState(String),
    /// The identity platform refused (a declined consent, a wrong tenant, an unusable credential).
    #[error("{0}")]
    Provider(String),
    /// The connection must be linked again before it can be used.
    #[error("connection \"{name}\" needs to be linked again: {reason}")]
    NeedsRelink {
        /// The connection's name.
        name: String,
        /// Why (the identity platform's answer).
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The vault failed (a key missing from the key file, a ciphertext that does not open).
    #[error(transparent)]
    Vault(#[from] vault::Error),
}
