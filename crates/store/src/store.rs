//! `Store`: the connection pool (SQLite or PostgreSQL, chosen by URL), opening and migrating, and the small
//! key-value parts of the schema (policy revisions, cached observations: the delta links in `observations`, the
//! state, tens of megabytes of JSON for a large tenant, in `observation_states`).
//!
//! Runs, steps and audit entries are in `runs.rs`. Every query is written once with `$N` placeholders (which both
//! SQLite and PostgreSQL accept) and run against whichever pool the store holds via the `on_pool!` and
//! `in_transaction!` macros in `lib.rs`.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{Error, Result};
use crate::time;
use crate::types::CachedObservation;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool behind a store.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How a backend spells bind parameters in generated multi-row statements.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Placeholders {
    /// `?` (SQLite).
    Anonymous,
    /// `$1`, `$2`, … (PostgreSQL).
    Numbered,
}

/// Tenure's database: runs and their step journals, the audit log, policy revisions and cached observations.
///
/// Cheap to clone (the pool is shared). SQLite (`sqlite://path/to/tenure.db`, created if missing, or
/// `sqlite::memory:`) or PostgreSQL (`postgres://…`), chosen by the URL's scheme; both behave the same.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
}

impl Store {
    /// Opens (creating the SQLite file if missing) and migrates the store at `url`.
    ///
    /// # Errors
    /// An unsupported scheme, an unreachable database, or a schema migration that fails.
    pub async fn open(url: &str) -> Result<Store> {
        let scheme = url.split(':').next().unwrap_or_default();
        let pool = match scheme {
            "sqlite" => Pool::Sqlite(open_sqlite(url).await?),
            "postgres" | "postgresql" => Pool::Postgres(open_postgres(url).await?),
            _ => return Err(Error::UnsupportedUrl { scheme: scheme.chars().take(32).collect() }),
        };
        let migrated = match &pool {
            Pool::Sqlite(pool) => {
                SQLITE_MIGRATIONS.run(pool).await.map_err(|source| Error::Migrate { backend: "sqlite", source })
            }
            Pool::Postgres(pool) => {
                POSTGRES_MIGRATIONS.run(pool).await.map_err(|source| Error::Migrate { backend: "postgres", source })
            }
        };
        migrated?;
        let store = Store { pool };
        tracing::debug!(backend = store.backend(), "store opened and its schema migrated");
        Ok(store)
    }

    /// `"sqlite"` or `"postgres"`.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub(crate) fn placeholders(&self) -> Placeholders {
        match self.pool {
            Pool::Sqlite(_) => Placeholders::Anonymous,
            Pool::Postgres(_) => Placeholders::Numbered,
        }
    }

    /// Closes every connection, waiting for them to be returned (an in-memory SQLite store is gone afterwards).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }

    /// Records a policy file's text under its revision (sha256 hex). Saving the same revision again changes
    /// nothing.
    ///
    /// # Errors
    /// A database error.
    pub async fn save_policy_revision(&self, hash: &str, text: &str) -> Result<()> {
        let now = time::to_text(Utc::now());
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO policy_revisions (hash, text, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(text)
            .bind(&now)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(Error::database(format!("saving policy revision {hash}")))?;
        Ok(())
    }

    /// The policy text saved under a revision, if any.
    ///
    /// # Errors
    /// A database error.
    pub async fn load_policy_revision(&self, hash: &str) -> Result<Option<String>> {
        on_pool!(self, |pool| {
            sqlx::query_scalar::<_, String>("SELECT text FROM policy_revisions WHERE hash = $1")
                .bind(hash)
                .fetch_optional(pool)
                .await
        })
        .map_err(Error::database(format!("loading policy revision {hash}")))
    }

    /// Replaces only the delta links of a tenant's cached observation (when the delta brought no change, the
    /// cached state stays as it is and is not written again). Does nothing when nothing is cached. The state is
    /// kept in a table of its own (`observation_states`), so this rewrites a small row, not the state.
    ///
    /// # Errors
    /// A database error.
    pub async fn save_delta_links(&self, tenant: &str, delta_links_json: &str) -> Result<()> {
        let now = time::to_text(Utc::now());
        on_pool!(self, |pool| {
            sqlx::query("UPDATE observations SET delta_links_json = $1, updated_at = $2 WHERE tenant = $3")
                .bind(delta_links_json)
                .bind(&now)
                .bind(tenant)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(Error::database(format!("saving the delta links of tenant {tenant}")))
    }

    /// Caches a tenant's observed state and delta links, replacing what was cached before.
    ///
    /// # Errors
    /// A database error.
    pub async fn save_observation(
        &self,
        tenant: &str,
        observed_json: &str,
        delta_links_json: &str,
        full_at: DateTime<Utc>,
    ) -> Result<()> {
        let now = time::to_text(Utc::now());
        let full_at = time::to_text(full_at);
        let operation = format!("saving the observation of tenant {tenant}");
        in_transaction!(self, operation, |tx| {
            sqlx::query(
                "INSERT INTO observations (tenant, delta_links_json, full_at, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant) DO UPDATE SET delta_links_json = excluded.delta_links_json, \
                 full_at = excluded.full_at, updated_at = excluded.updated_at",
            )
            .bind(tenant)
            .bind(delta_links_json)
            .bind(&full_at)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(Error::database(operation.clone()))?;
            sqlx::query(
                "INSERT INTO observation_states (tenant, observed_json) VALUES ($1, $2) \
                 ON CONFLICT (tenant) DO UPDATE SET observed_json = excluded.observed_json",
            )
            .bind(tenant)
            .bind(observed_json)
            .execute(&mut *tx)
            .await
            .map_err(Error::database(operation.clone()))?;
        });
        Ok(())
    }

    /// The cached observation of a tenant, if any.
    ///
    /// # Errors
    /// A database error, or unreadable stored timestamps.
    pub async fn load_observation(&self, tenant: &str) -> Result<Option<CachedObservation>> {
        let operation = format!("loading the observation of tenant {tenant}");
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, (String, String, String, String)>(
                "SELECT s.observed_json, o.delta_links_json, o.full_at, o.updated_at \
                 FROM observations o JOIN observation_states s ON s.tenant = o.tenant WHERE o.tenant = $1",
            )
            .bind(tenant)
            .fetch_optional(pool)
            .await
        })
        .map_err(Error::database(operation.clone()))?;
        let Some((observed_json, delta_links_json, full_at, updated_at)) = row else {
            return Ok(None);
        };
        Ok(Some(CachedObservation {
            tenant: tenant.to_owned(),
            observed_json,
            delta_links_json,
            full_at: time::from_text(&full_at).map_err(|e| Error::corrupt(&operation, "full_at", e))?,
            updated_at: time::from_text(&updated_at).map_err(|e| Error::corrupt(&operation, "updated_at", e))?,
        }))
    }
}

async fn open_sqlite(url: &str) -> Result<SqlitePool> {
    let connect = |source| Error::Connect { backend: "sqlite", source };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(connect)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = if in_memory {
        // Every connection to a shared in-memory database sees the same data, but the database vanishes with
        // the last connection and shared-cache tables lock per table: one connection, kept forever.
        SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(4)
    };
    pool.connect_with(options).await.map_err(connect)
}

async fn open_postgres(url: &str) -> Result<PgPool> {
    let connect = |source| Error::Connect { backend: "postgres", source };
    let options = PgConnectOptions::from_str(url).map_err(connect)?;
    PgPoolOptions::new().max_connections(8).connect_with(options).await.map_err(connect)
}
