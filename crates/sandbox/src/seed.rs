//! The seed file: tenants, verified domains, app registrations (secrets, certificates, redirect URIs, granted
//! permissions), users with roles, SKUs and groups, in TOML. `docs/sandbox.md` documents every field; the
//! bundled sample (`seed/sample.toml`) is what `tenure sandbox` starts with.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::Error;
use crate::cloud::Cloud;
use crate::directory::Directory;
use crate::directory::app::{App, AppCertificate, ClientSecret, DelegatedGrant, RequiredPermission, ServicePrincipal};
use crate::directory::group::Group;
use crate::directory::tenant::{Domain, ServicePlan, Sku, Tenant};
use crate::directory::user::{AssignedLicense, User};
use crate::exchange::model::{Mailbox, MailboxKind, RoleGroup, RoleGroupMember};
use crate::permissions::Resource;

/// Suffixes of the initial (`*.onmicrosoft.*`) domain each cloud gives a new tenant.
const INITIAL_DOMAIN_SUFFIXES: [&str; 3] = [".onmicrosoft.com", ".onmicrosoft.us", ".partner.onmschina.cn"];

/// The sample seed bundled with the sandbox.
pub const SAMPLE_SEED: &str = include_str!("../seed/sample.toml");

/// A whole seed file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Tenants.
    #[serde(default)]
    pub tenants: Vec<TenantSeed>,
    /// Application registrations.
    #[serde(default)]
    pub apps: Vec<AppSeed>,
}

/// A tenant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSeed {
    /// Tenant id.
    pub id: Uuid,
    /// Organisation name.
    pub name: String,
    /// National cloud (`Global`, `UsGovHigh`, `UsGovDod`, `China`).
    #[serde(default)]
    pub cloud: Cloud,
    /// Verified domains; the first `*.onmicrosoft.com` (`.us`, `.partner.onmschina.cn`) one is the initial domain, the first other one the default.
    pub domains: Vec<String>,
    /// Domains that are federated (new users there need `onPremisesImmutableId`).
    #[serde(default)]
    pub federated_domains: Vec<String>,
    /// Subscribed SKUs.
    #[serde(default)]
    pub skus: Vec<SkuSeed>,
    /// Users.
    #[serde(default)]
    pub users: Vec<UserSeed>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    /// Apps present in this tenant, with their application permissions and roles.
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipalSeed>,
    /// Delegated consent already given.
    #[serde(default)]
    pub delegated_grants: Vec<GrantSeed>,
    /// Exchange RBAC role groups: custom ones, or members added to a built-in one.
    #[serde(default)]
    pub role_groups: Vec<RoleGroupSeed>,
}

/// An Exchange role group.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleGroupSeed {
    /// Name; a built-in group's name (`Organization Management`, …) adds members to it.
    pub name: String,
    /// Management roles (for a custom group; a built-in group keeps its own).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Members: user UPNs, or `app:{client id}` for an application's service principal.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A SKU.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuSeed {
    /// SKU id.
    pub id: Uuid,
    /// Part number.
    pub part_number: String,
    /// Seats bought.
    pub seats: u32,
    /// Service plans as `name = "plan id"`.
    #[serde(default)]
    pub plans: BTreeMap<String, Uuid>,
}

/// A user.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    /// Object id (generated when absent).
    pub id: Option<Uuid>,
    /// UPN.
    pub upn: String,
    /// Display name.
    pub display_name: String,
    /// Sign-in password.
    pub password: String,
    /// Entra roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Surname.
    pub surname: Option<String>,
    /// Primary mail (defaults to the UPN when the user has licences).
    pub mail: Option<String>,
    /// Usage location.
    pub usage_location: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Employee id.
    pub employee_id: Option<String>,
    /// Whether sign-in is enabled (default true).
    #[serde(default = "yes")]
    pub account_enabled: bool,
    /// Manager's UPN.
    pub manager: Option<String>,
    /// Part numbers of assigned SKUs.
    #[serde(default)]
    pub licenses: Vec<String>,
    /// `true`: the user is the (disabled) account of a shared mailbox, which exists from the start without a
    /// licence, as `New-Mailbox -Shared` makes one.
    #[serde(default)]
    pub shared_mailbox: bool,
}

