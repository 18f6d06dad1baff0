//! Adding credentials to an app registration at run time: certificates (`POST
//! /_sandbox/apps/{app_id}/certificates`) and client secrets (`POST /_sandbox/apps/{app_id}/secrets`), as an
//! admin would in the Entra portal or with Graph's `addKey`/`addPassword`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Duration;
use http::StatusCode;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{AdminError, parse_body};
use crate::directory::app::{App, ClientSecret, secret_hash};
use crate::state::AppState;

/// Apps are read, changed and written back whole; this keeps two concurrent admin calls on one app from
/// losing each other's credential.
static APP_WRITES: Mutex<()> = Mutex::new(());

/// Secrets may be given a lifetime of up to a hundred years, or a negative one for an already expired secret
/// (to rehearse `AADSTS7000222`).
const MAX_SECRET_DAYS: i64 = 36_500;

/// The alphabet of generated secret values (Entra's secrets use letters, digits and `_.~-`).
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-";

fn find_app(state: &AppState, app_id: &str) -> Result<App, AdminError> {
    Uuid::parse_str(app_id).ok().and_then(|id| state.directory.app(id)).ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_FOUND,
            "unknown_app",
            format!("no app registration has the client id {app_id:?}"),
        )
    })
}

/// Changes an app under [`APP_WRITES`]; answers 404 if it disappeared meanwhile.
fn update_app<T>(
    state: &AppState,
    app_id: &str,
    edit: impl FnOnce(&mut App) -> Result<T, AdminError>,
) -> Result<T, AdminError> {
    let _guard = APP_WRITES.lock();
    let mut app = find_app(state, app_id)?;
    let result = edit(&mut app)?;
    state.directory.insert_app(app);
    Ok(result)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// `POST /_sandbox/apps/{app_id}/certificates` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddCertificate {
    pem: String,
}

/// Adds a certificate (public part, PEM) to an app: 201 with its key id and SHA-1 and SHA-256 thumbprints
/// (upper-case hex, as the Entra portal shows them); 404 for an unknown app, 400 for a PEM that is not a
/// certificate, 409 when the app already has the certificate.
pub(super) async fn add_certificate(
    State(state): State<Arc<AppState>>,
    Path(app_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match add_certificate_to_app(&state, &app_id, body) {
        Ok(answer) => (StatusCode::CREATED, axum::Json(answer)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn add_certificate_to_app(
    state: &AppState,
    app_id: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Value, AdminError> {
    find_app(state, app_id)?;
    let request: AddCertificate = parse_body(body)?;
    let certificate = crate::seed::certificate_from_pem(&request.pem).map_err(|error| {
        AdminError::bad_request("invalid_certificate", format!("the certificate could not be read: {error}"))
    })?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(&certificate.der_base64)
        .map_err(|error| AdminError::bad_request("invalid_certificate", format!("the certificate: {error}")))?;
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let key_id = certificate.key_id;
    update_app(state, app_id, |app| {
        if app.certificates.iter().any(|existing| existing.der_base64 == certificate.der_base64) {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                "duplicate_certificate",
                "the app registration already has this certificate",
            ));
        }
        app.certificates.push(certificate);
        Ok(())
    })?;
    Ok(json!({
        "key_id": key_id,
        "thumbprint_sha1": hex_upper(sha1.as_ref()),
        "thumbprint_sha256": hex_upper(sha256.as_ref()),
    }))
}

/// `POST /_sandbox/apps/{app_id}/secrets` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddSecret {
    /// The secret; generated (and returned once) when absent.
    value: Option<String>,
    /// Lifetime in days from the sandbox clock's now (default 730, as Entra's longest portal choice).
    expires_in_days: Option<i64>,
}

/// A new secret value shaped like Entra's: three characters, a digit, `Q~`, then 34 random characters.
fn generate_secret() -> Result<String, AdminError> {
    let mut random = [0_u8; 38];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| {
        AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the random source failed")
    })?;
    let letters = &SECRET_ALPHABET[..52];
    let mut value = String::with_capacity(40);
    for byte in &random[..3] {
        value.push(char::from(letters[usize::from(*byte) % letters.len()]));
    }
    value.push(char::from(b'0' + random[3] % 10));
    value.push_str("Q~");
    for byte in &random[4..] {
        value.push(char::from(SECRET_ALPHABET[usize::from(*byte) % SECRET_ALPHABET.len()]));
    }
    Ok(value)
}

/// Adds a client secret to an app: 201 with its key id and hint (first three characters), plus the value
/// itself when the sandbox generated it; 404 for an unknown app, 400 for an empty value or a lifetime out of
/// range. Only the secret's SHA-256 is kept.
pub(super) async fn add_secret(
    State(state): State<Arc<AppState>>,
    Path(app_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match add_secret_to_app(&state, &app_id, body) {
        Ok(answer) => (StatusCode::CREATED, axum::Json(answer)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn add_secret_to_app(
    state: &AppState,
    app_id: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Value, AdminError> {
    find_app(state, app_id)?;
    let request: AddSecret = parse_body(body)?;
    let days = request.expires_in_days.unwrap_or(730);
    if !(-MAX_SECRET_DAYS..=MAX_SECRET_DAYS).contains(&days) {
        return Err(AdminError::bad_request(
            "invalid_request",
            format!("expires_in_days must be between -{MAX_SECRET_DAYS} and {MAX_SECRET_DAYS}"),
        ));
    }
    let generated = request.value.is_none();
    let value = match request.value {
        Some(value) if value.trim().is_empty() => {
            return Err(AdminError::bad_request("invalid_request", "the secret value is empty"));
        }
        Some(value) => value,
        None => generate_secret()?,
    };
    let secret = ClientSecret {
        key_id: Uuid::new_v4(),
        hint: value.chars().take(3).collect(),
        sha256_hex: secret_hash(&value),
        expires: state.clock.now() + Duration::days(days),
    };
    let mut answer = json!({"key_id": secret.key_id, "hint": secret.hint});
    update_app(state, app_id, |app| {
        app.secrets.push(secret);
        Ok(())
    })?;
    if generated {
        answer["value"] = json!(value);
    }
    Ok(answer)
}
