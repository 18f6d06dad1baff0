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
    /// The identity platform refused a token request made while linking (redeeming an authorization code), or
    /// the request could not be sent. The message keeps the AADSTS code and never contains a secret.
    #[error("{source}")]
    TokenRequest {
        /// What went wrong, as a token provider would report it.
        source: model::TokenError,
        /// The OAuth `error` value when the identity platform answered, e.g. `invalid_grant`.
        error_code: Option<String>,
        /// The AADSTS number when the identity platform answered, e.g. `54005` for a code redeemed twice.
        aadsts: Option<u32>,
    },
    /// A token from the identity platform could not be read (not a JWT, or its payload is not JSON), or lacks a
    /// claim Tenure needs.
    #[error("the {what} could not be read: {reason}")]
    UnreadableToken {
        /// Which token (`access token`, `id_token`).
        what: &'static str,
        /// What is wrong with it (never the token itself).
        reason: String,
    },
    /// The access token is for another resource than the one asked for, e.g. another national cloud's Graph.
    #[error("the access token is for {audience}, but {expected} was asked for; check the connection's national cloud")]
    UnexpectedAudience {
        /// The token's `aud`.
        audience: String,
        /// The resource asked for.
        expected: String,
    },
    /// A certificate and key pair could not be generated.
    #[error("a certificate for {common_name} could not be generated: {reason}")]
    CertificateGeneration {
        /// The subject's common name asked for.
        common_name: String,
        /// Why.
        reason: String,
    },
    /// The master key text (a key file or `TENURE_MASTER_KEY`) is not a valid key ring. The reason never quotes
    /// the key text.
    #[error("the master key in {origin} cannot be used: {reason}")]
    InvalidMasterKey {
        /// Where the text came from: the key file's path or the environment variable's name.
        origin: String,
        /// What is wrong (which line, how many bytes), never the key itself.
        reason: String,
    },
    /// The master key file could not be read or written.
    #[error("the master key file {path} {action}: {reason}")]
    MasterKeyFile {
        /// The file.
        path: std::path::PathBuf,
        /// What was being done (`cannot be read`, `cannot be written`).
        action: &'static str,
        /// The operating system's reason.
        reason: String,
    },
    /// A sealed secret names a master key that the key ring does not hold.
    #[error(
        "the secret for {context} was sealed with master key {key_id}, which the key ring ({known}) does not \
         hold: the key file may be missing an older key (restore it from the backup taken before the last \
         `tenure vault rotate-key`), or the secret must be entered or linked again"
    )]
    UnknownMasterKey {
        /// The key id stored with the ciphertext.
        key_id: String,
        /// The ids of the keys the ring holds, comma-separated.
        known: String,
        /// The place the secret belongs to (`connection:7:refresh_token`).
        context: String,
    },
    /// A sealed secret does not open: its ciphertext was altered, it was moved from another place (its context
    /// differs), or it is not a sealed secret at all.
    #[error(
        "the secret for {context} (master key {key_id}) does not open: {reason}; it was altered or copied from \
         elsewhere, so enter or link it again"
    )]
    UnopenableSecret {
        /// The place the secret belongs to.
        context: String,
        /// The key id stored with the ciphertext.
        key_id: String,
        /// Why, without any secret material.
        reason: &'static str,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