fn yes() -> bool {
    true
}

/// A group.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    /// Object id (generated when absent).
    pub id: Option<Uuid>,
    /// Display name.
    pub display_name: String,
    /// Mail nickname.
    pub mail_nickname: String,
    /// `security`, `m365`, `mail-security` or `distribution`.
    pub kind: String,
    /// Description.
    pub description: Option<String>,
    /// Members' UPNs (or group display names).
    #[serde(default)]
    pub members: Vec<String>,
}

/// An app's presence and application permissions in a tenant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePrincipalSeed {
    /// The app.
    pub app_id: Uuid,
    /// Granted application permissions, e.g. `Graph:User.ReadWrite.All`.
    #[serde(default)]
    pub application_permissions: Vec<String>,
    /// Entra roles assigned to the service principal.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Delegated consent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSeed {
    /// The app.
    pub app_id: Uuid,
    /// `Graph` or `Exchange`.
    pub resource: Resource,
    /// Scopes.
    pub scopes: Vec<String>,
    /// A user's own consent (UPN); absent = consent for all users.
    pub user: Option<String>,
}

/// An application registration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSeed {
    /// Client id.
    pub app_id: Uuid,
    /// Display name.
    pub name: String,
    /// Home tenant id.
    pub home_tenant: Uuid,
    /// Multi-tenant.
    #[serde(default)]
    pub multi_tenant: bool,
    /// Public client (no credential).
    #[serde(default)]
    pub public_client: bool,
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Client secrets.
    #[serde(default)]
    pub secrets: Vec<SecretSeed>,
    /// Certificates (PEM), public part only.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Required permissions, e.g. `Graph:User.ReadWrite.All` (delegated) or `Graph:role:User.ReadWrite.All`.
    #[serde(default)]
    pub required_permissions: Vec<String>,
}

/// A client secret.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSeed {
    /// The secret value.
    pub value: String,
    /// Days until it expires (default 730).
    #[serde(default = "two_years")]
    pub expires_in_days: i64,
}

fn two_years() -> i64 {
    730
}

impl Seed {
    /// Parses a seed file's text.
    pub fn from_toml(text: &str) -> Result<Seed, Error> {
        toml::from_str(text).map_err(|error| Error::Seed(error.to_string()))
    }

    /// The bundled sample.
    pub fn sample() -> Seed {
        Seed::from_toml(SAMPLE_SEED).expect("the bundled sample seed parses")
    }

    /// Builds the directory, checking references (managers, members, SKUs, apps) as it goes.
    pub fn build(&self, now: DateTime<Utc>) -> Result<Directory, Error> {
        self.check_app_clouds()?;
        let directory = Directory::default();
        for app in &self.apps {
            directory.insert_app(build_app(app, now)?);
        }
        for tenant in &self.tenants {
            directory.insert_tenant(build_tenant(tenant, &directory, now)?);
        }
        Ok(directory)
    }

    /// An app belongs to the cloud of its home tenant, which must be in the seed; it can have a service
    /// principal only in tenants of a cloud that shares that login host (each national cloud is a separate
    /// Entra instance: <https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud>).
    fn check_app_clouds(&self) -> Result<(), Error> {
        let cloud_of =
            |tenant_id: Uuid| self.tenants.iter().find(|tenant| tenant.id == tenant_id).map(|tenant| tenant.cloud);
        for app in &self.apps {
            if cloud_of(app.home_tenant).is_none() {
                return Err(Error::Seed(format!(
                    "app {} ({}): home tenant {} is not a tenant of the seed",
                    app.name, app.app_id, app.home_tenant
                )));
            }
        }
        for tenant in &self.tenants {
            for principal in &tenant.service_principals {
                let home_cloud = self
                    .apps
                    .iter()
                    .find(|app| app.app_id == principal.app_id)
                    .and_then(|app| cloud_of(app.home_tenant));
                if let Some(home_cloud) = home_cloud
                    && !home_cloud.shares_login_with(tenant.cloud)
                {
                    return Err(Error::Seed(format!(
                        "tenant {} ({}): service principal for app {}, which is registered in the {home_cloud:?} \
                         cloud, not in {:?}",
                        tenant.name, tenant.id, principal.app_id, tenant.cloud
                    )));
                }
            }
        }
        Ok(())
    }
}

