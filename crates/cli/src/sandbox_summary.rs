//! What `tenure sandbox` prints once it serves: the endpoints of each tenant in its cloud, the apps with their
//! secrets, the sample users with their passwords, the CA file and the admin API — as one JSON line
//! (`--json`, the shape fixed in the sandbox contract) or as a readable summary.
//!
//! Secrets and passwords come from the seed: the running state keeps only hashes. When the sandbox started
//! from a state file, a seed secret or password is listed only while it still works there.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use sandbox::RunningSandbox;
use sandbox::cloud::Cloud;
use sandbox::directory::app::secret_hash;
use sandbox::seed::Seed;
use serde::Serialize;

/// Everything printed at start.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `https://127.0.0.1:PORT`.
    pub https: String,
    /// `http://127.0.0.1:PORT`.
    pub http: String,
    /// Absolute path of the CA certificate (PEM).
    pub ca_pem_file: String,
    /// `https://127.0.0.1:PORT/_sandbox`.
    pub admin: String,
    /// Tenants with their endpoints.
    pub tenants: Vec<TenantSummary>,
    /// App registrations with their usable seed secrets.
    pub apps: Vec<AppSummary>,
    /// Seed users whose seed password still works.
    pub users: Vec<UserSummary>,
}

/// One tenant and where to reach it.
#[derive(Debug, Serialize)]
pub struct TenantSummary {
    /// Tenant id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// National cloud.
    pub cloud: Cloud,
    /// Verified domains.
    pub domains: Vec<String>,
    /// The authority for MSAL: the login host of the tenant's cloud (a path prefix outside Global) and the id.
    pub authority: String,
    /// The Graph v1.0 base URL of the tenant's cloud.
    pub graph: String,
    /// The tenant's Exchange Online admin API endpoint (`…/adminapi/beta/{tenant}/InvokeCommand`).
    pub exchange: String,
}

/// One app registration.
#[derive(Debug, Serialize)]
pub struct AppSummary {
    /// Client id.
    pub app_id: String,
    /// Display name.
    pub name: String,
    /// Home tenant id.
    pub home_tenant: String,
    /// Whether other tenants may use it.
    pub multi_tenant: bool,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Client secrets from the seed that the app still accepts.
    pub secrets: Vec<String>,
}

/// One sample user.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    /// Tenant id.
    pub tenant: String,
    /// User principal name.
    pub upn: String,
    /// Password (from the seed).
    pub password: String,
    /// Entra roles.
    pub roles: Vec<String>,
}

/// The address clients should use: a wildcard listen address is reached on loopback.
fn client_address(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

/// The authority, Graph base and Exchange `InvokeCommand` URL of a tenant: Global is addressed by loopback
/// alone, the other clouds by their host name as the first path segment.
fn cloud_endpoints(https: &str, cloud: Cloud, tenant_id: &str) -> (String, String, String) {
    if cloud == Cloud::Global {
        return (
            format!("{https}/{tenant_id}"),
            format!("{https}/v1.0"),
            format!("{https}/adminapi/beta/{tenant_id}/InvokeCommand"),
        );
    }
    let hosts = cloud.hosts();
    (
        format!("{https}/{}/{tenant_id}", hosts.login[0]),
        format!("{https}/{}/v1.0", hosts.graph),
        format!("{https}/{}/adminapi/beta/{tenant_id}/InvokeCommand", hosts.exchange[0]),
    )
}

/// A cloud's everyday name.
fn cloud_label(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Global => "Global",
        Cloud::UsGovHigh => "US Government GCC High",
        Cloud::UsGovDod => "US Government DoD",
        Cloud::China => "China (21Vianet)",
    }
}

