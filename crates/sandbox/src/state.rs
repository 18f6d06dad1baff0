//! The shared state of a running sandbox, handed to every handler.

use std::sync::OnceLock;

use crate::clock::Clock;
use crate::directory::Directory;
use crate::dispatch::Routers;
use crate::exchange::throttle::ExchangeLimits;
use crate::identity::IdentityState;
use crate::keys::SigningKeys;
use crate::knobs::KnobState;
use crate::tls::TlsMaterial;
use crate::token_cache::TokenCache;

/// Everything a sandbox holds.
#[derive(Debug)]
pub struct AppState {
    /// Tenants and apps.
    pub directory: Directory,
    /// The adjustable clock.
    pub clock: Clock,
    /// Token-signing key.
    pub keys: SigningKeys,
    /// TLS material (CA PEM for clients).
    pub tls: TlsMaterial,
    /// Authorization codes, refresh tokens, replay caches, sign-in sessions.
    pub identity: IdentityState,
    /// Realism knobs and their runtime state.
    pub knobs: KnobState,
    /// Verified access tokens.
    pub token_cache: TokenCache,
    /// The Exchange admin API's rate and concurrency limits.
    pub exchange_limits: ExchangeLimits,
    pub(crate) routers: OnceLock<Routers>,
}

impl AppState {
    /// Creates the state; routers are attached by [`crate::SandboxBuilder::start`].
    pub(crate) fn new(directory: Directory, keys: SigningKeys, tls: TlsMaterial, knobs: KnobState) -> AppState {
        AppState {
            directory,
            clock: Clock::default(),
            keys,
            tls,
            identity: IdentityState::default(),
            knobs,
            token_cache: TokenCache::default(),
            exchange_limits: ExchangeLimits::default(),
            routers: OnceLock::new(),
        }
    }

    /// The service routers.
    pub fn routers(&self) -> Routers {
        self.routers.get().expect("routers are attached before the first request").clone()
    }
}

impl std::fmt::Debug for Routers {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Routers")
    }
}
