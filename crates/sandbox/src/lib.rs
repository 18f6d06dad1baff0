//! Tenure's sandbox: a faithful local emulation of the Microsoft identity platform and Microsoft Graph (and,
//! later, the Exchange Online admin API), served over real HTTP(S) on loopback.
//!
//! It is written from Microsoft's API contract (`shared/reference/microsoft-protocols.md`) and shares no code
//! with Tenure's own Microsoft clients, so a misreading of the protocol cannot hide on both sides. Start it
//! with [`Sandbox::builder`]; tests bind `127.0.0.1:0` themselves and pass the listener in.
//!
//! Map of the crate: [`dispatch`] picks the service and cloud of each request; [`identity`] is the login
//! host; [`graph`] is Microsoft Graph; [`directory`] holds the tenants; [`knobs`] injects latency, throttling,
//! replication delay and failures; [`admin`] is the sandbox's own admin API.

pub mod admin;
pub mod bulk;
pub mod clock;
pub mod cloud;
pub mod directory;
pub mod dispatch;
pub mod exchange;
pub mod graph;
pub mod identity;
pub mod keys;
pub mod knobs;
pub mod permissions;
pub mod persist;
pub mod seed;
pub mod server;
pub mod state;
pub mod tls;
pub mod token_cache;
pub mod tokens;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::directory::TenantRef;
use crate::dispatch::Routers;
use crate::keys::SigningKeys;
use crate::knobs::{KnobState, Knobs};
use crate::persist::StateFile;
use crate::seed::Seed;
use crate::state::AppState;
use crate::tls::TlsMaterial;

/// Errors starting or configuring a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Key or certificate generation failed.
    #[error("sandbox cryptography: {0}")]
    Crypto(String),
    /// The seed file is invalid.
    #[error("sandbox seed: {0}")]
    Seed(String),
    /// Reading or writing a file or socket failed.
    #[error("sandbox I/O ({context}): {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A saved state (state file or export) cannot be read back.
    #[error("sandbox state: {0}")]
    State(String),
}

/// Entry point: `Sandbox::builder().seed(seed).start(listener)`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// A builder with the bundled sample seed and all knobs off.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder { seed: Seed::sample(), knobs: Knobs::default(), state_file: None }
    }
}

/// Configures a sandbox before it starts.
#[derive(Debug)]
pub struct SandboxBuilder {
    seed: Seed,
    knobs: Knobs,
    state_file: Option<PathBuf>,
}

impl SandboxBuilder {
    /// Replaces the seed.
    pub fn seed(mut self, seed: Seed) -> SandboxBuilder {
        self.seed = seed;
        self
    }

    /// Sets the realism knobs.
    pub fn knobs(mut self, knobs: Knobs) -> SandboxBuilder {
        self.knobs = knobs;
        self
    }

