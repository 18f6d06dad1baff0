//! [`AppState`]: what every handler shares — the store, the connection service and the server's settings.

use std::sync::Arc;

use chrono::Duration;
use engine::connections::ConnectionService;
use store::Store;

use crate::auth::session::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
use crate::auth::sign_in_throttle::SignInThrottle;

/// How the web server presents itself.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The address admins' browsers use (`https://tenure.example.com`), without a trailing slash. With `https`
    /// the cookies are `Secure` and responses carry `Strict-Transport-Security`.
    pub public_url: String,
    /// How long a sign-in lasts (absolute, not renewed by activity).
    pub session_lifetime: Duration,
}

impl ServerSettings {
    /// Settings for `public_url` with a twelve-hour session.
    #[must_use]
    pub fn new(public_url: &str) -> Self {
        Self { public_url: public_url.trim_end_matches('/').to_owned(), session_lifetime: Duration::hours(12) }
    }

    /// Whether the public URL is https.
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.public_url.to_ascii_lowercase().starts_with("https://")
    }
}

/// The shared state of the web server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    connections: ConnectionService,
    settings: ServerSettings,
    sign_in_throttle: SignInThrottle,
}

impl AppState {
    /// State over the connection service (and its store) with `settings`. The service's public base URL should
    /// be `settings.public_url`, so that its OAuth redirect URI comes back to this server.
    #[must_use]
    pub fn new(connections: ConnectionService, settings: ServerSettings) -> Self {
        Self { inner: Arc::new(Inner { connections, settings, sign_in_throttle: SignInThrottle::default() }) }
    }

    /// The connection service.
    #[must_use]
    pub fn connections(&self) -> &ConnectionService {
        &self.inner.connections
    }

    /// The store (admin accounts, sessions, connections).
    #[must_use]
    pub fn store(&self) -> &Store {
        self.inner.connections.store()
    }

    /// Failed sign-ins per user name.
    #[must_use]
    pub fn sign_in_throttle(&self) -> &SignInThrottle {
        &self.inner.sign_in_throttle
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &ServerSettings {
        &self.inner.settings
    }

    /// Whether cookies get `Secure`.
    #[must_use]
    pub fn secure_cookies(&self) -> bool {
        self.inner.settings.is_https()
    }

    /// The session cookie's name (`__Host-` prefixed over https).
    #[must_use]
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
    }
}
