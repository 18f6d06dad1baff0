//! Connections to Microsoft tenants and what belongs to them: sealed secrets, generated certificates and the
//! single-use OAuth states of links in progress.
//!
//! Secrets arrive sealed ([`StoredSecret`]); the store only keeps and swaps ciphertexts. The two operations that
//! concurrent callers race on are single statements, so both backends make them atomic: `replace_secret_if` (a
//! compare-and-swap on the ciphertext, for refresh tokens that rotate on every use) and `take_oauth_state`
//! (`DELETE … RETURNING`, so a `state` is redeemed at most once). Key rotation reads every sealed value with
//! `list_secrets` and writes the re-sealed values back in one transaction with `rekey_secrets`.

use chrono::{DateTime, Utc};

use crate::connection_types::{
    CertificateRecord, Connection, ConnectionId, NewConnection, OAUTH_STATE_PURPOSE_PREFIX, OAuthState, SecretRow,
    StoredSecret,
};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::time;

/// Clears the active flag of connection `$id`'s certificates inside the transaction `$tx`.
macro_rules! deactivate_certificates {
    ($tx:ident, $id:expr, $operation:expr) => {
        sqlx::query("UPDATE connection_certificates SET active = $1 WHERE connection_id = $2 AND active = $3")
            .bind(false)
            .bind($id.0)
            .bind(true)
            .execute(&mut *$tx)
            .await
            .map_err(Error::database($operation.clone()))?;
    };
}

const CONNECTION_COLUMNS: &str = "id, name, kind, auth, cloud, tenant_id, client_id, status, status_reason, \
                                  linked_by, linked_at, granted_permissions_json, last_test_json, created_at, updated_at";

const CERTIFICATE_COLUMNS: &str =
    "connection_id, sha1_thumbprint, sha256_thumbprint, certificate_pem, not_before, not_after, active, created_at";

const OAUTH_STATE_COLUMNS: &str = "state_hash, connection_id, purpose, session_binding, verifier_key_id, \
                                   verifier_ciphertext, redirect_uri, expires_at";

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: i64,
    name: String,
    kind: String,
    auth: String,
    cloud: String,
    tenant_id: Option<String>,
    client_id: Option<String>,
    status: String,
    status_reason: Option<String>,
    linked_by: Option<String>,
    linked_at: Option<String>,
    granted_permissions_json: String,
    last_test_json: Option<String>,
    created_at: String,
    updated_at: String,
}