impl Summary {
    /// Collects the summary from the running sandbox and the seed it was given.
    pub fn new(sandbox: &RunningSandbox, seed: &Seed, ca_pem_file: &Path) -> Summary {
        let address = client_address(sandbox.addr());
        let https = format!("https://{address}");
        let state = sandbox.state();

        let mut tenants: Vec<TenantSummary> = state
            .directory
            .tenants()
            .iter()
            .map(|tenant| {
                let tenant = tenant.read();
                let id = tenant.id.to_string();
                let (authority, graph, exchange) = cloud_endpoints(&https, tenant.cloud, &id);
                TenantSummary {
                    name: tenant.display_name.clone(),
                    cloud: tenant.cloud,
                    domains: tenant.domains.iter().map(|domain| domain.name.clone()).collect(),
                    authority,
                    graph,
                    exchange,
                    id,
                }
            })
            .collect();
        tenants.sort_by(|left, right| (&left.name, &left.id).cmp(&(&right.name, &right.id)));

        let mut apps: Vec<AppSummary> = state
            .directory
            .apps()
            .into_iter()
            .map(|app| {
                let secrets = seed
                    .apps
                    .iter()
                    .filter(|seed_app| seed_app.app_id == app.app_id)
                    .flat_map(|seed_app| &seed_app.secrets)
                    .filter(|secret| {
                        let hash = secret_hash(&secret.value);
                        app.secrets.iter().any(|kept| kept.sha256_hex == hash)
                    })
                    .map(|secret| secret.value.clone())
                    .collect();
                AppSummary {
                    app_id: app.app_id.to_string(),
                    name: app.display_name,
                    home_tenant: app.home_tenant.to_string(),
                    multi_tenant: app.multi_tenant,
                    redirect_uris: app.redirect_uris,
                    secrets,
                }
            })
            .collect();
        apps.sort_by(|left, right| (&left.name, &left.app_id).cmp(&(&right.name, &right.app_id)));

        let mut users = Vec::new();
        for tenant_seed in &seed.tenants {
            let Some(tenant) = state.directory.tenant(&tenant_seed.id.to_string()) else { continue };
            let tenant = tenant.read();
            for user_seed in &tenant_seed.users {
                let Some(user) = tenant.live_user(&user_seed.upn) else { continue };
                if !user.password_matches(&user_seed.password) {
                    continue;
                }
                users.push(UserSummary {
                    tenant: tenant.id.to_string(),
                    upn: user.user_principal_name.clone(),
                    password: user_seed.password.clone(),
                    roles: user.directory_roles.iter().cloned().collect(),
                });
            }
        }

        Summary {
            http: format!("http://{address}"),
            ca_pem_file: ca_pem_file.display().to_string(),
            admin: format!("{https}/_sandbox"),
            https,
            tenants,
            apps,
            users,
        }
    }

    /// The `--json` line (without the newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The readable summary.
    pub fn render_text(&self, sandbox: &RunningSandbox) -> String {
        let mut text = String::new();
        let ca = &self.ca_pem_file;
        let _ = writeln!(text, "Tenure sandbox serving {} and {} (one port)", self.https, self.http);
        let _ = writeln!(text);
        let _ = writeln!(text, "CA certificate  {ca}");
        let _ = writeln!(text, "  trust it for HTTPS, for example:");
        let _ = writeln!(text, "    curl --cacert {ca} {}/health", self.admin);
        let _ = writeln!(
            text,
            "    Python requests / MSAL: session = requests.Session(); session.verify = \"{ca}\"; \
             session.trust_env = False"
        );
        let _ = writeln!(
            text,
            "    (trust_env = False keeps REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE from overriding verify)"
        );
        let _ = writeln!(text, "Admin API       {} (no authentication: for loopback rehearsals)", self.admin);
        if let Some(path) = sandbox.state_file() {
            let origin = if sandbox.restored_from_state_file() { "restored from it" } else { "new" };
            let _ = writeln!(text, "State file      {} ({origin}; saved when it changes and on exit)", path.display());
        }

        let _ = writeln!(text, "\nTenants");
        for tenant in &self.tenants {
            let _ = writeln!(text, "  {} — {} — tenant id {}", tenant.name, cloud_label(tenant.cloud), tenant.id);
            let _ = writeln!(text, "    domains    {}", tenant.domains.join(", "));
            let _ = writeln!(text, "    authority  {}", tenant.authority);
            let _ = writeln!(text, "    graph      {}", tenant.graph);
            let _ = writeln!(text, "    exchange   {}", tenant.exchange);
        }

        let _ = writeln!(text, "\nApps");
        for app in &self.apps {
            let home = self
                .tenants
                .iter()
                .find(|tenant| tenant.id == app.home_tenant)
                .map_or(app.home_tenant.as_str(), |tenant| tenant.name.as_str());
            let reach = if app.multi_tenant { "multi-tenant" } else { "single tenant" };
            let _ = writeln!(text, "  {}, client id {} ({reach}, home tenant {home})", app.name, app.app_id);
            for secret in &app.secrets {
                let _ = writeln!(text, "    secret         {secret}");
            }
            if !app.redirect_uris.is_empty() {
                let _ = writeln!(text, "    redirect URIs  {}", app.redirect_uris.join(", "));
            }
        }

        let _ = writeln!(text, "\nUsers (user name, password, roles)");
        for tenant in &self.tenants {
            let users: Vec<&UserSummary> = self.users.iter().filter(|user| user.tenant == tenant.id).collect();
            if users.is_empty() {
                continue;
            }
            let width = users.iter().map(|user| user.upn.len()).max().unwrap_or(0);
            let _ = writeln!(text, "  {}", tenant.name);
            for user in users {
                let roles = user.roles.join(", ");
                let line = format!("    {:width$}  {}  {roles}", user.upn, user.password);
                let _ = writeln!(text, "{}", line.trim_end());
            }
        }
        if sandbox.restored_from_state_file() {
            let _ = writeln!(text, "  (seed users whose password has changed since are not listed)");
        }
        let _ = writeln!(text, "\nPress Ctrl-C to stop.");
        text
    }
}
