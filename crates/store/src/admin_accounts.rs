//! Admin accounts of the web UI and their sign-in sessions.
//!
//! An account is a user name and an argon2 password hash (a PHC string made by the caller; the store never sees
//! a password). A session is stored under the SHA-256 of its random id (hex, computed by the caller), so a copy
//! of the database cannot be replayed as a cookie; it carries the session's CSRF token and an absolute expiry,
//! and an expired session is never returned. Removing an account removes its sessions.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::time;

/// A stored admin account.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminAccount {
    /// Its row id.
    pub id: i64,
    /// The name typed at sign-in (unique).
    pub username: String,
    /// The argon2 hash of its password, as a PHC string (`$argon2id$v=19$…`).
    pub password_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its password last changed.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for AdminAccount {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AdminAccount")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A session to store at sign-in.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAdminSession {
    /// SHA-256 (hex) of the session id in the cookie.
    pub id_hash: String,
    /// The signed-in account.
    pub account_id: i64,
    /// The session's CSRF token, echoed by every form.
    pub csrf_token: String,
    /// When the admin signed in.
    pub created_at: DateTime<Utc>,
    /// When the session stops being valid.
    pub expires_at: DateTime<Utc>,
}

/// A live session with its account's name.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSession {
    /// SHA-256 (hex) of the session id in the cookie.
    pub id_hash: String,
    /// The signed-in account.
    pub account_id: i64,
    /// That account's user name.
    pub username: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When the admin signed in.
    pub created_at: DateTime<Utc>,
    /// When the session stops being valid.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AdminSession")
            .field("account_id", &self.account_id)
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

const ACCOUNT_COLUMNS: &str = "id, username, password_hash, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    username: String,
    password_hash: String,
    created_at: String,
    updated_at: String,
}

impl AccountRow {
    fn into_account(self, operation: &str) -> Result<AdminAccount> {
        Ok(AdminAccount {
            id: self.id,
            created_at: time::from_text(&self.created_at).map_err(|e| Error::corrupt(operation, "created_at", e))?,
            updated_at: time::from_text(&self.updated_at).map_err(|e| Error::corrupt(operation, "updated_at", e))?,
            username: self.username,
            password_hash: self.password_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    account_id: i64,
    username: String,
    csrf_token: String,
    created_at: String,
    expires_at: String,
}

impl Store {
    /// Creates an admin account.
    ///
    /// # Errors
    /// [`Error::DuplicateAdminAccount`] when the name is taken; a database error.
    pub async fn create_admin_account(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<AdminAccount> {
        let operation = format!("creating admin account \"{username}\"");
        let now_text = time::to_text(now);
        let sql = format!(
            "INSERT INTO admin_accounts (username, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             RETURNING {ACCOUNT_COLUMNS}"
        );
        let inserted = on_pool!(self, |pool| {
            sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(sql))
                .bind(username)
                .bind(password_hash)
                .bind(&now_text)
                .fetch_one(pool)
                .await
        });
        match inserted {
            Ok(row) => row.into_account(&operation),
            Err(sqlx::Error::Database(database)) if database.is_unique_violation() => {
                Err(Error::DuplicateAdminAccount { username: username.to_owned() })
            }
            Err(source) => Err(Error::Database { operation, source }),
        }
    }

    /// The account named `username`, if any.
    ///
    /// # Errors
    /// A database error.
    pub async fn admin_account(&self, username: &str) -> Result<Option<AdminAccount>> {
        let operation = format!("loading admin account \"{username}\"");
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM admin_accounts WHERE username = $1");
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(pool).await
        })
        .map_err(Error::database(operation.clone()))?;
        row.map(|row| row.into_account(&operation)).transpose()
    }

    /// Every admin account, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn list_admin_accounts(&self) -> Result<Vec<AdminAccount>> {
        let operation = "listing admin accounts";
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM admin_accounts ORDER BY username");
        let rows =
            on_pool!(self, |pool| { sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await })
                .map_err(Error::database(operation))?;
        rows.into_iter().map(|row| row.into_account(operation)).collect()
    }

