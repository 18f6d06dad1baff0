//! Credentials and tokens: the token layer through which Tenure's Microsoft API clients (`graph`, later
//! `exchange`) get access tokens, behind [`model::AccessTokenProvider`].
//!
//! Today it holds the client-credentials grant for a customer-owned app registration
//! ([`client_credentials`]: a client secret or a certificate, in every national cloud). Every provider shares
//! the [`token_cache`] (a token is reused until five minutes before its expiry; concurrent callers share one
//! refresh) and one way of talking to the identity platform's token endpoint, with its error answers turned into
//! [`model::TokenError`]s that keep the `AADSTS` code and never contain a secret.
//!
//! The delegated connection ([`authorization_code`]: an admin links Tenure's multi-tenant app with PKCE, and a
//! rotating refresh token serves afterwards) is a further provider on the same pieces. Around the providers:
//! [`claims`] reads what a token grants, [`permissions`] says which permission each feature needs and what is
//! lost without it, and [`generated_certificate`] makes the key pairs of certificate credentials.
//!
//! Secrets at rest: [`master_key`] holds the vault's master keys (a key file or the environment, never the
//! database) and [`seal`] encrypts each stored secret with AES-256-GCM under the current key, bound to its place.

pub mod authorization_code;
pub mod claims;
pub mod client_credentials;
mod error;
pub mod generated_certificate;
pub mod master_key;
pub mod permissions;
pub mod seal;
pub mod token_cache;
mod token_endpoint;

pub use authorization_code::{
    CallbackOutcome, DelegatedAppConfig, DelegatedTokenProvider, LinkedGrant, Pkce, RefreshTokenStore, TokenStoreFuture,
};
pub use claims::{GrantedPermissions, granted_permissions};
pub use client_credentials::{ClientCredential, ClientCredentialsConfig, ClientCredentialsProvider};
pub use error::{Error, Result};
pub use generated_certificate::{GeneratedCertificate, generate_certificate};
pub use master_key::MasterKeyRing;
pub use permissions::{Feature, GrantType, MissingPermission, missing_permissions};
pub use seal::SealedSecret;
pub use token_cache::TokenCache;
