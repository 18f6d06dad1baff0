//! `tenure connection add | list | show | link | relink | test | certificate | remove`: stored connections to
//! Microsoft tenants from the command line, the same service the web UI uses.
//!
//! `link` prints the sign-in URL and waits for the OAuth callback on the address of `[server] bind` (the redirect
//! URI `{public_url}/oauth/callback` must reach it: stop `tenure serve` first, or link from the web UI). The
//! sign-in is bound to this process: its `state` is accepted only by the listener this command started.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use engine::EngineConfig;
use engine::connections::{ConnectionService, ConnectionView, NewAppCredential, NewConnectionRequest, TestReport};
use model::{NationalCloud, Secret};
use store::Store;
use tokio::net::TcpListener;

use crate::engine_commands::ConfigArgs;

/// `tenure connection …`.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// What to do.
    #[command(subcommand)]
    action: ConnectionAction,
}

/// The connection kinds, as the product names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Entra ID — Service provider application: Tenure's multi-tenant app, linked by an admin's sign-in.
    ServiceProvider,
    /// Entra ID — Customer owned application: your app registration (client ID, tenant ID).
    CustomerApp,
    /// Exchange Online through a service account that signs in.
    Exchange,
    /// Exchange Online app-only, with a certificate Tenure generates.
    ExchangeApp,
}

