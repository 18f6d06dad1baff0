//! The identity platform's runtime state: authorization codes, refresh-token chains, the client-assertion
//! `jti` cache, sign-in flows in progress and sign-in sessions. Each map sits behind its own lock; entries
//! expire lazily when the map is next written.
//!
//! Codes, refresh tokens and session cookies are stored only as SHA-256 digests, never as issued. Refresh
//! chains survive restarts through [`IdentityState::snapshot`] / [`IdentityState::restore`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::flow::PendingFlow;
use super::scopes::ScopeRequest;

/// How long an authorization code may be redeemed (Microsoft: "roughly ten minutes").
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// A refresh token unused for this long is dead (AADSTS700082).
pub const REFRESH_INACTIVITY: Duration = Duration::days(90);
/// How long a sign-in session cookie stays valid.
pub const SESSION_LIFETIME: Duration = Duration::hours(24);
/// How long a sign-in page may sit before it is submitted.
pub const FLOW_LIFETIME: Duration = Duration::hours(1);

/// A PKCE challenge method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeMethod {
    /// The verifier is the challenge.
    Plain,
    /// The challenge is base64url(SHA-256(verifier)).
    S256,
}

/// A PKCE challenge sent on `/authorize`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge {
    /// `code_challenge`.
    pub value: String,
    /// `code_challenge_method`.
    pub method: ChallengeMethod,
}

impl CodeChallenge {
    /// Whether `verifier` answers the challenge.
    pub fn verifies(&self, verifier: &str) -> bool {
        match self.method {
            ChallengeMethod::Plain => verifier == self.value,
            ChallengeMethod::S256 => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
                URL_SAFE_NO_PAD.encode(digest.as_ref()) == self.value
            }
        }
    }
}

/// An issued authorization code.
#[derive(Clone, Debug)]
pub struct AuthorizationCode {
    /// The client it was issued to.
    pub client_id: Uuid,
    /// The `redirect_uri` of the authorize request.
    pub redirect_uri: String,
    /// The signed-in user's tenant.
    pub tenant_id: Uuid,
    /// The signed-in user.
    pub user_id: Uuid,
    /// The scopes of the authorize request.
    pub scopes: ScopeRequest,
    /// `nonce`, echoed into the id_token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub challenge: Option<CodeChallenge>,
    /// When the code stops working.
    pub expires: DateTime<Utc>,
    /// When the user signed in interactively (refresh tokens minted from the code carry it).
    pub signed_in: DateTime<Utc>,
    /// Redeemed already.
    pub redeemed: bool,
}

/// Why a code could not be redeemed.
#[derive(Clone, Debug)]
pub enum CodeProblem {
    /// Never issued (or forgotten long ago).
    Unknown,
    /// Redeemed before.
    Redeemed,
    /// Past its lifetime.
    Expired,
}

/// A refresh-token chain: one interactive sign-in of one user into one client, and every refresh token
/// descended from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshChain {
    /// Chain id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The user's tenant.
    pub tenant_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The interactive sign-in the chain started from; revocation compares against it.
    pub signed_in: DateTime<Utc>,
    /// The scopes of the original request (used when a refresh request names none).
    pub scopes: String,
    /// Refresh tokens issued in this chain so far.
    pub issued: u64,
}

/// One issued refresh token (only its digest is kept).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// Its chain.
    pub chain: Uuid,
    /// When it was issued; it dies after [`REFRESH_INACTIVITY`].
    pub issued: DateTime<Utc>,
}

