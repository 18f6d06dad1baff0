//! Test connection: get a token, read what it grants, compare that with what Tenure's features need, and make
//! one read per API — reported in plain words ("Directory.AccessAsUser.All is missing: passwords cannot be reset
//! at termination").
//!
//! A passing test of an app connection marks it "Connected"; every report is stored with the connection so the
//! pages show the last one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{Connection, ConnectionAuth, ConnectionId, ConnectionKind};
use vault::permissions::{Feature, GrantType};

use super::credentials::Resource;
use super::{ConnectionError, ConnectionService};
use exchange::{Anchor, ExchangeClient, ExchangeConfig};
use model::RoleVerdict;

/// A certificate closer than this to its expiry is reported for renewal.
const RENEWAL_WARNING_DAYS: i64 = 30;

/// The outcome of Test connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    /// Whether every check passed.
    pub passed: bool,
    /// When the test ran.
    pub tested_at: DateTime<Utc>,
    /// One line per check, in order.
    pub lines: Vec<TestLine>,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestLine {
    /// Whether it passed.
    pub ok: bool,
    /// What was checked and what was found, for the admin.
    pub text: String,
}

impl TestReport {
    fn push(&mut self, ok: bool, text: impl Into<String>) {
        self.passed &= ok;
        self.lines.push(TestLine { ok, text: text.into() });
    }
}

/// What Tenure's engine does through a connection of `kind`.
pub(super) fn features_of(kind: ConnectionKind) -> Vec<Feature> {
    match kind {
        ConnectionKind::Exchange => vec![Feature::Exchange],
        ConnectionKind::EntraDelegated | ConnectionKind::EntraApp => vec![
            Feature::ReadDirectory,
            Feature::CreateAndUpdateUsers,
            Feature::EnableDisableAccounts,
            Feature::ResetPasswords,
            Feature::ManageGroups,
            Feature::AssignLicenses,
            Feature::DeleteUsers,
        ],
    }
}

impl ConnectionService {
    /// Tests connection `id` and stores the report.
    ///
    /// # Errors
    ///
    /// Unknown id, or the store failed. A failing check is a report with `passed == false`, not an error.
    pub async fn test(&self, id: ConnectionId) -> Result<TestReport, ConnectionError> {
        let connection = self.record(id).await?;
        let now = self.now();
        let mut report = TestReport { passed: true, tested_at: now, lines: Vec::new() };
        self.check_certificates(&connection, now, &mut report).await?;
        let granted = self.check_token(&connection, &mut report).await;
        if let Some((token, granted)) = granted {
            let grant_type = if connection.auth == ConnectionAuth::Delegated {
                GrantType::Delegated
            } else {
                GrantType::Application
            };
            let missing = vault::permissions::missing_permissions(grant_type, &granted, &features_of(connection.kind));
            if missing.is_empty() {
                report.push(true, "Every permission Tenure's features need is granted.");
            }
            for gap in &missing {
                report.push(false, format!("{} is missing: {}.", gap.permission, gap.consequence));
            }
            let tenant = granted.tenant_id.clone().or_else(|| connection.tenant_id.clone()).unwrap_or_default();
            self.probe(&connection, &token, &tenant, &mut report).await;
            if connection.kind == ConnectionKind::Exchange {
                self.check_exchange_roles(&connection, granted.user.as_deref(), &tenant, &mut report).await;
            }
            if report.passed && connection.auth != ConnectionAuth::Delegated {
                let mut permissions = granted.roles.clone();
                permissions.sort();
                let app = format!("app {}", connection.client_id.as_deref().unwrap_or("?"));
                self.inner.store.record_link(id, &app, &permissions, Some(&tenant), now).await?;
            }
        }
        let text = serde_json::to_string(&report).expect("a test report serialises");
        self.inner.store.record_connection_test(id, &text, now).await?;
        tracing::info!(connection_id = %id, passed = report.passed, "Connection tested.");
        Ok(report)
    }

    async fn check_certificates(
        &self,
        connection: &Connection,
        now: DateTime<Utc>,
        report: &mut TestReport,
    ) -> Result<(), ConnectionError> {
        if connection.auth != ConnectionAuth::Certificate {
            return Ok(());
        }
        let certificates = self.inner.store.certificates(connection.id).await?;
        if let Some(active) = certificates.iter().find(|certificate| certificate.active) {
            let days_left = (active.not_after - now).num_days();
            if active.not_after <= now {
                report.push(
                    false,
                    format!(
                        "Certificate {} expired on {}: renew it.",
                        active.sha1_thumbprint,
                        active.not_after.date_naive()
                    ),
                );
            } else if days_left <= RENEWAL_WARNING_DAYS {
                report.push(
                    true,
                    format!(
                        "Certificate {} expires in {days_left} days ({}): renew it and upload the new one.",
                        active.sha1_thumbprint,
                        active.not_after.date_naive()
                    ),
                );
            }
        }
        Ok(())
    }