    /// Replaces an account's password hash and signs out its sessions; `false` when there is no such account.
    ///
    /// # Errors
    /// A database error.
    pub async fn set_admin_password(&self, username: &str, password_hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let operation = format!("changing the password of admin account \"{username}\"");
        let now = time::to_text(now);
        in_transaction!(self, operation, |tx| {
            let changed =
                sqlx::query("UPDATE admin_accounts SET password_hash = $1, updated_at = $2 WHERE username = $3")
                    .bind(password_hash)
                    .bind(&now)
                    .bind(username)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::database(operation.clone()))?
                    .rows_affected();
            sqlx::query(
                "DELETE FROM admin_sessions WHERE account_id IN (SELECT id FROM admin_accounts WHERE username = $1)",
            )
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(Error::database(operation.clone()))?;
            Ok(changed == 1)
        })
    }

    /// Removes an account and its sessions; `false` when there was no such account.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_admin_account(&self, username: &str) -> Result<bool> {
        let operation = format!("removing admin account \"{username}\"");
        in_transaction!(self, operation, |tx| {
            sqlx::query(
                "DELETE FROM admin_sessions WHERE account_id IN (SELECT id FROM admin_accounts WHERE username = $1)",
            )
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(Error::database(operation.clone()))?;
            let deleted = sqlx::query("DELETE FROM admin_accounts WHERE username = $1")
                .bind(username)
                .execute(&mut *tx)
                .await
                .map_err(Error::database(operation.clone()))?
                .rows_affected();
            Ok(deleted == 1)
        })
    }

    /// Stores a new session.
    ///
    /// # Errors
    /// A database error (an unknown account or a colliding id hash included).
    pub async fn create_admin_session(&self, session: &NewAdminSession) -> Result<()> {
        let created_at = time::to_text(session.created_at);
        let expires_at = time::to_text(session.expires_at);
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO admin_sessions (id_hash, account_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&session.id_hash)
            .bind(session.account_id)
            .bind(&session.csrf_token)
            .bind(&created_at)
            .bind(&expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(Error::database(format!("storing a session of admin account {}", session.account_id)))
    }

    /// The session stored under `id_hash`, unless it has expired by `now`.
    ///
    /// # Errors
    /// A database error, or unreadable stored timestamps.
    pub async fn admin_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<AdminSession>> {
        let operation = "loading an admin session";
        let now = time::to_text(now);
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, SessionRow>(
                "SELECT s.id_hash, s.account_id, a.username, s.csrf_token, s.created_at, s.expires_at \
                 FROM admin_sessions s JOIN admin_accounts a ON a.id = s.account_id \
                 WHERE s.id_hash = $1 AND s.expires_at > $2",
            )
            .bind(id_hash)
            .bind(&now)
            .fetch_optional(pool)
            .await
        })
        .map_err(Error::database(operation))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(AdminSession {
            created_at: time::from_text(&row.created_at).map_err(|e| Error::corrupt(operation, "created_at", e))?,
            expires_at: time::from_text(&row.expires_at).map_err(|e| Error::corrupt(operation, "expires_at", e))?,
            id_hash: row.id_hash,
            account_id: row.account_id,
            username: row.username,
            csrf_token: row.csrf_token,
        }))
    }

    /// Ends a session (sign-out); `false` when it was not stored.
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_admin_session(&self, id_hash: &str) -> Result<bool> {
        let deleted = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM admin_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database("ending an admin session"))?;
        Ok(deleted == 1)
    }

    /// Deletes every session expired by `now`; returns how many.
    ///
    /// # Errors
    /// A database error.
    pub async fn purge_expired_admin_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = time::to_text(now);
        let deleted = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
                .bind(&now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database("purging expired admin sessions"))?;
        Ok(deleted)
    }
}
