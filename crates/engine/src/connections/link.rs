//! Link Account: the authorization-code flow with PKCE for delegated connections, the OAuth callback, and the
//! admin-consent paths (an admin granting directly through `v2.0/adminconsent`, or a user's request waiting
//! for an admin's approval).
//!
//! Every sign-in starts with a fresh `state` (128 bits or more) that the store keeps only as a hash, bound to the
//! admin's session and expiring after ten minutes; the callback takes it out of the store in one atomic step, so
//! a replayed, forged, expired or foreign `state` is refused before any code is redeemed. The PKCE verifier is
//! sealed beside it.

use chrono::Duration;
use model::Secret;
use store::{ConnectionAuth, ConnectionId, ConnectionKind, ConnectionStatus, OAuthPurpose, OAuthState};
use vault::authorization_code::{self, CallbackOutcome, DelegatedAppConfig, Pkce};

use super::{ConnectionError, ConnectionService, ConnectionView};

/// How long a sign-in may take between Link Account and the callback.
const STATE_LIFETIME_MINUTES: i64 = 10;

impl ConnectionService {
    /// Starts Link Account (or Re-link) for a delegated connection: returns the URL of the cloud's sign-in page to
    /// send the admin's browser to. `session_binding` identifies the admin's session (or the CLI process); the
    /// callback must come back with the same.
    ///
    /// # Errors
    ///
    /// Unknown id, an app-only connection, no provider app configured for the connection's cloud, the store failed.
    pub async fn begin_link(&self, id: ConnectionId, session_binding: &str) -> Result<String, ConnectionError> {
        let connection = self.record(id).await?;
        if connection.auth != ConnectionAuth::Delegated {
            return Err(ConnectionError::Invalid(format!(
                "connection \"{}\" uses the app's own credential: use Test connection instead of Link Account",
                connection.name
            )));
        }
        let config = self.delegated_config(connection.cloud, connection.tenant_id.as_deref())?;
        let state = authorization_code::new_state();
        let pkce = Pkce::generate();
        self.save_state(id, OAuthPurpose::Link, &state, Some(&pkce.verifier), session_binding).await?;
        let scopes = scopes_for(connection.kind, connection.cloud);
        Ok(authorization_code::authorize_url(
            &config,
            &self.redirect_uri(),
            &scopes,
            state.expose(),
            &pkce.challenge,
            connection.linked_by.as_deref(),
        ))
    }

    /// Starts the admin-consent path for a delegated connection: an administrator of `tenant` grants Tenure's
    /// permissions for the whole organisation (the connection is then linked with Link Account).
    ///
    /// # Errors
    ///
    /// Unknown id, an app-only connection, `common` as the tenant, no provider app configured for the connection's
    /// cloud, the store failed.
    pub async fn begin_admin_consent(
        &self,
        id: ConnectionId,
        tenant: &str,
        session_binding: &str,
    ) -> Result<String, ConnectionError> {
        let connection = self.record(id).await?;
        if connection.auth != ConnectionAuth::Delegated {
            return Err(ConnectionError::Invalid(format!(
                "connection \"{}\" is app-only: grant admin consent on the app registration instead",
                connection.name
            )));
        }
        let tenant = tenant.trim();
        if tenant.is_empty() || tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("consumers") {
            return Err(ConnectionError::Invalid(
                "admin consent needs the organisation's tenant ID or domain (not \"common\")".to_string(),
            ));
        }
        let config = self.delegated_config(connection.cloud, Some(tenant))?;
        let state = authorization_code::new_state();
        self.save_state(id, OAuthPurpose::AdminConsent, &state, None, session_binding).await?;
        // `.default` consents to everything the app registration lists; the OIDC scopes ride along so that users
        // who link afterwards see no consent page at all.
        let resource_scope = match connection.kind {
            ConnectionKind::Exchange => authorization_code::exchange_resource_scope(connection.cloud),
            ConnectionKind::EntraDelegated | ConnectionKind::EntraApp => {
                authorization_code::graph_resource_scope(connection.cloud)
            }
        };
        let scope = format!("{resource_scope} offline_access openid profile");
        Ok(authorization_code::admin_consent_url(&config, tenant, &self.redirect_uri(), &scope, state.expose()))
    }