    /// Gets a token; on success the token and what it grants.
    async fn check_token(
        &self,
        connection: &Connection,
        report: &mut TestReport,
    ) -> Option<(model::Secret, vault::GrantedPermissions)> {
        let provider = match self.provider_for(connection).await {
            Ok(provider) => provider,
            Err(error) => {
                report.push(false, format!("No token: {error}."));
                return None;
            }
        };
        let token = match provider.fresh_access_token().await {
            Ok(token) => token,
            Err(error) => {
                let hint = if error.needs_relink { " The connection needs to be linked again." } else { "" };
                report.push(false, format!("Microsoft refused a token: {}.{hint}", error.message));
                return None;
            }
        };
        match vault::granted_permissions(&token.token) {
            Ok(granted) => {
                let who = match (&granted.user, connection.auth) {
                    (Some(user), _) => format!("signed in as {user}"),
                    (None, _) => format!("app {}", connection.client_id.as_deref().unwrap_or("?")),
                };
                let mut permissions: Vec<&str> =
                    granted.scopes.iter().chain(&granted.roles).map(String::as_str).collect();
                permissions.sort_unstable();
                report.push(
                    true,
                    format!(
                        "Token acquired ({who}, tenant {}); granted: {}.",
                        granted.tenant_id.as_deref().unwrap_or("unknown"),
                        if permissions.is_empty() { "nothing".to_string() } else { permissions.join(", ") }
                    ),
                );
                Some((token.token, granted))
            }
            Err(error) => {
                report.push(false, format!("The token could not be read: {error}."));
                None
            }
        }
    }

    /// The Exchange management roles Tenure needs, probed without changing anything (`-WhatIf`; see
    /// [`exchange::ExchangeClient::check_roles`]).
    async fn check_exchange_roles(
        &self,
        connection: &Connection,
        user: Option<&str>,
        tenant: &str,
        report: &mut TestReport,
    ) {
        let anchor = match user {
            Some(upn) => Anchor::Delegated { upn: upn.to_string() },
            None => Anchor::AppOnly,
        };
        let mut config = ExchangeConfig::new(self.exchange_base(connection.cloud), tenant, anchor);
        config.extra_root_certificate_pem = self.inner.settings.ca_pem.clone();
        config.max_attempts = 2;
        let client = match self.provider_for(connection).await.map(|tokens| ExchangeClient::new(config, tokens)) {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => return report.push(false, format!("Exchange roles could not be checked: {error}.")),
            Err(error) => return report.push(false, format!("Exchange roles could not be checked: {error}.")),
        };
        for finding in client.check_roles().await.findings {
            let role = finding.role;
            match finding.verdict {
                RoleVerdict::Held => report.push(true, format!("Exchange role \"{role}\": held.")),
                RoleVerdict::Missing => report.push(
                    false,
                    format!(
                        "Exchange role \"{role}\" is missing from the account's role group: {}.",
                        crate::exchange_gate::role_consequence(role)
                    ),
                ),
                RoleVerdict::Unknown(answer) => {
                    report.push(false, format!("Exchange role \"{role}\" could not be checked: {answer}."));
                }
            }
        }
    }

    /// One read through the connection's API.
    async fn probe(&self, connection: &Connection, token: &model::Secret, tenant: &str, report: &mut TestReport) {
        let client = match probe_client(self.inner.settings.ca_pem.as_deref()) {
            Ok(client) => client,
            Err(error) => {
                report.push(false, format!("Could not build an HTTP client: {error}."));
                return;
            }
        };
        let (what, request) = match Resource::of(connection.kind) {
            Resource::Graph => (
                "Microsoft Graph: reading one user",
                client.get(format!("{}/v1.0/users?$top=1&$select=id", self.graph_base(connection.cloud))),
            ),
            Resource::Exchange => (
                "Exchange Online: reading one mailbox",
                client
                    .post(format!("{}/adminapi/beta/{tenant}/InvokeCommand", self.exchange_base(connection.cloud)))
                    .header("Content-Type", "application/json")
                    .body(r#"{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":1}}}"#),
            ),
        };
        match request.bearer_auth(token.expose()).send().await {
            Ok(response) if response.status().is_success() => report.push(true, format!("{what}: OK.")),
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                let detail = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|json| {
                        json.pointer("/error/message")
                            .or_else(|| json.pointer("/error/details/0/message"))
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                report.push(false, format!("{what}: refused with HTTP {status} {detail}").trim_end().to_string() + ".");
            }
            Err(error) => report.push(false, format!("{what}: no answer ({error}).")),
        }
    }
}

fn probe_client(ca_pem: Option<&[u8]>) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
    if let Some(pem) = ca_pem {
        for certificate in reqwest::Certificate::from_pem_bundle(pem)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build()
}