fn parse_permission(text: &str) -> Result<(Resource, String, bool), Error> {
    let mut parts = text.split(':');
    let resource = match parts.next() {
        Some("Graph") => Resource::Graph,
        Some("Exchange") => Resource::Exchange,
        _ => return Err(Error::Seed(format!("permission {text:?}: expected `Graph:` or `Exchange:` first"))),
    };
    let rest: Vec<&str> = parts.collect();
    let (application, name) = match rest.as_slice() {
        ["role", name] => (true, *name),
        [name] => (false, *name),
        _ => return Err(Error::Seed(format!("permission {text:?}: expected `Resource:Name` or `Resource:role:Name`"))),
    };
    let known = crate::permissions::find(resource, name)
        .ok_or_else(|| Error::Seed(format!("permission {text:?} is not one the sandbox knows")))?;
    Ok((resource, known.name.to_string(), application))
}

fn build_app(seed: &AppSeed, now: DateTime<Utc>) -> Result<App, Error> {
    let secrets = seed
        .secrets
        .iter()
        .map(|secret| ClientSecret {
            key_id: Uuid::new_v4(),
            hint: secret.value.chars().take(3).collect(),
            sha256_hex: crate::directory::app::secret_hash(&secret.value),
            expires: now + Duration::days(secret.expires_in_days),
        })
        .collect();
    let certificates = seed
        .certificates
        .iter()
        .map(|pem| certificate_from_pem(pem).map_err(|error| Error::Seed(format!("app {}: {error}", seed.app_id))))
        .collect::<Result<Vec<_>, _>>()?;
    let required_permissions = seed
        .required_permissions
        .iter()
        .map(|text| {
            parse_permission(text).map(|(resource, name, application)| RequiredPermission {
                resource,
                name,
                application,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(App {
        app_id: seed.app_id,
        display_name: seed.name.clone(),
        home_tenant: seed.home_tenant,
        multi_tenant: seed.multi_tenant,
        public_client: seed.public_client,
        redirect_uris: seed.redirect_uris.clone(),
        secrets,
        certificates,
        required_permissions,
    })
}

/// Reads a PEM certificate into an app credential.
pub fn certificate_from_pem(pem: &str) -> Result<AppCertificate, String> {
    use base64::Engine;
    let (_, parsed) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|error| format!("certificate PEM: {error}"))?;
    let certificate = parsed.parse_x509().map_err(|error| format!("certificate: {error}"))?;
    let validity = certificate.validity();
    let to_time = |time: x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(time.timestamp(), 0)
            .ok_or_else(|| "certificate validity out of range".to_string())
    };
    Ok(AppCertificate {
        key_id: Uuid::new_v4(),
        der_base64: base64::engine::general_purpose::STANDARD.encode(&parsed.contents),
        not_before: to_time(validity.not_before)?,
        not_after: to_time(validity.not_after)?,
    })
}

fn build_tenant(seed: &TenantSeed, directory: &Directory, now: DateTime<Utc>) -> Result<Tenant, Error> {
    let context = |message: String| Error::Seed(format!("tenant {} ({}): {message}", seed.name, seed.id));
    let mut default_assigned = false;
    let domains = seed
        .domains
        .iter()
        .map(|name| {
            let name = name.to_ascii_lowercase();
            let is_initial = INITIAL_DOMAIN_SUFFIXES.iter().any(|suffix| name.ends_with(suffix));
            let is_default = !is_initial && !default_assigned;
            default_assigned |= is_default;
            let federated = seed.federated_domains.iter().any(|federated| federated.eq_ignore_ascii_case(&name));
            Domain { name, is_default, is_initial, federated }
        })
        .collect();
    let mut tenant = Tenant::new(seed.id, seed.name.clone(), seed.cloud, domains);
    if !tenant.domains.iter().any(|domain| domain.is_default)
        && let Some(first) = tenant.domains.first_mut()
    {
        first.is_default = true;
    }
    tenant.skus = seed
        .skus
        .iter()
        .map(|sku| Sku {
            sku_id: sku.id,
            sku_part_number: sku.part_number.clone(),
            enabled_units: sku.seats,
            service_plans: sku
                .plans
                .iter()
                .map(|(name, id)| ServicePlan { service_plan_id: *id, service_plan_name: name.clone() })
                .collect(),
        })
        .collect();

    let mut ids_by_upn: BTreeMap<String, Uuid> = BTreeMap::new();
    for user_seed in &seed.users {
        let id = user_seed.id.unwrap_or_else(Uuid::new_v4);
        let domain = user_seed.upn.rsplit_once('@').map(|(_, domain)| domain).unwrap_or("");
        if tenant.domain(domain).is_none() {
            return Err(context(format!("user {}: domain {domain:?} is not a verified domain", user_seed.upn)));
        }
        let licenses = user_seed
            .licenses
            .iter()
            .map(|part| {
                tenant
                    .skus
                    .iter()
                    .find(|sku| sku.sku_part_number == *part)
                    .map(|sku| AssignedLicense { sku_id: sku.sku_id, disabled_plans: Vec::new() })
                    .ok_or_else(|| context(format!("user {}: no SKU {part}", user_seed.upn)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mail = user_seed
            .mail
            .clone()
            .or_else(|| (!licenses.is_empty() || user_seed.shared_mailbox).then(|| user_seed.upn.clone()));
        let mut user = User::new(id, &user_seed.upn, &user_seed.display_name, &user_seed.password, now);
        user.account_enabled = user_seed.account_enabled && !user_seed.shared_mailbox;
        user.given_name = user_seed.given_name.clone();
        user.surname = user_seed.surname.clone();
        user.proxy_addresses = mail.iter().map(|mail| format!("SMTP:{mail}")).collect();
        user.mail = mail;
        user.job_title = user_seed.job_title.clone();
        user.department = user_seed.department.clone();
        user.usage_location = user_seed.usage_location.clone();
        user.employee_id = user_seed.employee_id.clone();
        user.assigned_licenses = licenses;
        user.sign_in_sessions_valid_from = now - Duration::days(1);
        user.directory_roles = user_seed.roles.iter().cloned().collect();
        if let Err(conflict) = tenant.check_unique(Some(&user.user_principal_name), &user.smtp_addresses(), None) {
            return Err(context(format!("user {}: {} is already taken", user_seed.upn, conflict.property)));
        }
        ids_by_upn.insert(user_seed.upn.to_ascii_lowercase(), id);
        tenant.insert_user(user);
        if user_seed.shared_mailbox {
            let mut mailbox = Mailbox::new(id, MailboxKind::Shared, now, now);
            mailbox.name = Some(user_seed.display_name.clone());
            tenant.exchange.mailboxes.insert(id, mailbox);
        } else {
            crate::exchange::lifecycle::provision_at_once(&mut tenant, id, now);
        }
    }
    for user_seed in &seed.users {
        if let Some(manager) = &user_seed.manager {
            let manager_id = *ids_by_upn.get(&manager.to_ascii_lowercase()).ok_or_else(|| {
                context(format!("user {}: manager {manager} is not a user of this tenant", user_seed.upn))
            })?;
            let id = ids_by_upn[&user_seed.upn.to_ascii_lowercase()];
            tenant.update_user(id, |user| user.manager = Some(manager_id));
        }
    }

    let mut ids_by_group_name: BTreeMap<String, Uuid> = BTreeMap::new();
    for group_seed in &seed.groups {
        let (mail_enabled, security_enabled, group_types) = match group_seed.kind.as_str() {
            "security" => (false, true, vec![]),
            "m365" => (true, false, vec!["Unified".to_string()]),
            "mail-security" => (true, true, vec![]),
            "distribution" => (true, false, vec![]),
            other => return Err(context(format!("group {}: unknown kind {other:?}", group_seed.display_name))),
        };
        let mail = mail_enabled.then(|| format!("{}@{}", group_seed.mail_nickname, tenant.default_domain()));
        let id = group_seed.id.unwrap_or_else(Uuid::new_v4);
        let mut members = BTreeSet::new();
        for member in &group_seed.members {
            let member_id = ids_by_upn
                .get(&member.to_ascii_lowercase())
                .or_else(|| ids_by_group_name.get(member))
                .ok_or_else(|| context(format!("group {}: member {member} not found", group_seed.display_name)))?;
            members.insert(*member_id);
        }
        let mut group = Group::new_security(id, &group_seed.display_name, &group_seed.mail_nickname, now);
        group.description = group_seed.description.clone();
        group.proxy_addresses = mail.iter().map(|mail| format!("SMTP:{mail}")).collect();
        group.mail = mail;
        group.mail_enabled = mail_enabled;
        group.security_enabled = security_enabled;
        group.group_types = group_types;
        group.visibility = (group_seed.kind == "m365").then(|| "Private".to_string());
        group.members = members;
        if let Err(conflict) = tenant.check_unique(None, &group.smtp_addresses(), None) {
            return Err(context(format!("group {}: {} is already taken", group_seed.display_name, conflict.property)));
        }
        ids_by_group_name.insert(group_seed.display_name.clone(), id);
        tenant.insert_group(group);
    }

    for principal in &seed.service_principals {
        let app = directory
            .app(principal.app_id)
            .ok_or_else(|| context(format!("service principal for unknown app {}", principal.app_id)))?;
        let app_roles = principal
            .application_permissions
            .iter()
            .map(|text| {
                let name = text.split_once(':').map_or(text.as_str(), |(_, name)| name);
                let resource_part = text.split_once(':').map_or("", |(resource, _)| resource);
                parse_permission(&format!("{resource_part}:role:{name}")).map(|(resource, name, _)| (resource, name))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        tenant.service_principals.push(ServicePrincipal {
            object_id: Uuid::new_v4(),
            app_id: app.app_id,
            app_roles,
            directory_roles: principal.roles.iter().cloned().collect(),
        });
    }
    for grant in &seed.delegated_grants {
        if tenant.service_principal(grant.app_id).is_none() {
            return Err(context(format!(
                "delegated grant for app {} which has no service principal here",
                grant.app_id
            )));
        }
        let principal = match &grant.user {
            Some(upn) => Some(
                *ids_by_upn
                    .get(&upn.to_ascii_lowercase())
                    .ok_or_else(|| context(format!("grant for unknown user {upn}")))?,
            ),
            None => None,
        };
        tenant.grants.push(DelegatedGrant {
            client_id: grant.app_id,
            resource: grant.resource,
            principal,
            scopes: grant.scopes.iter().cloned().collect(),
        });
    }
    build_role_groups(seed, &mut tenant, &ids_by_upn).map_err(context)?;
    Ok(tenant)
}

fn build_role_groups(
    seed: &TenantSeed,
    tenant: &mut Tenant,
    ids_by_upn: &BTreeMap<String, Uuid>,
) -> Result<(), String> {
    crate::exchange::rbac::ensure_built_in(&mut tenant.exchange);
    for group_seed in &seed.role_groups {
        let mut members = BTreeSet::new();
        for member in &group_seed.members {
            let parsed = match member.strip_prefix("app:") {
                Some(app_id) => RoleGroupMember::App(
                    Uuid::parse_str(app_id.trim())
                        .map_err(|_| format!("role group {}: member {member} is not app:<GUID>", group_seed.name))?,
                ),
                None => RoleGroupMember::User(*ids_by_upn.get(&member.to_ascii_lowercase()).ok_or_else(|| {
                    format!("role group {}: member {member} is not a user of this tenant", group_seed.name)
                })?),
            };
            members.insert(parsed);
        }
        for role in &group_seed.roles {
            if !crate::exchange::rbac::ROLES.contains(&role.as_str()) {
                return Err(format!(
                    "role group {}: unknown role {role:?} (known: {})",
                    group_seed.name,
                    crate::exchange::rbac::ROLES.join(", ")
                ));
            }
        }
        match tenant.exchange.role_groups.iter_mut().find(|group| group.name.eq_ignore_ascii_case(&group_seed.name)) {
            Some(existing) if existing.built_in => {
                if !group_seed.roles.is_empty() {
                    return Err(format!(
                        "role group {}: a built-in role group's roles cannot be changed",
                        group_seed.name
                    ));
                }
                existing.members.extend(members);
            }
            Some(_) => return Err(format!("role group {} is defined twice", group_seed.name)),
            None => tenant.exchange.role_groups.push(RoleGroup {
                name: group_seed.name.clone(),
                built_in: false,
                roles: group_seed.roles.iter().cloned().collect(),
                members,
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_seed_builds() {
        let seed = Seed::sample();
        let directory = seed.build(Utc::now()).expect("sample builds");
        assert!(directory.tenants().len() >= 2);
    }

    #[test]
    fn an_unverified_domain_is_rejected_with_the_user_named() {
        let text = r#"
[[tenants]]
id = "11111111-1111-1111-1111-111111111111"
name = "T"
domains = ["t.onmicrosoft.com"]
[[tenants.users]]
upn = "a@elsewhere.com"
display_name = "A"
password = "x"
"#;
        let error = Seed::from_toml(text).unwrap().build(Utc::now()).unwrap_err().to_string();
        assert!(error.contains("a@elsewhere.com") && error.contains("not a verified domain"), "{error}");
    }

    #[test]
    fn the_sample_registers_tenures_app_in_every_cloud_family() {
        let directory = Seed::sample().build(Utc::now()).expect("sample builds");
        let mut clouds: Vec<Cloud> = directory
            .apps()
            .iter()
            .filter(|app| app.multi_tenant)
            .filter_map(|app| directory.tenant(&app.home_tenant.to_string()).map(|tenant| tenant.read().cloud))
            .collect();
        clouds.sort_by_key(|cloud| format!("{cloud:?}"));
        assert_eq!(clouds, [Cloud::China, Cloud::Global, Cloud::UsGovHigh]);
    }

    const TWO_CLOUDS: &str = r#"
[[tenants]]
id = "11111111-1111-1111-1111-111111111111"
name = "Global Home"
domains = ["home.onmicrosoft.com"]

[[tenants]]
id = "22222222-2222-2222-2222-222222222222"
name = "Gov Customer"
cloud = "UsGovDod"
domains = ["customer.onmicrosoft.us"]

[[apps]]
app_id = "33333333-3333-3333-3333-333333333333"
name = "Global App"
home_tenant = "11111111-1111-1111-1111-111111111111"
multi_tenant = true
"#;

    #[test]
    fn an_app_needs_a_home_tenant_of_the_seed() {
        let text = TWO_CLOUDS.replace(
            "home_tenant = \"11111111-1111-1111-1111-111111111111\"",
            "home_tenant = \"44444444-4444-4444-4444-444444444444\"",
        );
        let error = Seed::from_toml(&text).unwrap().build(Utc::now()).unwrap_err().to_string();
        assert!(error.contains("Global App") && error.contains("is not a tenant of the seed"), "{error}");
        assert!(Seed::from_toml(TWO_CLOUDS).unwrap().build(Utc::now()).is_ok());
    }

    #[test]
    fn a_service_principal_cannot_cross_clouds() {
        let text = TWO_CLOUDS.replace(
            "domains = [\"customer.onmicrosoft.us\"]",
            "domains = [\"customer.onmicrosoft.us\"]\n[[tenants.service_principals]]\n\
             app_id = \"33333333-3333-3333-3333-333333333333\"",
        );
        let error = Seed::from_toml(&text).unwrap().build(Utc::now()).unwrap_err().to_string();
        assert!(
            error.contains("Gov Customer") && error.contains("registered in the Global cloud, not in UsGovDod"),
            "{error}"
        );
    }
}