    async fn save_state(
        &self,
        id: ConnectionId,
        purpose: OAuthPurpose,
        state: &Secret,
        verifier: Option<&Secret>,
        session_binding: &str,
    ) -> Result<(), ConnectionError> {
        let now = self.now();
        let state_hash = authorization_code::state_hash(state.expose());
        let verifier = verifier.map(|verifier| {
            let sealed = self.inner.keys.seal(verifier, &format!("oauth_state:{state_hash}"));
            store::StoredSecret { key_id: sealed.key_id, ciphertext: sealed.ciphertext }
        });
        self.inner.store.purge_expired_oauth_states(now).await?;
        self.inner
            .store
            .save_oauth_state(&OAuthState {
                state_hash,
                connection_id: id,
                purpose,
                session_binding: authorization_code::state_hash(session_binding),
                verifier,
                redirect_uri: self.redirect_uri(),
                expires_at: now + Duration::minutes(STATE_LIFETIME_MINUTES),
            })
            .await?;
        Ok(())
    }

    /// Handles the OAuth callback (`GET /oauth/callback?{query}`) of a sign-in or an admin consent started by
    /// [`Self::begin_link`]/[`Self::begin_admin_consent`] in the session `session_binding`.
    ///
    /// A code is redeemed and the connection becomes "Connected" with who linked it and what was granted; a
    /// refusal that needs an administrator leaves it "Waiting for admin approval"; an admin consent records the
    /// tenant and asks for Link Account.
    ///
    /// # Errors
    ///
    /// An unknown, used, expired or foreign `state` ([`ConnectionError::InvalidState`]); a refusal by the identity
    /// platform ([`ConnectionError::Provider`]); the store failed.
    pub async fn complete_callback(
        &self,
        query: &str,
        session_binding: &str,
    ) -> Result<ConnectionView, ConnectionError> {
        let outcome = authorization_code::parse_callback(query);
        let Some(state_text) = outcome.state() else {
            return Err(ConnectionError::InvalidState(
                "the sign-in answer carries no state: start Link Account again".to_string(),
            ));
        };
        let state_hash = authorization_code::state_hash(state_text);
        let Some(state) = self.inner.store.take_oauth_state(&state_hash).await? else {
            return Err(ConnectionError::InvalidState(
                "this sign-in answer was already used or was never issued by Tenure: start Link Account again"
                    .to_string(),
            ));
        };
        let now = self.now();
        if state.session_binding != authorization_code::state_hash(session_binding) {
            tracing::warn!(connection_id = %state.connection_id, "OAuth callback refused: it belongs to another session.");
            return Err(ConnectionError::InvalidState(
                "this sign-in was started in another session: start Link Account again from this browser".to_string(),
            ));
        }
        if state.expires_at < now {
            return Err(ConnectionError::InvalidState(format!(
                "the sign-in took longer than {STATE_LIFETIME_MINUTES} minutes: start Link Account again"
            )));
        }
        let connection = self.record(state.connection_id).await?;
        match outcome {
            CallbackOutcome::Code { code, .. } => {
                if state.purpose != OAuthPurpose::Link {
                    return Err(ConnectionError::InvalidState(
                        "an authorization code arrived for an admin-consent request".to_string(),
                    ));
                }
                let verifier = match &state.verifier {
                    Some(stored) => self.inner.keys.open(
                        &vault::SealedSecret { key_id: stored.key_id.clone(), ciphertext: stored.ciphertext.clone() },
                        &format!("oauth_state:{state_hash}"),
                    )?,
                    None => {
                        return Err(ConnectionError::InvalidState(
                            "the sign-in's PKCE verifier is missing".to_string(),
                        ));
                    }
                };
                let config = self.delegated_config(connection.cloud, connection.tenant_id.as_deref())?;
                let scopes = scopes_for(connection.kind, connection.cloud);
                let grant = authorization_code::redeem_code(&config, &code, &state.redirect_uri, &verifier, &scopes)
                    .await
                    .map_err(|error| {
                        ConnectionError::Provider(format!("the sign-in could not be completed: {error}"))
                    })?;
                if let Some(expected) = &connection.tenant_id
                    && !expected.eq_ignore_ascii_case(&grant.tenant_id)
                    && connection.status != ConnectionStatus::NotLinked
                {
                    return Err(ConnectionError::Provider(format!(
                        "the account that signed in belongs to tenant {}, but connection \"{}\" is linked to tenant \
                         {expected}: sign in with an account of that tenant, or create a new connection",
                        grant.tenant_id, connection.name
                    )));
                }
                self.put_secret(connection.id, "refresh_token", &grant.refresh_token).await?;
                let user = grant.user.clone().unwrap_or_else(|| "an unnamed account".to_string());
                let mut granted = grant.granted.scopes.clone();
                granted.sort();
                self.inner.store.record_link(connection.id, &user, &granted, Some(&grant.tenant_id), now).await?;
                tracing::info!(connection_id = %connection.id, name = %connection.name, linked_by = %user, "Connection linked.");
                self.get(connection.id).await
            }
            CallbackOutcome::AdminConsent { tenant, granted, error, description, .. } => {
                if granted {
                    let reason = format!(
                        "An administrator of tenant {} granted consent for the organisation: click Link Account to \
                         finish.",
                        tenant.as_deref().unwrap_or("(unnamed)")
                    );
                    if connection.status != ConnectionStatus::Connected {
                        self.inner
                            .store
                            .set_connection_status(connection.id, ConnectionStatus::NotLinked, Some(&reason), now)
                            .await?;
                    }
                    self.get(connection.id).await
                } else {
                    let detail = match (error, description) {
                        (Some(error), Some(description)) => format!(" ({error}: {})", first_line(&description)),
                        (Some(error), None) => format!(" ({error})"),
                        _ => String::new(),
                    };
                    Err(ConnectionError::Provider(format!("consent was not granted for the organisation{detail}")))
                }
            }
            CallbackOutcome::Malformed { reason } => {
                Err(ConnectionError::Provider(format!("the sign-in answer could not be read: {reason}")))
            }
            CallbackOutcome::Error { error, description, .. } => {
                let description = description.unwrap_or_default();
                if needs_admin(&error, &description) {
                    let reason = format!(
                        "The account that signed in cannot consent to Tenure's permissions; an administrator must \
                         approve the request ({error}: {})",
                        first_line(&description)
                    );
                    self.inner
                        .store
                        .set_connection_status(
                            connection.id,
                            ConnectionStatus::WaitingAdminApproval,
                            Some(&reason),
                            now,
                        )
                        .await?;
                    return self.get(connection.id).await;
                }
                Err(ConnectionError::Provider(format!(
                    "Microsoft refused the sign-in ({error}): {}",
                    first_line(&description)
                )))
            }
        }
    }

