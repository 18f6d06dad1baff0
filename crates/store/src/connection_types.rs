//! The values of the connection tables: connections to Microsoft tenants, their sealed secrets, their generated
//! certificates and the single-use OAuth states of a link in progress.
//!
//! Enumerations are stored as the words their `as_str` returns (checked by the schema). Secrets reach the store
//! only sealed by the vault ([`StoredSecret`] is opaque here: a key id and a ciphertext); the store never sees a
//! master key or a plaintext.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use model::NationalCloud;
use serde::Serialize;

use crate::types::UnknownStatus;

/// The prefix of the [`SecretRow::purpose`] of an OAuth state's sealed PKCE verifier (`oauth_state:<hash>`);
/// connection secrets may not use it.
pub const OAUTH_STATE_PURPOSE_PREFIX: &str = "oauth_state:";

/// A connection's identifier, assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ConnectionId(pub i64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ConnectionId {
    type Err = InvalidConnectionId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self(id)),
            _ => Err(InvalidConnectionId(text.to_owned())),
        }
    }
}

/// A text that is not a connection id (a positive whole number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a connection id: connection ids are positive whole numbers, as `tenure connection list` shows")]
pub struct InvalidConnectionId(pub String);

/// Defines a stored enumeration: `as_str`, `ALL`, `Display`, `FromStr` (error [`UnknownStatus`]), `Serialize` as the
/// stored word.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The word stored in the database.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text).ok_or_else(|| UnknownStatus(text.to_owned()))
            }
        }
    };
}

stored_enum! {
    /// What a connection connects to, and how Tenure is registered there.
    ConnectionKind {
        /// Entra ID through Tenure's multi-tenant app ("Service provider application"), linked by an admin.
        EntraDelegated => "entra_delegated",
        /// Entra ID through the customer's own app registration ("Customer owned application").
        EntraApp => "entra_app",
        /// Exchange Online, by a linked service account or app-only with a certificate.
        Exchange => "exchange",
    }
}

stored_enum! {
    /// How a connection authenticates.
    ConnectionAuth {
        /// A delegated refresh token from a linked sign-in.
        Delegated => "delegated",
        /// Client credentials with a client secret.
        ClientSecret => "client_secret",
        /// Client credentials with a certificate Tenure generated.
        Certificate => "certificate",
    }
}

stored_enum! {
    /// Whether a connection can be used.
    ConnectionStatus {
        /// Created, not linked (or its credential not yet proven).
        NotLinked => "not_linked",
        /// The signing-in user could not consent; an admin-consent request is pending.
        WaitingAdminApproval => "waiting_admin_approval",
        /// Linked and usable.
        Connected => "connected",
        /// The grant is gone (revoked, expired, consent withdrawn): an admin must link it again.
        NeedsRelink => "needs_relink",
    }
}

stored_enum! {
    /// What an OAuth `state` was issued for.
    OAuthPurpose {
        /// A Link Account sign-in (authorization code with PKCE).
        Link => "link",
        /// An admin granting consent for the tenant (`v2.0/adminconsent`).
        AdminConsent => "admin_consent",
    }
}

/// A connection to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnection {
    /// The admin's name for it, unique.
    pub name: String,
    /// What it connects to.
    pub kind: ConnectionKind,
    /// How it authenticates.
    pub auth: ConnectionAuth,
    /// The national cloud.
    pub cloud: NationalCloud,
    /// The tenant id, when known (customer-owned apps; delegated connections learn it when linked).
    pub tenant_id: Option<String>,
    /// The app registration's client id (customer-owned apps).
    pub client_id: Option<String>,
}

