//! Persistence via sqlx: SQLite (default) and PostgreSQL, migrations, runs, steps, audit, delta links, policy
//! revisions.
//!
//! One `Store` type serves both backends, chosen by the URL's scheme at runtime; both have their own migration set
//! (`migrations/sqlite`, `migrations/postgres`) with the same logical schema (a test compares them). The executor
//! journals a run's steps here so that a run killed part-way can be resumed (`unfinished_runs`, `load_run`), and
//! every change made in the tenant gets an audit entry (`list_audit`). Connections to Microsoft tenants live here
//! too (`connections.rs`): their secrets only as the vault sealed them, their certificates, and the single-use
//! OAuth states of links in progress. This crate depends only on `model`.

/// Runs `$body` with `$pool` bound to the store's SQLite or PostgreSQL pool (the body is compiled for both).
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` in a transaction `$tx` on the store's pool and commits it; an early return (`?`) rolls back.
/// `$operation` (a `String`) names the operation in errors.
macro_rules! in_transaction {
    ($store:expr, $operation:expr, |$tx:ident| $body:block) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite(pool) => {
                let mut $tx = pool.begin().await.map_err($crate::Error::database($operation.clone()))?;
                let value = $body;
                $tx.commit().await.map_err($crate::Error::database($operation.clone()))?;
                value
            }
            $crate::store::Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err($crate::Error::database($operation.clone()))?;
                let value = $body;
                $tx.commit().await.map_err($crate::Error::database($operation.clone()))?;
                value
            }
        }
    };
}

mod admin_accounts;
mod connection_types;
mod connections;
mod error;
mod runs;
mod store;
mod time;
mod types;

pub use admin_accounts::{AdminAccount, AdminSession, NewAdminSession};
pub use connection_types::{
    CertificateRecord, Connection, ConnectionAuth, ConnectionId, ConnectionKind, ConnectionStatus, InvalidConnectionId,
    NewConnection, OAUTH_STATE_PURPOSE_PREFIX, OAuthPurpose, OAuthState, SecretRow, StoredSecret,
    connection_secret_context, oauth_state_context,
};
pub use error::{Error, Result};
pub use store::Store;
pub use types::{
    AuditEntry, AuditQuery, CachedObservation, InvalidRunId, NewAuditEntry, NewRun, RunDetail, RunId, RunStatus,
    RunSummary, RunTotals, StepJournal, StepRecord, StepStatus, UnknownStatus,
};
