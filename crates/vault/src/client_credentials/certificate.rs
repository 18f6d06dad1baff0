//! Certificate credentials: reading the certificate and its RSA private key from PEM, checking that they belong
//! together and that the certificate is within its validity, and signing client assertions.
//!
//! The assertion follows Microsoft's current recommendation (reference §1.3 "Certificate client assertion",
//! <https://learn.microsoft.com/entra/identity-platform/certificate-credentials>): header `alg` `PS256`, `typ`
//! `JWT`, `x5t#S256` = base64url SHA-256 of the certificate's DER; claims `aud` = the token endpoint, `iss` =
//! `sub` = the client id, a fresh GUID `jti`, `nbf` = `iat` = now and `exp` ten minutes later.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use model::Secret;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// How long a client assertion is valid.
const ASSERTION_LIFETIME: Duration = Duration::minutes(10);

/// A certificate and its private key, ready to sign client assertions.
pub(crate) struct SigningCertificate {
    key: EncodingKey,
    /// `x5t#S256`: base64url SHA-256 of the DER.
    x5t_s256: String,
    /// Upper-case hex SHA-256, as the Entra portal shows it.
    thumbprint: String,
    subject: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

impl std::fmt::Debug for SigningCertificate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningCertificate")
            .field("subject", &self.subject)
            .field("thumbprint_sha256", &self.thumbprint)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl SigningCertificate {
    /// Reads the first certificate in `certificate_pem` and the RSA private key in `private_key_pem`, and checks
    /// that the key signs what the certificate's public key verifies.
    pub(crate) fn load(client_id: &str, certificate_pem: &str, private_key_pem: &Secret) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidCertificate { client_id: client_id.to_string(), reason };
        let mut der = None;
        for block in Pem::iter_from_buffer(certificate_pem.as_bytes()) {
            let block = block.map_err(|error| invalid(format!("the PEM is malformed ({error})")))?;
            if block.label == "CERTIFICATE" {
                der = Some(block.contents);
                break;
            }
        }
        let der = der.ok_or_else(|| invalid("no \"BEGIN CERTIFICATE\" block found".into()))?;
        let (_, certificate) = x509_parser::parse_x509_certificate(&der)
            .map_err(|error| invalid(format!("not an X.509 certificate ({error})")))?;
        let Ok(PublicKey::RSA(rsa)) = certificate.public_key().parsed() else {
            return Err(invalid(
                "its public key is not RSA (Entra accepts RSA certificates for client assertions)".into(),
            ));
        };
        let modulus = strip_leading_zeros(rsa.modulus);
        let exponent = strip_leading_zeros(rsa.exponent);
        let time = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        let digest = Sha256::digest(&der);
        let signing = SigningCertificate {
            key: read_private_key(client_id, private_key_pem)?,
            x5t_s256: URL_SAFE_NO_PAD.encode(digest),
            thumbprint: digest.iter().map(|byte| format!("{byte:02X}")).collect(),
            subject: certificate.subject().to_string(),
            not_before: time(certificate.validity().not_before.timestamp()),
            not_after: time(certificate.validity().not_after.timestamp()),
        };
        signing.check_key_matches(client_id, &DecodingKey::from_rsa_raw_components(modulus, exponent))?;
        Ok(signing)
    }

    /// The certificate's SHA-256 thumbprint, upper-case hex.
    pub(crate) fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// An error when the certificate is not valid at `now`.
    pub(crate) fn check_validity(&self, client_id: &str, now: DateTime<Utc>) -> Result<()> {
        if self.not_after <= now {
            return Err(Error::CertificateExpired {
                client_id: client_id.to_string(),
                subject: self.subject.clone(),
                thumbprint: self.thumbprint.clone(),
                not_after: self.not_after,
            });
        }
        if self.not_before > now {
            return Err(Error::CertificateNotYetValid {
                client_id: client_id.to_string(),
                subject: self.subject.clone(),
                thumbprint: self.thumbprint.clone(),
                not_before: self.not_before,
            });
        }
        Ok(())
    }

    /// A signed client assertion for `client_id` addressed to the token endpoint `audience`.
    pub(crate) fn assertion(&self, client_id: &str, audience: &str, now: DateTime<Utc>) -> Result<Secret, String> {
        let claims = AssertionClaims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now.timestamp(),
            iat: now.timestamp(),
            exp: (now + ASSERTION_LIFETIME).timestamp(),
        };
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|error| format!("the client assertion could not be signed ({error})"))
    }

    /// Signs a probe assertion and verifies it with the certificate's public key.
    fn check_key_matches(&self, client_id: &str, public: &DecodingKey) -> Result<()> {
        let probe = self
            .assertion(client_id, "https://probe.invalid/", Utc::now())
            .map_err(|reason| Error::InvalidPrivateKey { client_id: client_id.to_string(), reason })?;
        let mut validation = Validation::new(Algorithm::PS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        match jsonwebtoken::decode::<serde_json::Value>(probe.expose(), public, &validation) {
            Ok(_) => Ok(()),
            Err(_) => Err(Error::KeyMismatch {
                client_id: client_id.to_string(),
                subject: self.subject.clone(),
                thumbprint: self.thumbprint.clone(),
            }),
        }
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|byte| *byte != 0).unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

/// The RSA private key from the first private-key block (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
fn read_private_key(client_id: &str, private_key_pem: &Secret) -> Result<EncodingKey> {
    let invalid = |reason: &str| Error::InvalidPrivateKey { client_id: client_id.to_string(), reason: reason.into() };
    for block in Pem::iter_from_buffer(private_key_pem.expose().as_bytes()) {
        let Ok(mut block) = block else {
            return Err(invalid("the PEM is malformed"));
        };
        let key = match block.label.as_str() {
            "RSA PRIVATE KEY" => Ok(EncodingKey::from_rsa_der(&block.contents)),
            "PRIVATE KEY" => {
                let mut text = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", {
                    STANDARD.encode(&block.contents)
                });
                let key = EncodingKey::from_rsa_pem(text.as_bytes())
                    .map_err(|_| invalid("the PKCS#8 key is not an RSA key (Entra accepts RSA keys only)"));
                text.zeroize();
                key
            }
            "ENCRYPTED PRIVATE KEY" => {
                Err(invalid("the key is encrypted; configure the unencrypted PEM (the vault protects it)"))
            }
            "EC PRIVATE KEY" => Err(invalid("the key is an EC key; Entra accepts RSA keys only")),
            _ => {
                block.contents.zeroize();
                continue;
            }
        };
        block.contents.zeroize();
        return key;
    }
    Err(invalid("no \"BEGIN PRIVATE KEY\" or \"BEGIN RSA PRIVATE KEY\" block found"))
}
