//! Certificate client assertions (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`).
//!
//! The header names the certificate by `x5t#S256` (PS256, what MSAL sends when it knows a SHA-256 thumbprint)
//! or `x5t` (SHA-1, with RS256), or carries it in `x5c`; the certificate must be registered on the app and
//! within its validity. Claims: `aud` = the token endpoint, `iss` = `sub` = client id, `exp` (MSAL sends
//! floats), optional `nbf`, `jti`. Facts: reference §1.3 "Certificate client assertion" and
//! <https://learn.microsoft.com/entra/identity-platform/certificate-credentials>.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use uuid::Uuid;

use super::authority::Authority;
use super::error::{AadError, RequestMeta};
use crate::directory::app::{App, AppCertificate};
use crate::state::AppState;

/// The only `client_assertion_type` Entra accepts.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed on `exp` and `nbf`.
const SKEW_SECONDS: f64 = 300.0;

/// The `iss` of an assertion, read without verification (to find the client when `client_id` is absent).
pub fn unverified_issuer(assertion: &str) -> Option<String> {
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion).ok()?.claims;
    claims.get("iss").and_then(Value::as_str).map(str::to_string)
}

fn malformed(detail: &str) -> AadError {
    AadError::new("invalid_client", 50027, format!("Invalid JWT token. {detail}"))
}

/// Decodes base64url with or without padding (and tolerates the standard alphabet).
fn decode_thumbprint(value: &str) -> Option<Vec<u8>> {
    let normalised: String = value
        .trim_end_matches('=')
        .chars()
        .map(|character| match character {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(normalised).ok()
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// Microsoft's `Found key 'Start=…, End=…'` date format.
fn key_date(at: DateTime<Utc>) -> String {
    at.format("%m/%d/%Y %H:%M:%S").to_string()
}

/// Microsoft's seven-digit fractional timestamps (`2024-10-02T22:05:03.6755165Z`).
fn precise(at: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", at.format("%Y-%m-%dT%H:%M:%S"), at.timestamp_subsec_nanos() / 100)
}

fn key_problem(reason: &str, thumbprint: &str, certificate: Option<&AppCertificate>, app: &App) -> AadError {
    let found = certificate.map_or(String::new(), |certificate| {
        format!("Found key 'Start={}, End={}', ", key_date(certificate.not_before), key_date(certificate.not_after))
    });
    let lead = if certificate.is_some() {
        "Client assertion contains an invalid signature."
    } else {
        "The certificate with identifier used to sign the client assertion is not registered on application."
    };
    AadError::new(
        "invalid_client",
        700027,
        format!(
            "{lead} [Reason - {reason}, Thumbprint of key used by client: '{thumbprint}', {found}Please visit the \
             Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'. Review \
             the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are using a national \
             cloud.]",
            app.app_id
        ),
    )
}

/// Which certificate the header points at, and the thumbprint to quote in errors.
fn find_certificate<'a>(
    header: &jsonwebtoken::Header,
    app: &'a App,
) -> Result<(Option<&'a AppCertificate>, String), AadError> {
    let ders: Vec<(&AppCertificate, Vec<u8>)> = app
        .certificates
        .iter()
        .filter_map(|certificate| STANDARD.decode(&certificate.der_base64).ok().map(|der| (certificate, der)))
        .collect();
    let (wanted, algorithm) = if let Some(value) = &header.x5t_s256 {
        (decode_thumbprint(value).ok_or_else(|| malformed("Token format not valid."))?, &aws_lc_rs::digest::SHA256)
    } else if let Some(value) = &header.x5t {
        (
            decode_thumbprint(value).ok_or_else(|| malformed("Token format not valid."))?,
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        )
    } else if let Some(first) = header.x5c.as_ref().and_then(|chain| chain.first()) {
        let der = STANDARD.decode(first).map_err(|_| malformed("Token format not valid."))?;
        (aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref().to_vec(), {
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY
        })
    } else {
        return Err(malformed("No certificate thumbprint specified in token header."));
    };
    let found = ders
        .iter()
        .find(|(_, der)| aws_lc_rs::digest::digest(algorithm, der).as_ref() == wanted.as_slice())
        .map(|(certificate, _)| *certificate);
    Ok((found, hex_upper(&wanted)))
}

/// The token-endpoint URLs an assertion's `aud` may name for this request.
fn acceptable_audiences(state: &AppState, meta: &RequestMeta, segment: &str, authority: &Authority) -> Vec<String> {
    let mut tenants = vec![segment.to_ascii_lowercase()];
    if let Authority::Tenant { tenant, id, .. } = authority {
        tenants.push(id.to_string());
        tenants.extend(tenant.read().domains.iter().map(|domain| domain.name.to_ascii_lowercase()));
    }
    let mut bases = vec![meta.context.public_base.trim_end_matches('/').to_ascii_lowercase()];
    bases.extend(meta.context.cloud.hosts().login.iter().map(|host| format!("https://{host}")));
    let _ = state;
    let mut audiences = Vec::new();
    for base in &bases {
        for tenant in &tenants {
            audiences.push(format!("{base}/{tenant}/oauth2/v2.0/token"));
            audiences.push(format!("{base}/{tenant}/oauth2/token"));
        }
    }
    audiences
}

/// Verifies a client assertion for `app`; returns nothing on success.
pub fn verify(
    state: &AppState,
    meta: &RequestMeta,
    segment: &str,
    authority: &Authority,
    app: &App,
    assertion: &str,
) -> Result<(), AadError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed("Token format not valid."))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::RS384 | Algorithm::PS384 | Algorithm::RS512 | Algorithm::PS512
    ) {
        return Err(malformed("The signing algorithm is not supported."));
    }
    let (certificate, thumbprint) = find_certificate(&header, app)?;
    let Some(certificate) = certificate else {
        return Err(key_problem("The key was not found.", &thumbprint, None, app));
    };
    if certificate.not_after <= meta.now {
        return Err(key_problem("The key used is expired.", &thumbprint, Some(certificate), app));
    }
    if certificate.not_before > meta.now {
        return Err(key_problem("The key used is not yet valid.", &thumbprint, Some(certificate), app));
    }
    let der = STANDARD.decode(&certificate.der_base64).map_err(|_| malformed("Token format not valid."))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).map_err(|_| malformed("Token format not valid."))?;
    let (modulus, exponent) = crate::keys::rsa_components(parsed.public_key().raw)
        .map_err(|_| key_problem("The key is not an RSA key.", &thumbprint, Some(certificate), app))?;
    let key = DecodingKey::from_rsa_raw_components(&modulus, &exponent);
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => key_problem(
                "The provided signature value did not match the expected signature value.",
                &thumbprint,
                Some(certificate),
                app,
            ),
            _ => malformed("Token format not valid."),
        })?
        .claims;
    check_claims(state, meta, segment, authority, app, &claims)
}