    /// Keeps the state in `path`: when the file exists the sandbox starts from it instead of the seed (the seed
    /// is still checked); otherwise it starts from the seed and writes the file at once. While running it saves
    /// the state every [`persist::AUTOSAVE_INTERVAL`] when something changed, and [`RunningSandbox::stop`] saves
    /// it a last time.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> SandboxBuilder {
        self.state_file = Some(path.into());
        self
    }

    /// Builds the state and serves it on `listener` (HTTPS and HTTP on the same port) until
    /// [`RunningSandbox::shutdown`] or drop.
    pub async fn start(self, listener: TcpListener) -> Result<RunningSandbox, Error> {
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Io { context: "reading the listener address".into(), source })?;
        let seeded = self.seed.build(chrono::Utc::now())?;
        let restored = match &self.state_file {
            Some(path) => persist::load_file(path)?,
            None => None,
        };
        let restored_from_state_file = restored.is_some();
        let (directory, clock_offset, saved_identity) = match restored {
            Some(restored) => (restored.directory, restored.clock_offset, restored.identity),
            None => (seeded, chrono::Duration::zero(), None),
        };
        let keys = SigningKeys::generate()?;
        let tls = TlsMaterial::generate()?;
        let state = Arc::new(AppState::new(directory, keys, tls, KnobState::new(self.knobs)));
        state.clock.advance(clock_offset);
        if let Some(saved_identity) = &saved_identity {
            let path = self.state_file.as_deref().unwrap_or(Path::new("")).display().to_string();
            let restoring = state.identity.restore(saved_identity);
            restoring.map_err(|message| Error::State(format!("state file {path}: {message}")))?;
        }
        let state_file = self.state_file.map(|path| Arc::new(StateFile::new(path)));
        if let Some(file) = &state_file {
            if restored_from_state_file {
                file.mark_saved(&state);
            } else {
                // Writing at once reports an unwritable path now rather than at the first autosave.
                file.save_if_changed(&state)?;
            }
        }
        let routers = Routers {
            login: identity::router(state.clone()),
            graph: graph::router(state.clone()),
            exchange: exchange::router(state.clone()),
            admin: admin::router(state.clone()),
        };
        state.routers.set(routers).expect("routers are set once");
        let dispatch_state = state.clone();
        let app = Router::new().fallback(move |request: axum::extract::Request| {
            let state = dispatch_state.clone();
            async move { dispatch::dispatch(state, request).await }
        });
        let (shutdown_sender, shutdown_receiver) = watch::channel(false);
        let server_config = state.tls.server_config.clone();
        let autosave = state_file
            .clone()
            .map(|file| tokio::spawn(persist::autosave(state.clone(), file, shutdown_receiver.clone())));
        let task = tokio::spawn(server::serve(listener, app, server_config, shutdown_receiver));
        Ok(RunningSandbox {
            addr,
            state,
            shutdown: shutdown_sender,
            task: Some(task),
            state_file,
            autosave,
            restored_from_state_file,
        })
    }
}

/// A sandbox serving requests.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    state_file: Option<Arc<StateFile>>,
    autosave: Option<JoinHandle<()>>,
    restored_from_state_file: bool,
}

impl RunningSandbox {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` — the login host (Global) and, under `/v1.0`, Graph.
    pub fn https_base(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT` — the same services over plain HTTP.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The CA certificate (PEM) that clients must trust for HTTPS.
    pub fn ca_pem(&self) -> &str {
        &self.state.tls.ca_pem
    }

    /// Direct access to the state, for tests and the admin API.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// A tenant by GUID or domain.
    pub fn tenant(&self, name: &str) -> Option<TenantRef> {
        self.state.directory.tenant(name)
    }

    /// `https://127.0.0.1:PORT/_sandbox` — the sandbox's own admin API.
    pub fn admin_base(&self) -> String {
        format!("https://{}/_sandbox", self.addr)
    }

    /// The state file, when the sandbox keeps one.
    pub fn state_file(&self) -> Option<&Path> {
        self.state_file.as_deref().map(StateFile::path)
    }

    /// Whether the sandbox started from its state file rather than from the seed.
    pub fn restored_from_state_file(&self) -> bool {
        self.restored_from_state_file
    }

    /// Saves the state to the state file now if it changed since the last save; returns whether it wrote the
    /// file (`false` also when there is no state file).
    pub fn save_state(&self) -> Result<bool, Error> {
        match &self.state_file {
            Some(file) => file.save_if_changed(&self.state),
            None => Ok(false),
        }
    }

    /// Stops accepting connections, waits for the accept loop to end, and saves the state a last time (when
    /// there is a state file).
    pub async fn stop(mut self) -> Result<(), Error> {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(autosave) = self.autosave.take() {
            let _ = autosave.await;
        }
        self.save_state().map(|_| ())
    }

    /// Like [`RunningSandbox::stop`], logging a failure to save instead of returning it.
    pub async fn shutdown(self) {
        if let Err(error) = self.stop().await {
            tracing::warn!(error = %error, "Saving the sandbox state failed.");
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
