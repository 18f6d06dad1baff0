//! `Error`: why a store operation failed, naming the operation (e.g. "saving the steps of run 12").
//!
//! Database URLs are never echoed whole (they may carry a password); only their scheme is.

use crate::{ConnectionId, RunId};

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no backend the store supports.
    #[error(
        "unsupported store url scheme `{scheme}`: use `sqlite://path/to/tenure.db`, `sqlite::memory:` or \
         `postgres://user@host/database`"
    )]
    UnsupportedUrl {
        /// The scheme found (the text before `:`), without the rest of the URL.
        scheme: String,
    },
    /// The database could not be reached or opened.
    #[error("opening the {backend} store: {source}")]
    Connect {
        /// `"sqlite"` or `"postgres"`.
        backend: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The schema migrations could not be applied.
    #[error("migrating the {backend} store's schema: {source}")]
    Migrate {
        /// `"sqlite"` or `"postgres"`.
        backend: &'static str,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("{operation}: {source}")]
    Database {
        /// What the store was doing, e.g. "saving the steps of run 12".
        operation: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The run does not exist.
    #[error("{operation}: run {run} does not exist")]
    RunNotFound {
        /// What the store was doing.
        operation: String,
        /// The run.
        run: RunId,
    },
    /// Records were given for steps that the run does not have.
    #[error("{operation}: run {run} has no step {steps} (the plan has fewer steps)")]
    UnknownSteps {
        /// What the store was doing.
        operation: String,
        /// The run.
        run: RunId,
        /// The unknown steps, as shown to admins (`#12, #13`).
        steps: String,
    },
    /// A stored value could not be read back (a corrupt or newer database).
    #[error("{operation}: stored {what} is unreadable: {detail}")]
    Corrupt {
        /// What the store was doing.
        operation: String,
        /// Which value (`"plan_json of run 3"`).
        what: String,
        /// Why.
        detail: String,
    },
    /// A value could not be serialized for storage.
    #[error("{operation}: cannot serialize {what}: {source}")]
    Serialize {
        /// What the store was doing.
        operation: String,
        /// Which value.
        what: &'static str,
        /// The serializer's error.
        source: serde_json::Error,
    },
    /// Another connection already has the name.
    #[error(
        "a connection named \"{name}\" already exists: choose another name, or remove the existing connection first"
    )]
    DuplicateConnectionName {
        /// The name asked for.
        name: String,
    },
    /// The connection does not exist (any more).
    #[error("{operation}: connection {connection} does not exist")]
    ConnectionNotFound {
        /// What the store was doing.
        operation: String,
        /// The connection.
        connection: ConnectionId,
    },
    /// The connection has no certificate with that thumbprint.
    #[error("{operation}: connection {connection} has no certificate with sha-1 thumbprint {sha1_thumbprint}")]
    CertificateNotFound {
        /// What the store was doing.
        operation: String,
        /// The connection.
        connection: ConnectionId,
        /// The thumbprint asked for.
        sha1_thumbprint: String,
    },
    /// The connection already has a certificate with that thumbprint.
    #[error("connection {connection} already has a certificate with sha-1 thumbprint {sha1_thumbprint}")]
    DuplicateCertificate {
        /// The connection.
        connection: ConnectionId,
        /// The thumbprint.
        sha1_thumbprint: String,
    },
    /// A secret purpose that the store reserves for its own rows (`oauth_state:…`) or that is empty.
    #[error("storing a secret of connection {connection}: the purpose {purpose:?} is reserved or empty")]
    ReservedSecretPurpose {
        /// The connection.
        connection: ConnectionId,
        /// The purpose given.
        purpose: String,
    },
    /// Another admin account already has the user name.
    #[error("an admin account named \"{username}\" already exists")]
    DuplicateAdminAccount {
        /// The name asked for.
        username: String,
    },
}

impl Error {
    pub(crate) fn database(operation: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Self {
        let operation = operation.into();
        move |source| Self::Database { operation, source }
    }

    pub(crate) fn corrupt(operation: &str, what: impl Into<String>, detail: impl ToString) -> Self {
        Self::Corrupt { operation: operation.to_owned(), what: what.into(), detail: detail.to_string() }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
