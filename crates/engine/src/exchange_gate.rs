//! The Exchange connection of a run (`[connections] exchange = "name"`) and its gate: before a run's first
//! step, the connection's role group is checked for the three management roles Tenure needs (Mail Recipients,
//! Security Group Creation and Membership, Distribution Groups). A missing role blocks the run with a sentence
//! naming the role and what Tenure could not do without it, instead of a leaver sequence that stops half-way
//! on "User is not allowed to call Set-Mailbox".

use std::sync::Arc;

use anyhow::Context as _;
use exchange::{Anchor, ExchangeClient, ExchangeConfig};
use model::{ExchangeRole, RoleVerdict};

use crate::connections::ConnectionService;

/// A run's Exchange Online connection.
#[derive(Clone, Debug)]
pub struct ExchangeConnection {
    /// The connection's name.
    pub name: String,
    /// The client on its token.
    pub client: ExchangeClient,
}

/// What Tenure cannot do without `role`, as reports say it.
#[must_use]
pub fn role_consequence(role: ExchangeRole) -> &'static str {
    match role {
        ExchangeRole::MailRecipients => {
            "leavers' mailboxes cannot be converted to shared, hidden from the address lists or shared with their manager"
        }
        ExchangeRole::SecurityGroupCreationAndMembership => {
            "members of mail-enabled security groups cannot be added or removed"
        }
        ExchangeRole::DistributionGroups => "distribution lists cannot be created or their members changed",
    }
}

/// A client for the stored Exchange connection `name` (which must be an Exchange connection, and connected).
///
/// # Errors
///
/// No such connection, the wrong kind, not connected, or its token provider cannot be built.
pub async fn connect_exchange(service: &ConnectionService, name: &str) -> anyhow::Result<ExchangeConnection> {
    let view = service.get_by_name(name).await?;
    let connection = &view.connection;
    if connection.kind != store::ConnectionKind::Exchange {
        anyhow::bail!(
            "connection \"{name}\" is an Entra ID connection; [connections] exchange needs an Exchange Online connection"
        );
    }
    if connection.status != store::ConnectionStatus::Connected {
        let reason = connection.status_reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
        anyhow::bail!(
            "Exchange connection \"{name}\" is not ready ({}){reason}; nothing was done",
            view.status_label().to_lowercase()
        );
    }
    let tenant = connection
        .tenant_id
        .clone()
        .with_context(|| format!("Exchange connection \"{name}\" has no tenant yet: link or test it first"))?;
    let anchor = match (&connection.auth, &connection.linked_by) {
        (store::ConnectionAuth::Delegated, Some(upn)) => Anchor::Delegated { upn: upn.clone() },
        _ => Anchor::AppOnly,
    };
    let mut config = ExchangeConfig::new(service.exchange_base(connection.cloud), tenant, anchor);
    config.extra_root_certificate_pem = service.ca_pem();
    let tokens = service.token_provider(connection.id).await?;
    let client = ExchangeClient::new(config, Arc::clone(&tokens))?;
    Ok(ExchangeConnection { name: name.to_string(), client })
}

/// An app-only Exchange connection for the customer-owned app of `connection` (the same app registration and
/// credential as its Graph side, with the `Exchange.ManageAsApp` permission and a role group holding the three
/// roles): used by `tenure demo`, which holds its sandbox's CA in memory.
///
/// # Errors
///
/// The token provider or the client cannot be built.
pub fn app_only_connection(
    name: &str,
    connection: &crate::config::ConnectionConfig,
    credential: vault::ClientCredential,
    ca_pem: Option<Vec<u8>>,
) -> anyhow::Result<ExchangeConnection> {
    let cloud = connection.cloud;
    let (login_base, _) = crate::run::endpoints(connection);
    let exchange_base = match &connection.sandbox_url {
        Some(base) => format!("{}/{}", base.trim_end_matches('/'), cloud.exchange_host()),
        None => format!("https://{}", cloud.exchange_host()),
    };
    let tokens = vault::ClientCredentialsProvider::new(vault::ClientCredentialsConfig {
        cloud,
        tenant_id: connection.tenant_id.clone(),
        client_id: connection.client_id.clone(),
        credential,
        login_base_url: Some(login_base),
        resource: format!("https://{}", cloud.exchange_host()),
        extra_root_certificate_pem: ca_pem.clone(),
    })?;
    let mut config = ExchangeConfig::new(exchange_base, connection.tenant_id.clone(), Anchor::AppOnly);
    config.extra_root_certificate_pem = ca_pem;
    let client = ExchangeClient::new(config, Arc::new(tokens))?;
    Ok(ExchangeConnection { name: name.to_string(), client })
}

/// One sentence per role the connection's role group lacks (or that could not be checked); empty when all
/// three are held.
pub async fn missing_roles(exchange: &ExchangeConnection) -> Vec<String> {
    let check = exchange.client.check_roles().await;
    check
        .findings
        .into_iter()
        .filter_map(|finding| match finding.verdict {
            RoleVerdict::Held => None,
            RoleVerdict::Missing => Some(format!(
                "Exchange role \"{}\" is missing from the role group of connection \"{}\": {}",
                finding.role,
                exchange.name,
                role_consequence(finding.role)
            )),
            RoleVerdict::Unknown(answer) => Some(format!(
                "Exchange role \"{}\" of connection \"{}\" could not be checked: {answer}",
                finding.role, exchange.name
            )),
        })
        .collect()
}