fn check_claims(
    state: &AppState,
    meta: &RequestMeta,
    segment: &str,
    authority: &Authority,
    app: &App,
    claims: &Value,
) -> Result<(), AadError> {
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    if issuer != subject {
        return Err(AadError::new(
            "invalid_client",
            50048,
            format!("Subject mismatches Issuer claim in the client assertion for application '{}'.", app.app_id),
        ));
    }
    if Uuid::parse_str(issuer).ok() != Some(app.app_id) {
        return Err(AadError::new(
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation \
             at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
        ));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(audience)) => vec![audience.as_str()],
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if audiences.len() > 1 {
        return Err(AadError::new(
            "invalid_client",
            5002741,
            format!(
                "Number of audience values in the provided client credential exceed maximum allowed. {} audience \
                 values provided, maximum allowed is 1.",
                audiences.len()
            ),
        ));
    }
    let acceptable = acceptable_audiences(state, meta, segment, authority);
    let audience_ok = audiences.first().is_some_and(|audience| {
        let audience = audience.trim_end_matches('/').to_ascii_lowercase();
        acceptable.contains(&audience)
    });
    if !audience_ok {
        return Err(AadError::new(
            "invalid_client",
            50012,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    let now = meta.now.timestamp_millis() as f64 / 1000.0;
    let Some(expires) = claims.get("exp").and_then(Value::as_f64) else {
        return Err(malformed("The 'exp' claim is missing."));
    };
    let not_before = claims.get("nbf").and_then(Value::as_f64);
    if expires + SKEW_SECONDS <= now || not_before.is_some_and(|nbf| nbf - SKEW_SECONDS > now) {
        let to_time =
            |seconds: f64| DateTime::<Utc>::from_timestamp_millis((seconds * 1000.0) as i64).unwrap_or_default();
        return Err(AadError::new(
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, \
                 expiry time of assertion {}. Review the documentation at \
                 https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                precise(meta.now),
                precise(to_time(not_before.unwrap_or(0.0))),
                precise(to_time(expires))
            ),
        ));
    }
    let Some(jti) = claims.get("jti").and_then(Value::as_str).filter(|jti| !jti.is_empty()) else {
        return Err(malformed("The 'jti' claim is missing."));
    };
    let replayed = state.identity.assertion_seen_before(app.app_id, jti, expires as i64 + 300, meta.now);
    if replayed && state.identity.rejects_replayed_assertions() {
        return Err(malformed("The assertion's 'jti' was already used."));
    }
    Ok(())
}