    /// The provider app's settings for a sign-in in `cloud` — that cloud's registration of Tenure's app — with
    /// `organizations` as the tenant until it is known.
    pub(super) fn delegated_config(
        &self,
        cloud: model::NationalCloud,
        tenant: Option<&str>,
    ) -> Result<DelegatedAppConfig, ConnectionError> {
        let app = self.require_provider_app(cloud)?;
        Ok(DelegatedAppConfig {
            cloud,
            login_base_url: Some(self.login_base(cloud)),
            tenant: tenant.unwrap_or("organizations").to_string(),
            client_id: app.client_id.clone(),
            credential: app.credential.clone(),
            extra_root_certificate_pem: self.inner.settings.ca_pem.clone(),
        })
    }
}

/// The scopes a delegated connection of `kind` asks for.
pub(super) fn scopes_for(kind: ConnectionKind, cloud: model::NationalCloud) -> Vec<String> {
    match kind {
        ConnectionKind::Exchange => authorization_code::exchange_scopes(cloud),
        ConnectionKind::EntraDelegated | ConnectionKind::EntraApp => authorization_code::graph_scopes(cloud),
    }
}

/// Whether a refused sign-in is the "an administrator must consent" kind (the admin-consent-request path). A user
/// who filed an admin consent request returns to the application with `access_denied` (AADSTS65004: consent
/// not granted), which is read the same way: the connection waits for an administrator.
fn needs_admin(error: &str, description: &str) -> bool {
    const CODES: [&str; 5] = ["AADSTS90094", "AADSTS65001", "AADSTS90095", "AADSTS900941", "AADSTS65004"];
    error == "consent_required" || CODES.iter().any(|code| description.contains(code))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}