impl ConnectionRow {
    fn into_connection(self, operation: &str) -> Result<Connection> {
        let what = |column: &str| format!("{column} of connection {}", self.id);
        let timestamp =
            |column: &str, text: &str| time::from_text(text).map_err(|e| Error::corrupt(operation, what(column), e));
        Ok(Connection {
            id: ConnectionId(self.id),
            kind: self.kind.parse().map_err(|e| Error::corrupt(operation, what("kind"), e))?,
            auth: self.auth.parse().map_err(|e| Error::corrupt(operation, what("auth"), e))?,
            cloud: self.cloud.parse().map_err(|e| Error::corrupt(operation, what("cloud"), e))?,
            status: self.status.parse().map_err(|e| Error::corrupt(operation, what("status"), e))?,
            linked_at: self.linked_at.as_deref().map(|text| timestamp("linked_at", text)).transpose()?,
            granted_permissions: serde_json::from_str(&self.granted_permissions_json)
                .map_err(|e| Error::corrupt(operation, what("granted_permissions_json"), e))?,
            created_at: timestamp("created_at", &self.created_at)?,
            updated_at: timestamp("updated_at", &self.updated_at)?,
            name: self.name,
            tenant_id: self.tenant_id,
            client_id: self.client_id,
            status_reason: self.status_reason,
            linked_by: self.linked_by,
            last_test: self.last_test_json,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CertificateRow {
    connection_id: i64,
    sha1_thumbprint: String,
    sha256_thumbprint: String,
    certificate_pem: String,
    not_before: String,
    not_after: String,
    active: bool,
    created_at: String,
}

impl CertificateRow {
    fn into_record(self, operation: &str) -> Result<CertificateRecord> {
        let timestamp = |column: &str, text: &str| {
            time::from_text(text)
                .map_err(|e| Error::corrupt(operation, format!("{column} of certificate {}", self.sha1_thumbprint), e))
        };
        Ok(CertificateRecord {
            connection_id: ConnectionId(self.connection_id),
            not_before: timestamp("not_before", &self.not_before)?,
            not_after: timestamp("not_after", &self.not_after)?,
            created_at: timestamp("created_at", &self.created_at)?,
            active: self.active,
            sha256_thumbprint: self.sha256_thumbprint,
            certificate_pem: self.certificate_pem,
            sha1_thumbprint: self.sha1_thumbprint,
        })
    }
}

#[derive(sqlx::FromRow)]
struct OAuthStateRow {
    state_hash: String,
    connection_id: i64,
    purpose: String,
    session_binding: String,
    verifier_key_id: Option<String>,
    verifier_ciphertext: Option<String>,
    redirect_uri: String,
    expires_at: String,
}

impl OAuthStateRow {
    fn into_state(self, operation: &str) -> Result<OAuthState> {
        let verifier = match (self.verifier_key_id, self.verifier_ciphertext) {
            (Some(key_id), Some(ciphertext)) => Some(StoredSecret { key_id, ciphertext }),
            _ => None,
        };
        Ok(OAuthState {
            purpose: self.purpose.parse().map_err(|e| Error::corrupt(operation, "purpose of an oauth state", e))?,
            expires_at: time::from_text(&self.expires_at)
                .map_err(|e| Error::corrupt(operation, "expires_at of an oauth state", e))?,
            connection_id: ConnectionId(self.connection_id),
            state_hash: self.state_hash,
            session_binding: self.session_binding,
            verifier,
            redirect_uri: self.redirect_uri,
        })
    }
}

/// Maps a failed write that names `connection`: a foreign-key violation means the connection does not exist.
fn write_error(operation: String, connection: ConnectionId) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| match &source {
        sqlx::Error::Database(database) if database.is_foreign_key_violation() => {
            Error::ConnectionNotFound { operation, connection }
        }
        _ => Error::Database { operation, source },
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

impl Store {
    /// Creates a connection (status `not_linked`, nothing granted yet).
    ///
    /// # Errors
    /// [`Error::DuplicateConnectionName`] when the name is taken; a database error.
    pub async fn create_connection(&self, new: &NewConnection, now: DateTime<Utc>) -> Result<Connection> {
        let operation = format!("creating connection \"{}\"", new.name);
        let now_text = time::to_text(now);
        let status = crate::ConnectionStatus::NotLinked;
        let inserted = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO connections (name, kind, auth, cloud, tenant_id, client_id, status, \
                 granted_permissions_json, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8, $8) RETURNING id",
            )
            .bind(&new.name)
            .bind(new.kind.as_str())
            .bind(new.auth.as_str())
            .bind(new.cloud.config_name())
            .bind(new.tenant_id.as_deref())
            .bind(new.client_id.as_deref())
            .bind(status.as_str())
            .bind(&now_text)
            .fetch_one(pool)
            .await
        });
        let id = inserted.map_err(|source| {
            if is_unique_violation(&source) {
                Error::DuplicateConnectionName { name: new.name.clone() }
            } else {
                Error::Database { operation: operation.clone(), source }
            }
        })?;
        let at = time::from_text(&now_text).map_err(|e| Error::corrupt(&operation, "created_at", e))?;
        Ok(Connection {
            id: ConnectionId(id),
            name: new.name.clone(),
            kind: new.kind,
            auth: new.auth,
            cloud: new.cloud,
            tenant_id: new.tenant_id.clone(),
            client_id: new.client_id.clone(),
            status,
            status_reason: None,
            linked_by: None,
            linked_at: None,
            granted_permissions: Vec::new(),
            last_test: None,
            created_at: at,
            updated_at: at,
        })
    }

    /// The connection with this id, if any.
    ///
    /// # Errors
    /// A database error, or an unreadable stored value.
    pub async fn connection(&self, id: ConnectionId) -> Result<Option<Connection>> {
        let operation = format!("loading connection {id}");
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1");
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(pool).await
        })
        .map_err(Error::database(operation.clone()))?;
        row.map(|row| row.into_connection(&operation)).transpose()
    }