/// A stored connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Its id.
    pub id: ConnectionId,
    /// Its unique name.
    pub name: String,
    /// What it connects to.
    pub kind: ConnectionKind,
    /// How it authenticates.
    pub auth: ConnectionAuth,
    /// The national cloud.
    pub cloud: NationalCloud,
    /// The tenant id, once known.
    pub tenant_id: Option<String>,
    /// The app registration's client id.
    pub client_id: Option<String>,
    /// Whether it can be used.
    pub status: ConnectionStatus,
    /// Why it has its status, for the admin (e.g. the identity platform's answer when it needs re-linking).
    pub status_reason: Option<String>,
    /// Who linked it (the signed-in user's name) or which app.
    pub linked_by: Option<String>,
    /// When it was linked.
    pub linked_at: Option<DateTime<Utc>>,
    /// The permissions granted when it was linked or last tested.
    pub granted_permissions: Vec<String>,
    /// The last connection test's report (JSON text, opaque to the store).
    pub last_test: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A certificate generated for a connection (the public part; its private key is a sealed secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateRecord {
    /// The connection.
    pub connection_id: ConnectionId,
    /// SHA-1 thumbprint, upper-case hex (as the Entra portal shows it); unique per connection.
    pub sha1_thumbprint: String,
    /// SHA-256 thumbprint, base64url without padding (`x5t#S256`).
    pub sha256_thumbprint: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
    /// Whether this is the certificate the connection signs with (at most one per connection).
    pub active: bool,
    /// When it was generated.
    pub created_at: DateTime<Utc>,
}

/// A sealed secret as the store keeps it: the id of the master key that sealed it and the ciphertext. The store
/// cannot open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// The master key's id.
    pub key_id: String,
    /// The sealed bytes (base64).
    pub ciphertext: String,
}

/// One sealed value anywhere in the store, with enough to write it back: a connection secret (`purpose` as stored,
/// e.g. `refresh_token`) or an OAuth state's verifier (`purpose` = `oauth_state:<state hash>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    /// The connection it belongs to.
    pub connection_id: ConnectionId,
    /// What it is and where it lives.
    pub purpose: String,
    /// The sealed value.
    pub secret: StoredSecret,
}

impl SecretRow {
    /// The sealing context (associated data) of this value: `oauth_state:<hash>` for an OAuth state's verifier,
    /// `connection:<id>:<purpose>` for a connection secret.
    #[must_use]
    pub fn seal_context(&self) -> String {
        if self.purpose.starts_with(OAUTH_STATE_PURPOSE_PREFIX) {
            self.purpose.clone()
        } else {
            connection_secret_context(self.connection_id, &self.purpose)
        }
    }
}

/// The sealing context of a connection's secret: `connection:<id>:<purpose>`.
#[must_use]
pub fn connection_secret_context(id: ConnectionId, purpose: &str) -> String {
    format!("connection:{id}:{purpose}")
}

/// The sealing context of an OAuth state's verifier: `oauth_state:<state hash>`.
#[must_use]
pub fn oauth_state_context(state_hash: &str) -> String {
    format!("{OAUTH_STATE_PURPOSE_PREFIX}{state_hash}")
}

/// A link in progress: the OAuth `state` (kept as its hash), single use, expiring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// The hash of the `state` value sent to the identity platform.
    pub state_hash: String,
    /// The connection being linked.
    pub connection_id: ConnectionId,
    /// What it was issued for.
    pub purpose: OAuthPurpose,
    /// What binds it to the admin's session (a hash of the session id).
    pub session_binding: String,
    /// The sealed PKCE verifier (links; admin consent has none).
    pub verifier: Option<StoredSecret>,
    /// The redirect URI the authorize request named (the code redemption must repeat it).
    pub redirect_uri: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_ids_parse() {
        for kind in ConnectionKind::ALL {
            assert_eq!(kind.as_str().parse::<ConnectionKind>().unwrap(), *kind);
        }
        for status in ConnectionStatus::ALL {
            assert_eq!(status.to_string().parse::<ConnectionStatus>().unwrap(), *status);
        }
        assert_eq!(serde_json::to_string(&ConnectionAuth::ClientSecret).unwrap(), "\"client_secret\"");
        assert!("linked".parse::<ConnectionStatus>().is_err());
        assert_eq!("7".parse::<ConnectionId>().unwrap(), ConnectionId(7));
        assert_eq!(ConnectionId(7).to_string(), "7");
        assert!("0".parse::<ConnectionId>().is_err() && "x".parse::<ConnectionId>().is_err());
    }

    #[test]
    fn seal_contexts_name_the_place() {
        let secret = StoredSecret { key_id: "k".into(), ciphertext: "c".into() };
        let row = SecretRow { connection_id: ConnectionId(3), purpose: "refresh_token".into(), secret: secret.clone() };
        assert_eq!(row.seal_context(), "connection:3:refresh_token");
        let state = SecretRow { connection_id: ConnectionId(3), purpose: oauth_state_context("ab12"), secret };
        assert_eq!(state.seal_context(), "oauth_state:ab12");
    }
}
