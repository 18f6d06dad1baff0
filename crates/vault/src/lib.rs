//! Credentials and tokens: the token layer through which Tenure's Microsoft API clients (`graph`, later
//! `exchange`) get access tokens, behind [`model::AccessTokenProvider`].
//!
//! Today it holds the client-credentials grant for a customer-owned app registration
//! ([`client_credentials`]: a client secret or a certificate, in every national cloud). Every provider shares
//! the [`token_cache`] (a token is reused until five minutes before its expiry; concurrent callers share one
//! refresh) and one way of talking to the identity platform's token endpoint, with its error answers turned into
//! [`model::TokenError`]s that keep the `AADSTS` code and never contain a secret. Later connection types
//! (delegated refresh tokens) are further providers on the same pieces.

pub mod client_credentials;
mod error;
pub mod token_cache;
mod token_endpoint;

pub use client_credentials::{ClientCredential, ClientCredentialsConfig, ClientCredentialsProvider};
pub use error::{Error, Result};
pub use token_cache::TokenCache;
