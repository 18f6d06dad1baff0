//! Certificates Tenure makes for a customer-owned app registration: an RSA 2048 key pair (Entra accepts RSA
//! keys for client assertions) and a self-signed X.509 certificate whose public part the admin downloads and
//! uploads to the app registration, while the private key stays sealed in the vault.
//!
//! The thumbprints are those the Entra portal and the Graph `keyCredentials` show: SHA-1 (upper-case hex, the
//! portal's "Thumbprint" column and the base of `customKeyIdentifier`) and SHA-256 (base64url, the `x5t#S256`
//! of client assertions). The result is used as is by [`crate::ClientCredential::Certificate`]. Generated with
//! rcgen on aws-lc-rs (the only rcgen backend that generates RSA keys).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use model::Secret;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize, SerialNumber};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How long before `now` a new certificate becomes valid, so a token endpoint whose clock runs a little behind
/// accepts it at once.
const BACKDATE: Duration = Duration::minutes(10);

/// A new certificate and its private key.
#[derive(Clone)]
pub struct GeneratedCertificate {
    /// The certificate (public part), PEM: what the admin uploads to the app registration.
    pub certificate_pem: String,
    /// The PKCS#8 RSA private key, PEM.
    pub private_key_pem: Secret,
    /// SHA-1 of the DER, upper-case hex (the Entra portal's "Thumbprint").
    pub sha1_thumbprint: String,
    /// SHA-256 of the DER, base64url without padding (`x5t#S256`).
    pub sha256_thumbprint: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
}

impl std::fmt::Debug for GeneratedCertificate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GeneratedCertificate")
            .field("sha1_thumbprint", &self.sha1_thumbprint)
            .field("sha256_thumbprint", &self.sha256_thumbprint)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("private_key_pem", &self.private_key_pem)
            .finish_non_exhaustive()
    }
}

/// A new RSA 2048 key and a self-signed certificate for it, subject `CN={common_name}`, valid from ten minutes
/// before `now` (whole seconds) until `valid_days` days after `now`.
///
/// # Errors
///
/// [`Error::CertificateGeneration`] for an empty common name, zero days, or a failure of key generation or
/// signing.
pub fn generate_certificate(common_name: &str, now: DateTime<Utc>, valid_days: u32) -> Result<GeneratedCertificate> {
    let failed = |reason: String| Error::CertificateGeneration { common_name: common_name.to_string(), reason };
    if common_name.trim().is_empty() {
        return Err(failed("the common name is empty".into()));
    }
    if valid_days == 0 {
        return Err(failed("the validity must be at least one day".into()));
    }
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let not_before = now - BACKDATE;
    let not_after = now + Duration::days(i64::from(valid_days));
    let time = |at: DateTime<Utc>| {
        time::OffsetDateTime::from_unix_timestamp(at.timestamp()).map_err(|error| failed(error.to_string()))
    };
    let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
        .map_err(|error| failed(format!("the RSA key could not be generated ({error})")))?;
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, common_name);
    params.distinguished_name = subject;
    params.not_before = time(not_before)?;
    params.not_after = time(not_after)?;
    let mut serial = *uuid::Uuid::new_v4().as_bytes();
    serial[0] &= 0x7f; // a positive INTEGER
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let certificate =
        params.self_signed(&key).map_err(|error| failed(format!("the certificate could not be signed ({error})")))?;
    let der = certificate.der().as_ref();
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    Ok(GeneratedCertificate {
        certificate_pem: certificate.pem(),
        private_key_pem: Secret::new(key.serialize_pem()),
        sha1_thumbprint: sha1.as_ref().iter().map(|byte| format!("{byte:02X}")).collect(),
        sha256_thumbprint: URL_SAFE_NO_PAD.encode(Sha256::digest(der)),
        not_before,
        not_after,
    })
}

#[cfg(test)]
mod tests {
    use x509_parser::pem::Pem;
    use x509_parser::public_key::PublicKey;

    use super::*;

    #[test]
    fn a_certificate_is_rsa_2048_with_the_asked_validity_and_thumbprints() {
        let now = DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01");
        let generated = generate_certificate("Tenure connection contoso", now, 365).expect("generates");
        assert_eq!(generated.not_before, now - Duration::minutes(10));
        assert_eq!(generated.not_after, now + Duration::days(365));
        let (_, pem) = x509_parser::pem::parse_x509_pem(generated.certificate_pem.as_bytes()).expect("PEM");
        let certificate = pem.parse_x509().expect("X.509");
        assert_eq!(certificate.validity().not_before.timestamp(), generated.not_before.timestamp());
        assert_eq!(certificate.validity().not_after.timestamp(), generated.not_after.timestamp());
        assert!(certificate.subject().to_string().contains("CN=Tenure connection contoso"));
        let Ok(PublicKey::RSA(rsa)) = certificate.public_key().parsed() else { panic!("an RSA key") };
        assert_eq!(rsa.key_size(), 2048);
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &pem.contents);
        let hex: String = sha1.as_ref().iter().map(|byte| format!("{byte:02X}")).collect();
        assert_eq!(generated.sha1_thumbprint, hex);
        assert_eq!(generated.sha1_thumbprint.len(), 40);
        assert_eq!(generated.sha256_thumbprint, URL_SAFE_NO_PAD.encode(Sha256::digest(&pem.contents)));
        let key_blocks: Vec<Pem> = Pem::iter_from_buffer(generated.private_key_pem.expose().as_bytes())
            .collect::<std::result::Result<_, _>>()
            .expect("key PEM");
        assert_eq!(key_blocks[0].label, "PRIVATE KEY");
        assert!(!format!("{generated:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn two_certificates_differ() {
        let now = Utc::now();
        let first = generate_certificate("a", now, 1).expect("first");
        let second = generate_certificate("a", now, 1).expect("second");
        assert_ne!(first.sha1_thumbprint, second.sha1_thumbprint);
        assert_ne!(first.private_key_pem, second.private_key_pem);
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(matches!(generate_certificate(" ", Utc::now(), 30), Err(Error::CertificateGeneration { .. })));
        assert!(matches!(generate_certificate("a", Utc::now(), 0), Err(Error::CertificateGeneration { .. })));
    }
}
