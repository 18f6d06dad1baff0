//! Certificates Tenure generates for app-only connections: one active key pair, renewal beside it, download of
//! the public part for the app registration.
//!
//! Renewal adds a new, inactive certificate; the admin uploads it to the app registration and activates it, after
//! which the old one can be removed. Until then runs keep using the active one, so a renewal never breaks a
//! working connection. Private keys are sealed in the store under `private_key:{sha1 thumbprint}`.

use store::{CertificateRecord, Connection, ConnectionAuth, ConnectionId};

use super::{ConnectionError, ConnectionService, ConnectionView};

/// How long a generated certificate is valid.
const VALID_DAYS: u32 = 730;

/// The secret purpose under which a certificate's private key is sealed.
pub(super) fn key_purpose(sha1_thumbprint: &str) -> String {
    format!("private_key:{sha1_thumbprint}")
}

impl ConnectionService {
    /// Generates a certificate for `connection`, seals its key and records it (`active` for the first one).
    pub(super) async fn add_generated_certificate(
        &self,
        connection: &Connection,
        active: bool,
    ) -> Result<CertificateRecord, ConnectionError> {
        let now = self.now();
        let generated = vault::generate_certificate(&format!("Tenure {}", connection.name), now, VALID_DAYS)?;
        self.put_secret(connection.id, &key_purpose(&generated.sha1_thumbprint), &generated.private_key_pem).await?;
        let record = CertificateRecord {
            connection_id: connection.id,
            sha1_thumbprint: generated.sha1_thumbprint,
            sha256_thumbprint: generated.sha256_thumbprint,
            certificate_pem: generated.certificate_pem,
            not_before: generated.not_before,
            not_after: generated.not_after,
            active,
            created_at: now,
        };
        self.inner.store.add_certificate(&record).await?;
        if active {
            self.inner.store.activate_certificate(connection.id, &record.sha1_thumbprint).await?;
        }
        Ok(record)
    }

    /// Renewal: a new certificate beside the active one, inactive until [`Self::activate_certificate`].
    ///
    /// # Errors
    ///
    /// Unknown id, a connection without certificates, the store failed.
    pub async fn renew_certificate(&self, id: ConnectionId) -> Result<ConnectionView, ConnectionError> {
        let connection = self.record(id).await?;
        require_certificate_auth(&connection)?;
        let record = self.add_generated_certificate(&connection, false).await?;
        tracing::info!(connection_id = %id, thumbprint = %record.sha1_thumbprint, "Certificate generated for renewal.");
        self.get(id).await
    }

    /// Makes certificate `sha1` the one runs use (after the admin uploaded it to the app registration).
    ///
    /// # Errors
    ///
    /// Unknown id or thumbprint, the store failed.
    pub async fn activate_certificate(&self, id: ConnectionId, sha1: &str) -> Result<ConnectionView, ConnectionError> {
        let connection = self.record(id).await?;
        require_certificate_auth(&connection)?;
        let certificates = self.inner.store.certificates(id).await?;
        if !certificates.iter().any(|certificate| certificate.sha1_thumbprint.eq_ignore_ascii_case(sha1)) {
            return Err(ConnectionError::NotFound(format!("certificate {sha1} of connection \"{}\"", connection.name)));
        }
        let sha1 = sha1.to_ascii_uppercase();
        self.inner.store.activate_certificate(id, &sha1).await?;
        tracing::info!(connection_id = %id, thumbprint = %sha1, "Certificate activated.");
        self.get(id).await
    }

    /// The public certificate `sha1` (PEM), for the admin to upload to the app registration.
    ///
    /// # Errors
    ///
    /// Unknown id or thumbprint, the store failed.
    pub async fn public_certificate(&self, id: ConnectionId, sha1: &str) -> Result<String, ConnectionError> {
        let connection = self.record(id).await?;
        self.inner
            .store
            .certificates(id)
            .await?
            .into_iter()
            .find(|certificate| certificate.sha1_thumbprint.eq_ignore_ascii_case(sha1))
            .map(|certificate| certificate.certificate_pem)
            .ok_or_else(|| {
                ConnectionError::NotFound(format!("certificate {sha1} of connection \"{}\"", connection.name))
            })
    }
}

fn require_certificate_auth(connection: &Connection) -> Result<(), ConnectionError> {
    if connection.auth == ConnectionAuth::Certificate {
        Ok(())
    } else {
        Err(ConnectionError::Invalid(format!("connection \"{}\" does not use a certificate", connection.name)))
    }
}