/// `tenure connection` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConnectionAction {
    /// Create a connection.
    Add {
        /// Its name.
        name: String,
        /// Its kind.
        #[arg(long = "type", value_enum)]
        kind: KindArg,
        /// National cloud: global, us-gov-high, us-gov-dod or china.
        #[arg(long, default_value = "global")]
        cloud: NationalCloud,
        /// The directory (tenant) ID (customer-owned and Exchange app connections).
        #[arg(long)]
        tenant_id: Option<String>,
        /// The application (client) ID (customer-owned and Exchange app connections).
        #[arg(long)]
        client_id: Option<String>,
        /// A file holding the app's client secret; without it Tenure generates a certificate.
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
    },
    /// List connections.
    List,
    /// Show one connection: status, who linked it, permissions, certificates, last test.
    Show {
        /// Its name.
        name: String,
    },
    /// Link a delegated connection: print the sign-in URL and wait for the callback.
    Link(LinkArgs),
    /// Link a delegated connection again (after "needs re-link").
    Relink(LinkArgs),
    /// Get a token, check the granted permissions and read once through the API.
    Test {
        /// Its name.
        name: String,
    },
    /// Certificates of an app connection: renew, activate, download.
    Certificate {
        /// Its name.
        name: String,
        /// Generate a new certificate beside the active one.
        #[arg(long)]
        renew: bool,
        /// Make this certificate (SHA-1 thumbprint) the active one.
        #[arg(long)]
        activate: Option<String>,
        /// Write this certificate's public part (SHA-1 thumbprint; default the newest) to `--out`.
        #[arg(long)]
        download: Option<Option<String>>,
        /// Where `--download` writes.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Remove a connection and its secrets.
    Remove {
        /// Its name.
        name: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
}

/// `link` / `relink`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The connection's name.
    name: String,
    /// Instead of signing in, ask an administrator of this tenant (ID or domain) to grant consent for the
    /// organisation (Link Account is needed afterwards).
    #[arg(long)]
    admin_consent: Option<String>,
    /// Listen for the callback here instead of `[server] bind`.
    #[arg(long)]
    listen: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// Runs `tenure connection …`.
pub async fn run(arguments: ConnectionArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let store =
        Store::open(&config.store.url).await.with_context(|| format!("opening the store {}", config.store.url))?;
    let service = engine::connections::connection_service(&config, store)?;
    let mut out = std::io::stdout();
    match arguments.action {
        ConnectionAction::Add { name, kind, cloud, tenant_id, client_id, client_secret_file } => {
            let request = add_request(name, kind, cloud, tenant_id, client_id, client_secret_file.as_deref())?;
            let view = service.create(request).await?;
            write!(out, "{}", render_view(&view))?;
            match view.connection.auth {
                store::ConnectionAuth::Delegated => writeln!(
                    out,
                    "Next: `tenure connection link {}` (redirect URI {}).",
                    view.connection.name,
                    service.redirect_uri()
                )?,
                store::ConnectionAuth::Certificate => writeln!(
                    out,
                    "Next: upload the certificate to the app registration (`tenure connection certificate {} \
                     --download --out tenure.cer`), then `tenure connection test {}`.",
                    view.connection.name, view.connection.name
                )?,
                store::ConnectionAuth::ClientSecret => {
                    writeln!(out, "Next: `tenure connection test {}`.", view.connection.name)?;
                }
            }
        }
        ConnectionAction::List => {
            let views = service.list().await?;
            if views.is_empty() {
                writeln!(out, "No connections yet: `tenure connection add NAME --type …`.")?;
            }
            for view in views {
                let connection = &view.connection;
                writeln!(
                    out,
                    "{:<24} {:<42} {:<12} {}",
                    connection.name,
                    view.kind_label(),
                    connection.cloud,
                    view.status_label()
                )?;
            }
        }
        ConnectionAction::Show { name } => {
            let view = service.get_by_name(&name).await?;
            write!(out, "{}", render_view(&view))?;
        }
        ConnectionAction::Link(link) | ConnectionAction::Relink(link) => {
            let view = service.get_by_name(&link.name).await?;
            let address = link.listen.clone().unwrap_or_else(|| config.server.bind.clone());
            let listener = TcpListener::bind(&address).await.with_context(|| {
                format!("listening for the sign-in callback on {address} (is `tenure serve` running there? link from the web UI then)")
            })?;
            let linked = link_and_wait(
                &service,
                view.connection.id,
                link.admin_consent.as_deref(),
                listener,
                Duration::from_secs(link.timeout),
                |url| {
                    let _ = writeln!(std::io::stdout(), "Open this address in a browser and sign in:\n\n  {url}\n");
                    let _ = std::io::stdout().flush();
                },
            )
            .await?;
            write!(out, "{}", render_view(&linked))?;
        }
        ConnectionAction::Test { name } => {
            let view = service.get_by_name(&name).await?;
            let report = service.test(view.connection.id).await?;
            write!(out, "{}", render_report(&report))?;
            if !report.passed {
                anyhow::bail!("connection \"{name}\" failed its test");
            }
        }
        ConnectionAction::Certificate { name, renew, activate, download, out: file } => {
            let mut view = service.get_by_name(&name).await?;
            let id = view.connection.id;
            if renew {
                view = service.renew_certificate(id).await?;
                writeln!(out, "A new certificate was generated; upload it, then activate it with --activate.")?;
            }
            if let Some(sha1) = activate {
                view = service.activate_certificate(id, &sha1).await?;
            }
            if let Some(sha1) = download {
                let sha1 = match sha1 {
                    Some(sha1) => sha1,
                    None => view
                        .certificates
                        .first()
                        .map(|certificate| certificate.sha1_thumbprint.clone())
                        .context("the connection has no certificate")?,
                };
                let pem = service.public_certificate(id, &sha1).await?;
                match &file {
                    Some(path) => {
                        std::fs::write(path, pem).with_context(|| format!("writing {}", path.display()))?;
                        writeln!(out, "Certificate {sha1} written to {}.", path.display())?;
                    }
                    None => write!(out, "{pem}")?,
                }
                return Ok(());
            }
            write!(out, "{}", render_view(&view))?;
        }
        ConnectionAction::Remove { name, yes } => {
            let view = service.get_by_name(&name).await?;
            if !yes {
                anyhow::bail!(
                    "removing connection \"{name}\" deletes its stored credentials; run again with --yes to confirm"
                );
            }
            service.remove(view.connection.id).await?;
            writeln!(out, "Connection \"{name}\" removed.")?;
        }
    }
    Ok(())
}

fn add_request(
    name: String,
    kind: KindArg,
    cloud: NationalCloud,
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret_file: Option<&std::path::Path>,
) -> anyhow::Result<NewConnectionRequest> {
    let app_ids = |what: &str| -> anyhow::Result<(String, String)> {
        Ok((
            tenant_id.clone().with_context(|| format!("--tenant-id is needed for {what}"))?,
            client_id.clone().with_context(|| format!("--client-id is needed for {what}"))?,
        ))
    };
    Ok(match kind {
        KindArg::ServiceProvider => NewConnectionRequest::ServiceProvider { name, cloud },
        KindArg::Exchange => NewConnectionRequest::ExchangeDelegated { name, cloud },
        KindArg::CustomerApp => {
            let (tenant_id, client_id) = app_ids("a customer owned application")?;
            let credential = match client_secret_file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading client secret file {}", path.display()))?;
                    NewAppCredential::ClientSecret(Secret::new(text.trim()))
                }
                None => NewAppCredential::GenerateCertificate,
            };
            NewConnectionRequest::CustomerApp { name, cloud, tenant_id, client_id, credential }
        }
        KindArg::ExchangeApp => {
            let (tenant_id, client_id) = app_ids("an Exchange app-only connection")?;
            NewConnectionRequest::ExchangeApp { name, cloud, tenant_id, client_id }
        }
    })
}