    /// The connection with this name, if any.
    ///
    /// # Errors
    /// A database error, or an unreadable stored value.
    pub async fn connection_by_name(&self, name: &str) -> Result<Option<Connection>> {
        let operation = format!("loading connection \"{name}\"");
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE name = $1");
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql)).bind(name).fetch_optional(pool).await
        })
        .map_err(Error::database(operation.clone()))?;
        row.map(|row| row.into_connection(&operation)).transpose()
    }

    /// Every connection, by name.
    ///
    /// # Errors
    /// A database error, or an unreadable stored value.
    pub async fn list_connections(&self) -> Result<Vec<Connection>> {
        let operation = "listing the connections";
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections ORDER BY name");
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, ConnectionRow>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await
        })
        .map_err(Error::database(operation))?;
        rows.into_iter().map(|row| row.into_connection(operation)).collect()
    }

    /// Sets a connection's status and the reason shown with it (`None` clears the reason).
    ///
    /// # Errors
    /// [`Error::ConnectionNotFound`]; a database error.
    pub async fn set_connection_status(
        &self,
        id: ConnectionId,
        status: crate::ConnectionStatus,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let operation = format!("setting the status of connection {id} to {status}");
        let now = time::to_text(now);
        let updated = on_pool!(self, |pool| {
            sqlx::query("UPDATE connections SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4")
                .bind(status.as_str())
                .bind(reason)
                .bind(&now)
                .bind(id.0)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation.clone()))?;
        found(updated, operation, id)
    }

    /// Records a successful link: status `connected` (reason cleared), who linked it, when, the granted
    /// permissions and — when given — the tenant id learned from the token.
    ///
    /// # Errors
    /// [`Error::ConnectionNotFound`]; a database error.
    pub async fn record_link(
        &self,
        id: ConnectionId,
        linked_by: &str,
        granted: &[String],
        tenant_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let operation = format!("recording the link of connection {id}");
        let granted = serde_json::to_string(granted).map_err(|source| Error::Serialize {
            operation: operation.clone(),
            what: "the granted permissions",
            source,
        })?;
        let now = time::to_text(now);
        let updated = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE connections SET status = $1, status_reason = NULL, linked_by = $2, linked_at = $3, \
                 granted_permissions_json = $4, tenant_id = COALESCE($5, tenant_id), updated_at = $3 WHERE id = $6",
            )
            .bind(crate::ConnectionStatus::Connected.as_str())
            .bind(linked_by)
            .bind(&now)
            .bind(&granted)
            .bind(tenant_id)
            .bind(id.0)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation.clone()))?;
        found(updated, operation, id)
    }

    /// Keeps the report (JSON text) of a connection's latest test.
    ///
    /// # Errors
    /// [`Error::ConnectionNotFound`]; a database error.
    pub async fn record_connection_test(&self, id: ConnectionId, report_json: &str, now: DateTime<Utc>) -> Result<()> {
        let operation = format!("recording the test of connection {id}");
        let now = time::to_text(now);
        let updated = on_pool!(self, |pool| {
            sqlx::query("UPDATE connections SET last_test_json = $1, updated_at = $2 WHERE id = $3")
                .bind(report_json)
                .bind(&now)
                .bind(id.0)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation.clone()))?;
        found(updated, operation, id)
    }

    /// Deletes a connection with its secrets, certificates and OAuth states, in one transaction. `false` when
    /// there was no such connection.
    ///
    /// # Errors
    /// A database error (nothing is deleted then).
    pub async fn delete_connection(&self, id: ConnectionId) -> Result<bool> {
        let operation = format!("deleting connection {id}");
        let deleted = in_transaction!(self, operation, |tx| {
            for table in ["oauth_states", "connection_certificates", "connection_secrets"] {
                let sql = format!("DELETE FROM {table} WHERE connection_id = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::database(operation.clone()))?;
            }
            sqlx::query("DELETE FROM connections WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(Error::database(operation.clone()))?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    /// Stores a connection's sealed secret under `purpose` (e.g. `client_secret`, `refresh_token`,
    /// `private_key:<sha1>`), replacing what was there.
    ///
    /// # Errors
    /// [`Error::ReservedSecretPurpose`] for an empty purpose or one starting with `oauth_state:`;
    /// [`Error::ConnectionNotFound`]; a database error.
    pub async fn put_secret(
        &self,
        id: ConnectionId,
        purpose: &str,
        secret: &StoredSecret,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if purpose.is_empty() || purpose.starts_with(OAUTH_STATE_PURPOSE_PREFIX) {
            return Err(Error::ReservedSecretPurpose { connection: id, purpose: purpose.to_owned() });
        }
        let operation = format!("storing the {purpose} of connection {id}");
        let now = time::to_text(now);
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO connection_secrets (connection_id, purpose, key_id, ciphertext, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, purpose) DO UPDATE SET \
                 key_id = excluded.key_id, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
            )
            .bind(id.0)
            .bind(purpose)
            .bind(&secret.key_id)
            .bind(&secret.ciphertext)
            .bind(&now)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(write_error(operation, id))
    }

    /// A connection's sealed secret, if it has one for `purpose`.
    ///
    /// # Errors
    /// A database error.
    pub async fn secret(&self, id: ConnectionId, purpose: &str) -> Result<Option<StoredSecret>> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, (String, String)>(
                "SELECT key_id, ciphertext FROM connection_secrets WHERE connection_id = $1 AND purpose = $2",
            )
            .bind(id.0)
            .bind(purpose)
            .fetch_optional(pool)
            .await
        })
        .map_err(Error::database(format!("loading the {purpose} of connection {id}")))?;
        Ok(row.map(|(key_id, ciphertext)| StoredSecret { key_id, ciphertext }))
    }

    /// Replaces a connection's secret only if its ciphertext is still `expected_ciphertext` (a compare-and-swap
    /// in one statement): `true` when replaced, `false` when someone else replaced or deleted it first.
    ///
    /// # Errors
    /// A database error.
    pub async fn replace_secret_if(
        &self,
        id: ConnectionId,
        purpose: &str,
        expected_ciphertext: &str,
        new: &StoredSecret,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let operation = format!("replacing the {purpose} of connection {id}");
        let now = time::to_text(now);
        let updated = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE connection_secrets SET key_id = $1, ciphertext = $2, updated_at = $3 \
                 WHERE connection_id = $4 AND purpose = $5 AND ciphertext = $6",
            )
            .bind(&new.key_id)
            .bind(&new.ciphertext)
            .bind(&now)
            .bind(id.0)
            .bind(purpose)
            .bind(expected_ciphertext)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation))?;
        Ok(updated == 1)
    }

    /// Deletes a connection's secret (nothing happens when there is none).
    ///
    /// # Errors
    /// A database error.
    pub async fn delete_secret(&self, id: ConnectionId, purpose: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1 AND purpose = $2")
                .bind(id.0)
                .bind(purpose)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(Error::database(format!("deleting the {purpose} of connection {id}")))
    }

    /// Every sealed value in the store: connection secrets (by connection and purpose), then the verifiers of
    /// pending OAuth states (purpose `oauth_state:<hash>`).
    ///
    /// # Errors
    /// A database error.
    pub async fn list_secrets(&self) -> Result<Vec<SecretRow>> {
        let operation = "listing the sealed secrets";
        let (secrets, states) = on_pool!(self, |pool| {
            let secrets = sqlx::query_as::<_, (i64, String, String, String)>(
                "SELECT connection_id, purpose, key_id, ciphertext FROM connection_secrets \
                 ORDER BY connection_id, purpose",
            )
            .fetch_all(pool)
            .await;
            let states = sqlx::query_as::<_, (i64, String, String, String)>(
                "SELECT connection_id, state_hash, verifier_key_id, verifier_ciphertext FROM oauth_states \
                 WHERE verifier_key_id IS NOT NULL ORDER BY state_hash",
            )
            .fetch_all(pool)
            .await;
            (secrets, states)
        });
        let secrets = secrets.map_err(Error::database(operation))?;
        let states = states.map_err(Error::database(operation))?;
        let rows = secrets.into_iter().map(|(connection, purpose, key_id, ciphertext)| SecretRow {
            connection_id: ConnectionId(connection),
            purpose,
            secret: StoredSecret { key_id, ciphertext },
        });
        let verifiers = states.into_iter().map(|(connection, state_hash, key_id, ciphertext)| SecretRow {
            connection_id: ConnectionId(connection),
            purpose: crate::connection_types::oauth_state_context(&state_hash),
            secret: StoredSecret { key_id, ciphertext },
        });
        Ok(rows.chain(verifiers).collect())
    }

    /// Writes re-sealed values back where [`Self::list_secrets`] found them, in one transaction, overwriting
    /// whatever is there (a row deleted in the meantime stays deleted).
    ///
    /// # Errors
    /// A database error (nothing is written then).
    pub async fn rekey_secrets(&self, rows: &[SecretRow], now: DateTime<Utc>) -> Result<()> {
        let rows: Vec<(&SecretRow, Option<&str>)> = rows.iter().map(|row| (row, None)).collect();
        self.write_secret_rows(&rows, now).await.map(|_| ())
    }

    /// Like [`Self::rekey_secrets`], but each value replaces only the ciphertext it was re-sealed from (the second
    /// element of each pair), so a secret rotated concurrently (a refresh token) is not overwritten by an older
    /// one. One transaction; returns how many values were replaced — the others changed meanwhile and need
    /// another pass.
    ///
    /// # Errors
    /// A database error (nothing is written then).
    pub async fn rekey_secrets_if(&self, rows: &[(SecretRow, String)], now: DateTime<Utc>) -> Result<usize> {
        let rows: Vec<(&SecretRow, Option<&str>)> =
            rows.iter().map(|(row, expected)| (row, Some(expected.as_str()))).collect();
        self.write_secret_rows(&rows, now).await
    }

    async fn write_secret_rows(&self, rows: &[(&SecretRow, Option<&str>)], now: DateTime<Utc>) -> Result<usize> {
        let operation = format!("writing {} re-sealed secrets", rows.len());
        let now = time::to_text(now);
        let written = in_transaction!(self, operation, |tx| {
            let mut written = 0_usize;
            for (row, expected) in rows {
                let done = if let Some(state_hash) = row.purpose.strip_prefix(OAUTH_STATE_PURPOSE_PREFIX) {
                    sqlx::query(
                        "UPDATE oauth_states SET verifier_key_id = $1, verifier_ciphertext = $2 \
                         WHERE state_hash = $3 AND connection_id = $4 \
                         AND verifier_ciphertext = COALESCE($5, verifier_ciphertext)",
                    )
                    .bind(&row.secret.key_id)
                    .bind(&row.secret.ciphertext)
                    .bind(state_hash)
                    .bind(row.connection_id.0)
                    .bind(*expected)
                    .execute(&mut *tx)
                    .await
                } else {
                    sqlx::query(
                        "UPDATE connection_secrets SET key_id = $1, ciphertext = $2, updated_at = $3 \
                         WHERE connection_id = $4 AND purpose = $5 AND ciphertext = COALESCE($6, ciphertext)",
                    )
                    .bind(&row.secret.key_id)
                    .bind(&row.secret.ciphertext)
                    .bind(&now)
                    .bind(row.connection_id.0)
                    .bind(&row.purpose)
                    .bind(*expected)
                    .execute(&mut *tx)
                    .await
                };
                written += done.map_err(Error::database(operation.clone()))?.rows_affected() as usize;
            }
            written
        });
        Ok(written)
    }

    /// Adds a certificate to a connection; when it is `active`, the connection's other certificates stop being
    /// active (one transaction).
    ///
    /// # Errors
    /// [`Error::DuplicateCertificate`], [`Error::ConnectionNotFound`]; a database error.
    pub async fn add_certificate(&self, record: &CertificateRecord) -> Result<()> {
        let id = record.connection_id;
        let operation = format!("adding certificate {} to connection {id}", record.sha1_thumbprint);
        let sql = format!(
            "INSERT INTO connection_certificates ({CERTIFICATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        let (not_before, not_after, created_at) =
            (time::to_text(record.not_before), time::to_text(record.not_after), time::to_text(record.created_at));
        in_transaction!(self, operation, |tx| {
            if record.active {
                deactivate_certificates!(tx, id, operation);
            }
            let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id.0)
                .bind(&record.sha1_thumbprint)
                .bind(&record.sha256_thumbprint)
                .bind(&record.certificate_pem)
                .bind(&not_before)
                .bind(&not_after)
                .bind(record.active)
                .bind(&created_at)
                .execute(&mut *tx)
                .await;
            match inserted {
                Err(source) if is_unique_violation(&source) => {
                    return Err(Error::DuplicateCertificate {
                        connection: id,
                        sha1_thumbprint: record.sha1_thumbprint.clone(),
                    });
                }
                other => other.map_err(write_error(operation.clone(), id))?,
            };
        });
        Ok(())
    }

    /// A connection's certificates, newest first.
    ///
    /// # Errors
    /// A database error, or an unreadable stored value.
    pub async fn certificates(&self, id: ConnectionId) -> Result<Vec<CertificateRecord>> {
        let operation = format!("loading the certificates of connection {id}");
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM connection_certificates WHERE connection_id = $1 \
             ORDER BY created_at DESC, sha1_thumbprint"
        );
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, CertificateRow>(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_all(pool).await
        })
        .map_err(Error::database(operation.clone()))?;
        rows.into_iter().map(|row| row.into_record(&operation)).collect()
    }

    /// Makes one certificate the connection's only active one (one transaction).
    ///
    /// # Errors
    /// [`Error::CertificateNotFound`]; a database error.
    pub async fn activate_certificate(&self, id: ConnectionId, sha1_thumbprint: &str) -> Result<()> {
        let operation = format!("activating certificate {sha1_thumbprint} of connection {id}");
        in_transaction!(self, operation, |tx| {
            deactivate_certificates!(tx, id, operation);
            let updated = sqlx::query(
                "UPDATE connection_certificates SET active = $1 WHERE connection_id = $2 AND sha1_thumbprint = $3",
            )
            .bind(true)
            .bind(id.0)
            .bind(sha1_thumbprint)
            .execute(&mut *tx)
            .await
            .map_err(Error::database(operation.clone()))?
            .rows_affected();
            if updated == 0 {
                return Err(Error::CertificateNotFound {
                    operation,
                    connection: id,
                    sha1_thumbprint: sha1_thumbprint.to_owned(),
                });
            }
        });
        Ok(())
    }

    /// Removes a certificate from a connection (its private key is a secret: delete that separately).
    ///
    /// # Errors
    /// [`Error::CertificateNotFound`]; a database error.
    pub async fn remove_certificate(&self, id: ConnectionId, sha1_thumbprint: &str) -> Result<()> {
        let operation = format!("removing certificate {sha1_thumbprint} of connection {id}");
        let deleted = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM connection_certificates WHERE connection_id = $1 AND sha1_thumbprint = $2")
                .bind(id.0)
                .bind(sha1_thumbprint)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation.clone()))?;
        if deleted == 0 {
            return Err(Error::CertificateNotFound {
                operation,
                connection: id,
                sha1_thumbprint: sha1_thumbprint.to_owned(),
            });
        }
        Ok(())
    }

    /// Saves the state of a link in progress.
    ///
    /// # Errors
    /// [`Error::ConnectionNotFound`]; a database error (also when the state hash is already saved).
    pub async fn save_oauth_state(&self, state: &OAuthState) -> Result<()> {
        let id = state.connection_id;
        let operation = format!("saving an oauth state for connection {id}");
        let sql = format!(
            "INSERT INTO oauth_states ({OAUTH_STATE_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let expires_at = time::to_text(state.expires_at);
        let now = time::to_text(Utc::now());
        on_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&state.state_hash)
                .bind(id.0)
                .bind(state.purpose.as_str())
                .bind(&state.session_binding)
                .bind(state.verifier.as_ref().map(|verifier| verifier.key_id.as_str()))
                .bind(state.verifier.as_ref().map(|verifier| verifier.ciphertext.as_str()))
                .bind(&state.redirect_uri)
                .bind(&expires_at)
                .bind(&now)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(write_error(operation, id))
    }

    /// Takes (deletes and returns, in one statement) the state saved under `state_hash`: of callers racing for
    /// the same state, exactly one gets it. An expired state is returned too (the caller says it expired).
    ///
    /// # Errors
    /// A database error, or an unreadable stored value.
    pub async fn take_oauth_state(&self, state_hash: &str) -> Result<Option<OAuthState>> {
        let operation = "taking an oauth state";
        let sql = format!("DELETE FROM oauth_states WHERE state_hash = $1 RETURNING {OAUTH_STATE_COLUMNS}");
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, OAuthStateRow>(sqlx::AssertSqlSafe(sql)).bind(state_hash).fetch_optional(pool).await
        })
        .map_err(Error::database(operation))?;
        row.map(|row| row.into_state(operation)).transpose()
    }

    /// Deletes the states that expired at or before `now`; returns how many.
    ///
    /// # Errors
    /// A database error.
    pub async fn purge_expired_oauth_states(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = time::to_text(now);
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1")
                .bind(&now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database("purging expired oauth states"))
    }
}

/// `Ok` when an update touched a row, else [`Error::ConnectionNotFound`].
fn found(updated: u64, operation: String, connection: ConnectionId) -> Result<()> {
    if updated == 0 { Err(Error::ConnectionNotFound { operation, connection }) } else { Ok(()) }
}