/// A sign-in session behind the `ESTSAUTH` cookie.
#[derive(Clone, Debug)]
pub struct Session {
    /// The user.
    pub user_id: Uuid,
    /// The user's tenant.
    pub tenant_id: Uuid,
    /// The preferred login host of the cloud family the session belongs to.
    pub login_host: &'static str,
    /// When the user signed in.
    pub signed_in: DateTime<Utc>,
    /// When the session ends.
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct RefreshStore {
    tokens: HashMap<String, RefreshRecord>,
    chains: HashMap<Uuid, RefreshChain>,
}

/// Runtime identity state: authorization codes, refresh tokens, assertion replay cache, pending sign-ins,
/// sessions.
#[derive(Debug, Default)]
pub struct IdentityState {
    codes: Mutex<HashMap<String, AuthorizationCode>>,
    refresh: Mutex<RefreshStore>,
    assertions: Mutex<HashMap<(Uuid, String), i64>>,
    flows: Mutex<HashMap<String, PendingFlow>>,
    sessions: Mutex<HashMap<String, Session>>,
    reject_replayed_assertions: AtomicBool,
}

/// A fresh opaque credential: `prefix` + base64url of 48 random bytes.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0_u8; 48];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The system RNG failing is not recoverable in any sensible way; fall back to two v4 UUIDs (also
        // OS-random) rather than panic in a request handler.
        bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        bytes[16..32].copy_from_slice(Uuid::new_v4().as_bytes());
    }
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The digest under which an opaque credential is stored.
pub fn digest(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

impl IdentityState {
    /// Stores a new authorization code and returns its value.
    pub fn issue_code(&self, code: AuthorizationCode, now: DateTime<Utc>) -> String {
        let value = random_token("1.A");
        let mut codes = self.codes.lock();
        codes.retain(|_, existing| existing.expires + CODE_LIFETIME > now);
        codes.insert(digest(&value), code);
        value
    }

    /// Redeems a code: single use, within its lifetime.
    pub fn redeem_code(&self, value: &str, now: DateTime<Utc>) -> Result<AuthorizationCode, CodeProblem> {
        let mut codes = self.codes.lock();
        let code = codes.get_mut(&digest(value)).ok_or(CodeProblem::Unknown)?;
        if code.redeemed {
            return Err(CodeProblem::Redeemed);
        }
        if code.expires <= now {
            return Err(CodeProblem::Expired);
        }
        code.redeemed = true;
        Ok(code.clone())
    }

    /// Starts a refresh-token chain and returns its first token.
    pub fn start_refresh_chain(
        &self,
        client_id: Uuid,
        tenant_id: Uuid,
        user_id: Uuid,
        signed_in: DateTime<Utc>,
        scopes: &str,
        now: DateTime<Utc>,
    ) -> String {
        let chain = RefreshChain {
            id: Uuid::new_v4(),
            client_id,
            tenant_id,
            user_id,
            signed_in,
            scopes: scopes.into(),
            issued: 0,
        };
        let id = chain.id;
        self.refresh.lock().chains.insert(id, chain);
        self.continue_refresh_chain(id, now)
    }

    /// Issues the next refresh token of a chain (earlier tokens stay valid, as Microsoft documents).
    pub fn continue_refresh_chain(&self, chain: Uuid, now: DateTime<Utc>) -> String {
        let value = random_token("1.AR");
        let mut store = self.refresh.lock();
        // Forget tokens long dead (they answer "unknown" instead of AADSTS700082 after twice the lifetime).
        store.tokens.retain(|_, record| record.issued + REFRESH_INACTIVITY * 2 > now);
        if let Some(entry) = store.chains.get_mut(&chain) {
            entry.issued += 1;
        }
        store.tokens.insert(digest(&value), RefreshRecord { chain, issued: now });
        value
    }

    /// The record and chain of a presented refresh token.
    pub fn refresh_token(&self, value: &str) -> Option<(RefreshRecord, RefreshChain)> {
        let store = self.refresh.lock();
        let record = store.tokens.get(&digest(value))?.clone();
        let chain = store.chains.get(&record.chain)?.clone();
        Some((record, chain))
    }

    /// Records a client assertion's `jti` until its expiry; returns whether it was seen before.
    pub fn assertion_seen_before(&self, app_id: Uuid, jti: &str, exp: i64, now: DateTime<Utc>) -> bool {
        let mut seen = self.assertions.lock();
        let now = now.timestamp();
        seen.retain(|_, expires| *expires > now);
        seen.insert((app_id, jti.to_string()), exp).is_some()
    }

    /// Whether a client assertion whose `jti` was already used is refused. Off by default: Microsoft accepts a
    /// repeated assertion within its lifetime, and MSAL relies on that (it reuses one signed assertion for
    /// about nine minutes).
    pub fn rejects_replayed_assertions(&self) -> bool {
        self.reject_replayed_assertions.load(Ordering::Relaxed)
    }

    /// Turns the strict `jti` replay check on or off.
    pub fn set_reject_replayed_assertions(&self, reject: bool) {
        self.reject_replayed_assertions.store(reject, Ordering::Relaxed);
    }

    /// Stores a sign-in flow in progress and returns its id.
    pub(crate) fn put_flow(&self, flow: PendingFlow, now: DateTime<Utc>) -> String {
        let id = random_token("");
        let mut flows = self.flows.lock();
        flows.retain(|_, existing| existing.expires > now);
        flows.insert(id.clone(), flow);
        id
    }

    /// A flow in progress by id (expired flows are gone).
    pub(crate) fn flow(&self, id: &str, now: DateTime<Utc>) -> Option<PendingFlow> {
        self.flows.lock().get(id).filter(|flow| flow.expires > now).cloned()
    }

    /// Replaces a flow's state.
    pub(crate) fn update_flow(&self, id: &str, flow: PendingFlow) {
        self.flows.lock().insert(id.to_string(), flow);
    }

    /// Ends a flow.
    pub(crate) fn finish_flow(&self, id: &str) {
        self.flows.lock().remove(id);
    }

    /// Starts a session and returns the cookie value.
    pub fn start_session(&self, session: Session) -> String {
        let value = random_token("");
        let now = session.signed_in;
        let mut sessions = self.sessions.lock();
        sessions.retain(|_, existing| existing.expires > now);
        sessions.insert(digest(&value), session);
        value
    }

    /// The live session behind a cookie value.
    pub fn session(&self, cookie: &str, now: DateTime<Utc>) -> Option<Session> {
        self.sessions.lock().get(&digest(cookie)).filter(|session| session.expires > now).cloned()
    }

    /// The refresh-token chains and token digests, for the persistence helper.
    pub fn snapshot(&self) -> Value {
        let store = self.refresh.lock();
        let mut chains: Vec<&RefreshChain> = store.chains.values().collect();
        chains.sort_by_key(|chain| chain.id);
        let mut tokens: Vec<Value> = store
            .tokens
            .iter()
            .map(|(hash, record)| json!({"sha256": hash, "chain": record.chain, "issued": record.issued}))
            .collect();
        tokens.sort_by(|left, right| left["sha256"].as_str().cmp(&right["sha256"].as_str()));
        json!({"version": 1, "refresh_chains": chains, "refresh_tokens": tokens})
    }

    /// Restores what [`IdentityState::snapshot`] saved (replacing the refresh-token state).
    pub fn restore(&self, value: &Value) -> Result<(), String> {
        #[derive(Deserialize)]
        struct SavedToken {
            sha256: String,
            chain: Uuid,
            issued: DateTime<Utc>,
        }
        #[derive(Deserialize)]
        struct Saved {
            version: u32,
            refresh_chains: Vec<RefreshChain>,
            refresh_tokens: Vec<SavedToken>,
        }
        let saved: Saved = serde_json::from_value(value.clone()).map_err(|error| format!("identity state: {error}"))?;
        if saved.version != 1 {
            return Err(format!("identity state: unsupported version {}", saved.version));
        }
        let chains: HashMap<Uuid, RefreshChain> =
            saved.refresh_chains.into_iter().map(|chain| (chain.id, chain)).collect();
        let mut tokens = HashMap::new();
        for token in saved.refresh_tokens {
            if !chains.contains_key(&token.chain) {
                return Err(format!("identity state: refresh token of unknown chain {}", token.chain));
            }
            tokens.insert(token.sha256, RefreshRecord { chain: token.chain, issued: token.issued });
        }
        *self.refresh.lock() = RefreshStore { tokens, chains };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_chains_survive_a_snapshot_round_trip() {
        let state = IdentityState::default();
        let now = Utc::now();
        let token = state.start_refresh_chain(Uuid::nil(), Uuid::nil(), Uuid::nil(), now, "openid", now);
        let saved = state.snapshot();
        assert!(!saved.to_string().contains(&token), "the snapshot holds digests, not tokens");
        let restored = IdentityState::default();
        restored.restore(&saved).unwrap();
        assert!(restored.refresh_token(&token).is_some());
        assert!(restored.restore(&json!({"version": 2, "refresh_chains": [], "refresh_tokens": []})).is_err());
    }

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        let challenge = CodeChallenge {
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        };
        assert!(challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!challenge.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
    }
}