/// Starts Link Account (or an admin consent) for connection `id`, hands the sign-in URL to `show_url`, serves
/// `GET /oauth/callback` on `listener` until the sign-in comes back (or `timeout`), and returns the connection as
/// the callback left it.
///
/// # Errors
///
/// The link could not start, the callback was refused, or nothing came back in time.
pub async fn link_and_wait(
    service: &ConnectionService,
    id: store::ConnectionId,
    admin_consent_tenant: Option<&str>,
    listener: TcpListener,
    timeout: Duration,
    show_url: impl FnOnce(&str),
) -> anyhow::Result<ConnectionView> {
    let binding = format!("cli:{}", vault::authorization_code::new_state().expose());
    let url = match admin_consent_tenant {
        Some(tenant) => service.begin_admin_consent(id, tenant, &binding).await?,
        None => service.begin_link(id, &binding).await?,
    };
    show_url(&url);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<ConnectionView, String>>(1);
    let handler_service = service.clone();
    let handler_binding = Secret::new(binding);
    let app = axum::Router::new().route(
        "/oauth/callback",
        axum::routing::get(move |uri: axum::http::Uri| {
            let service = handler_service.clone();
            let binding = handler_binding.clone();
            let sender = sender.clone();
            async move {
                let query = uri.query().unwrap_or("");
                let outcome = service.complete_callback(query, binding.expose()).await;
                let page = match &outcome {
                    Ok(view) => format!(
                        "Connection \"{}\": {}. You can close this window.",
                        html_escape(&view.connection.name),
                        view.status_label()
                    ),
                    Err(error) => format!("The link did not complete: {}", html_escape(&error.to_string())),
                };
                let _ = sender.send(outcome.map_err(|error| error.to_string())).await;
                axum::response::Html(format!("<!doctype html><title>Tenure</title><p>{page}</p>"))
            }
        }),
    );
    // Graceful shutdown: the page of the request that completed the link is still sent in full.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    let mut receiver = receiver;
    let outcome = tokio::time::timeout(timeout, receiver.recv()).await;
    let _ = stop.send(());
    let _ = server.await;
    match outcome {
        Ok(Some(Ok(view))) => Ok(view),
        Ok(Some(Err(error))) => anyhow::bail!(error),
        Ok(None) => anyhow::bail!("the callback listener stopped"),
        Err(_) => anyhow::bail!("no sign-in came back within {} seconds", timeout.as_secs()),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A connection in a few lines.
#[must_use]
pub fn render_view(view: &ConnectionView) -> String {
    use std::fmt::Write as _;
    let connection = &view.connection;
    let mut res = String::new();
    let _ = writeln!(res, "Connection \"{}\" — {}", connection.name, view.kind_label());
    let _ = writeln!(res, "  Cloud:       {}", connection.cloud);
    if let Some(tenant) = &connection.tenant_id {
        let _ = writeln!(res, "  Tenant ID:   {tenant}");
    }
    if let Some(client) = &connection.client_id {
        let _ = writeln!(res, "  Client ID:   {client}");
    }
    let _ = writeln!(res, "  Status:      {}", view.status_label());
    if let Some(reason) = &connection.status_reason {
        let _ = writeln!(res, "  Why:         {reason}");
    }
    if let (Some(by), Some(at)) = (&connection.linked_by, &connection.linked_at) {
        let _ = writeln!(res, "  Linked by:   {by} on {}", at.format("%Y-%m-%d %H:%M UTC"));
    }
    if !connection.granted_permissions.is_empty() {
        let _ = writeln!(res, "  Permissions: {}", connection.granted_permissions.join(", "));
    }
    for certificate in &view.certificates {
        let _ = writeln!(
            res,
            "  Certificate: {} (SHA-256 {}), valid {} to {}{}",
            certificate.sha1_thumbprint,
            certificate.sha256_thumbprint,
            certificate.not_before.date_naive(),
            certificate.not_after.date_naive(),
            if certificate.active { ", active" } else { ", not active yet" }
        );
    }
    if let Some(report) = &view.last_test {
        let _ = write!(res, "{}", render_report(report));
    }
    res
}

/// A test report, one line per check.
#[must_use]
pub fn render_report(report: &TestReport) -> String {
    use std::fmt::Write as _;
    let mut res = String::new();
    let _ = writeln!(
        res,
        "  Test on {}: {}",
        report.tested_at.format("%Y-%m-%d %H:%M UTC"),
        if report.passed { "passed" } else { "FAILED" }
    );
    for line in &report.lines {
        let _ = writeln!(res, "    {} {}", if line.ok { "ok  " } else { "FAIL" }, line.text);
    }
    res
}
