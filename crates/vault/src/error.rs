//! Configuration problems found when a token provider is built: a setting that cannot be right, a certificate or
//! private key that cannot be read or used, an expired certificate. Problems while getting a token are
//! [`model::TokenError`]s instead, because that is what the API clients see through
//! [`model::AccessTokenProvider`].
//!
//! No variant carries secret material: private-key problems say what is wrong, never what the key contains.

use chrono::{DateTime, Utc};

/// A token provider's configuration cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A setting has a value that cannot be right.
    #[error("invalid {setting} {value:?}: {reason}")]
    InvalidSetting {
        /// Which setting (`tenant_id`, `client_id`, `resource`, `login_base_url`).
        setting: &'static str,
        /// The value given (never a secret).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate PEM could not be read as an X.509 certificate.
    #[error("the certificate of client {client_id} could not be read: {reason}")]
    InvalidCertificate {
        /// The app registration's client id.
        client_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate is past its `notAfter` date.
    #[error(
        "the certificate {subject} (sha-256 thumbprint {thumbprint}) of client {client_id} expired on {not_after}; \
         register a new certificate on the app registration and configure it here"
    )]
    CertificateExpired {
        /// The app registration's client id.
        client_id: String,
        /// The certificate's subject.
        subject: String,
        /// Its SHA-256 thumbprint, upper-case hex as the Entra portal shows it.
        thumbprint: String,
        /// When it expired.
        not_after: DateTime<Utc>,
    },
    /// The certificate's `notBefore` date has not come yet.
    #[error(
        "the certificate {subject} (sha-256 thumbprint {thumbprint}) of client {client_id} is not valid before \
         {not_before}"
    )]
    CertificateNotYetValid {
        /// The app registration's client id.
        client_id: String,
        /// The certificate's subject.
        subject: String,
        /// Its SHA-256 thumbprint, upper-case hex.
        thumbprint: String,
        /// When it becomes valid.
        not_before: DateTime<Utc>,
    },
    /// The private key could not be read or cannot sign (Entra accepts RSA keys only).
    #[error("the private key of client {client_id} cannot be used: {reason}")]
    InvalidPrivateKey {
        /// The app registration's client id.
        client_id: String,
        /// What is wrong with it (never the key itself).
        reason: String,
    },
    /// The private key does not belong to the certificate.
    #[error(
        "the private key of client {client_id} does not belong to the certificate {subject} (sha-256 thumbprint \
         {thumbprint}); configure the key the certificate was made for"
    )]
    KeyMismatch {
        /// The app registration's client id.
        client_id: String,
        /// The certificate's subject.
        subject: String,
        /// Its SHA-256 thumbprint, upper-case hex.
        thumbprint: String,
    },
    /// The extra root certificate to trust could not be read.
    #[error("the extra root certificate could not be read: {reason}")]
    InvalidRootCertificate {
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("the https client for the token endpoint could not be built: {reason}")]
    HttpClient {
        /// Why.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
