//! Reading what the identity platform sent back to the redirect URI: an authorization code, an error, or the
//! answer of the admin-consent endpoint.
//!
//! Shapes (reference §1.1, §1.2): `?code=…&state=…&session_state=…`; `?error=…&error_description=AADSTS…&state=…`;
//! `?admin_consent=True&tenant=…&scope=…&state=…`; `?admin_consent=True&error=consent_required&…`; and the older
//! `?tenant=…&state=…&admin_consent=True`. The caller checks `state` (through [`super::state_hash`]) before
//! doing anything with the rest.

use model::Secret;
use reqwest::Url;

/// What came back to the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The user signed in and consented: redeem `code` with [`super::redeem_code`].
    Code {
        /// The authorization code (single use, about ten minutes).
        code: Secret,
        /// The `state` sent on `/authorize`.
        state: Option<Secret>,
    },
    /// The sign-in or consent did not happen: declined, not allowed ("needs admin approval"), or refused.
    Error {
        /// The OAuth `error` value, e.g. `access_denied`, `consent_required`, `invalid_request`.
        error: String,
        /// `error_description` (starts `AADSTS…:`; trace and correlation ids follow).
        description: Option<String>,
        /// The AADSTS number, e.g. `65004` (user declined) or `90094` (admin approval needed).
        aadsts: Option<u32>,
        /// The `state` sent on `/authorize`.
        state: Option<Secret>,
    },
    /// The answer of `/adminconsent`.
    AdminConsent {
        /// The tenant that granted (present on success).
        tenant: Option<String>,
        /// The permissions granted, e.g. `https://graph.microsoft.com/User.ReadWrite.All` (v2 answers only).
        scope: Vec<String>,
        /// The `state` sent on `/adminconsent`.
        state: Option<Secret>,
        /// Whether the admin granted (no `error`).
        granted: bool,
        /// The `error` value when not granted.
        error: Option<String>,
        /// `error_description` when not granted.
        description: Option<String>,
    },
    /// Neither a code, an error nor an admin-consent answer: not a callback of the identity platform.
    Malformed {
        /// What is missing.
        reason: String,
    },
}

impl CallbackOutcome {
    /// The text of the `state` the callback carries, if any: for [`super::state_hash`], to find the link it
    /// belongs to.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        match self {
            Self::Code { state, .. } | Self::Error { state, .. } | Self::AdminConsent { state, .. } => {
                state.as_ref().map(Secret::expose)
            }
            Self::Malformed { .. } => None,
        }
    }
}

/// Reads the query of a callback request (with or without the leading `?`).
#[must_use]
pub fn parse_callback(query: &str) -> CallbackOutcome {
    let query = query.strip_prefix('?').unwrap_or(query);
    let Ok(mut url) = Url::parse("https://callback.invalid/") else {
        return CallbackOutcome::Malformed { reason: "the callback could not be read".into() };
    };
    url.set_query(Some(query));
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let state = get("state").filter(|value| !value.is_empty()).map(Secret::new);
    let error = get("error").filter(|value| !value.is_empty());
    let description = get("error_description").map(|text| text.trim().to_string()).filter(|text| !text.is_empty());
    if get("admin_consent").is_some() {
        let scope =
            get("scope").map(|scope| scope.split(' ').filter(|entry| !entry.is_empty()).map(str::to_string).collect());
        return CallbackOutcome::AdminConsent {
            tenant: get("tenant").filter(|value| !value.is_empty()),
            scope: scope.unwrap_or_default(),
            state,
            granted: error.is_none() && get("admin_consent").is_some_and(|value| value.eq_ignore_ascii_case("true")),
            error,
            description,
        };
    }
    if let Some(error) = error {
        let aadsts = description.as_deref().and_then(aadsts_number);
        return CallbackOutcome::Error { error, description, aadsts, state };
    }
    match get("code").filter(|code| !code.is_empty()) {
        Some(code) => CallbackOutcome::Code { code: Secret::new(code), state },
        None => CallbackOutcome::Malformed {
            reason: "the callback carries neither a code, an error nor an admin-consent answer".into(),
        },
    }
}

/// The number of a description that starts `AADSTS{number}:`.
fn aadsts_number(description: &str) -> Option<u32> {
    let digits: String = description.strip_prefix("AADSTS")?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_and_its_state() {
        let outcome = parse_callback("?code=0.AbC-d_e&state=s1&session_state=x");
        let CallbackOutcome::Code { code, state } = outcome else { panic!("a code: {outcome:?}") };
        assert_eq!(code.expose(), "0.AbC-d_e");
        assert_eq!(state.map(|state| state.expose().to_string()).as_deref(), Some("s1"));
        assert_eq!(parse_callback("?code=c&state=s2").state(), Some("s2"));
        assert_eq!(parse_callback("nothing=here").state(), None);
    }

    #[test]
    fn an_error_keeps_its_aadsts_number() {
        let outcome = parse_callback(
            "error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent.%0d%0aTrace+ID%3a+1&state=s",
        );
        let CallbackOutcome::Error { error, description, aadsts, state } = outcome else { panic!("{outcome:?}") };
        assert_eq!(error, "access_denied");
        assert_eq!(aadsts, Some(65004));
        assert!(description.is_some_and(|text| text.starts_with("AADSTS65004: User declined")));
        assert!(state.is_some());
    }

    #[test]
    fn admin_consent_answers() {
        let granted = parse_callback(
            "admin_consent=True&tenant=6e3b&scope=https%3A%2F%2Fgraph.microsoft.com%2FUser.ReadWrite.All+https%3A%2F%2Fgraph.microsoft.com%2FGroup.ReadWrite.All&state=s",
        );
        let CallbackOutcome::AdminConsent { tenant, scope, granted, error, .. } = granted else { panic!() };
        assert!(granted);
        assert_eq!(tenant.as_deref(), Some("6e3b"));
        assert_eq!(scope.len(), 2);
        assert_eq!(error, None);
        let refused =
            parse_callback("admin_consent=True&error=consent_required&error_description=AADSTS65004%3a+denied&state=s");
        assert!(matches!(refused, CallbackOutcome::AdminConsent { granted: false, error: Some(_), .. }));
        let v1 = parse_callback("tenant=6e3b&state=s&admin_consent=True");
        assert!(matches!(v1, CallbackOutcome::AdminConsent { granted: true, .. }));
    }

    #[test]
    fn anything_else_is_malformed() {
        assert!(matches!(parse_callback(""), CallbackOutcome::Malformed { .. }));
        assert!(matches!(parse_callback("state=only"), CallbackOutcome::Malformed { .. }));
    }
}
