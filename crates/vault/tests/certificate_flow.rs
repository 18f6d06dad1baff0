//! The client-credentials grant with a certificate: a PS256 assertion with `x5t#S256` accepted by the sandbox
//! once the certificate is registered on the app, refused (AADSTS700027) when it is not, and configuration
//! problems (expired certificate, key that does not match, unreadable PEM) reported before any request.

mod common;

use common::*;
use model::{AccessTokenProvider, NationalCloud, Secret};
use vault::{ClientCredential, ClientCredentialsProvider, Error};

#[tokio::test]
async fn a_registered_certificate_gets_a_token() {
    let sandbox = start_with(counting_knobs(1)).await;
    let certificate = TestCertificate::valid();
    let registered = register_certificate(&sandbox, CONTOSO_APP, &certificate).await;
    let config = config(&sandbox, NationalCloud::Global, CONTOSO, CONTOSO_APP, certificate.credential());
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let thumbprint = registered["thumbprint_sha256"].as_str().expect("thumbprint");
    assert!(format!("{provider:?}").contains(thumbprint), "{provider:?}");

    let token = provider.access_token().await.expect("token");
    let payload = jwt_payload(token.token.expose());
    assert_eq!(payload["appidacr"], "2", "certificate authentication");
    assert_eq!(payload["tid"], CONTOSO);
    assert!(roles(token.token.expose()).iter().any(|role| role == "User.ReadWrite.All"));

    provider.access_token().await.expect("cached");
    assert_eq!(login_requests(&sandbox), 1);
}

#[tokio::test]
async fn an_unregistered_certificate_is_refused() {
    let sandbox = start().await;
    let certificate = TestCertificate::valid();
    let config = config(&sandbox, NationalCloud::Global, CONTOSO, CONTOSO_APP, certificate.credential());
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let error = provider.access_token().await.expect_err("refused");
    assert!(!error.transient, "{error}");
    assert!(error.message.contains("AADSTS700027"), "{error}");
    assert!(error.message.contains("The key was not found."), "{error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}

#[tokio::test]
async fn an_expired_certificate_is_rejected_before_any_request() {
    let certificate = TestCertificate::new((2020, 1, 1), (2021, 1, 1));
    let config =
        vault::ClientCredentialsConfig::new(NationalCloud::Global, CONTOSO, CONTOSO_APP, certificate.credential());
    let error = ClientCredentialsProvider::new(config).expect_err("expired");
    let Error::CertificateExpired { client_id, not_after, .. } = &error else { panic!("{error:?}") };
    assert_eq!(client_id, CONTOSO_APP);
    assert_eq!(not_after.date_naive(), chrono::NaiveDate::from_ymd_opt(2021, 1, 1).expect("date"));
    assert!(error.to_string().contains("expired on 2021-01-01"), "{error}");
}

#[tokio::test]
async fn a_certificate_that_is_not_yet_valid_is_rejected() {
    let certificate = TestCertificate::new((2098, 1, 1), (2099, 1, 1));
    let config =
        vault::ClientCredentialsConfig::new(NationalCloud::Global, CONTOSO, CONTOSO_APP, certificate.credential());
    let error = ClientCredentialsProvider::new(config).expect_err("not yet valid");
    assert!(matches!(error, Error::CertificateNotYetValid { .. }), "{error:?}");
}

#[tokio::test]
async fn a_key_of_another_certificate_is_rejected() {
    let certificate = TestCertificate::valid();
    let other = TestCertificate::valid();
    let credential = ClientCredential::Certificate {
        certificate_pem: certificate.certificate_pem.clone(),
        private_key_pem: Secret::new(other.private_key_pem.clone()),
    };
    let config = vault::ClientCredentialsConfig::new(NationalCloud::Global, CONTOSO, CONTOSO_APP, credential);
    let error = ClientCredentialsProvider::new(config).expect_err("mismatch");
    assert!(matches!(error, Error::KeyMismatch { .. }), "{error:?}");
}

#[tokio::test]
async fn unreadable_certificates_and_keys_are_configuration_errors() {
    let certificate = TestCertificate::valid();
    let build = |certificate_pem: &str, private_key_pem: &str| {
        let credential = ClientCredential::Certificate {
            certificate_pem: certificate_pem.to_string(),
            private_key_pem: Secret::new(private_key_pem),
        };
        ClientCredentialsProvider::new(vault::ClientCredentialsConfig::new(
            NationalCloud::Global,
            CONTOSO,
            CONTOSO_APP,
            credential,
        ))
        .expect_err("refused")
    };
    let error = build("not a pem", &certificate.private_key_pem);
    assert!(matches!(error, Error::InvalidCertificate { .. }), "{error:?}");
    let error = build(&certificate.private_key_pem, &certificate.private_key_pem);
    assert!(matches!(error, Error::InvalidCertificate { .. }), "{error:?}");
    let error = build(&certificate.certificate_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assert!(matches!(error, Error::InvalidPrivateKey { .. }), "{error:?}");
    assert!(!error.to_string().contains("AAAA"), "{error}");
    let error = build(&certificate.certificate_pem, &certificate.certificate_pem);
    assert!(matches!(error, Error::InvalidPrivateKey { .. }), "{error:?}");

    let ec_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("EC key");
    let ec_certificate = rcgen::CertificateParams::new(vec!["ec".to_string()])
        .expect("params")
        .self_signed(&ec_key)
        .expect("certificate");
    let error = build(&ec_certificate.pem(), &ec_key.serialize_pem());
    assert!(matches!(error, Error::InvalidCertificate { .. }), "{error:?}");
    assert!(error.to_string().contains("not RSA"), "{error}");
    let error = build(&certificate.certificate_pem, &ec_key.serialize_pem());
    assert!(matches!(error, Error::InvalidPrivateKey { .. }), "{error:?}");
}

#[tokio::test]
async fn a_pkcs1_key_works_too() {
    let sandbox = start().await;
    let certificate = TestCertificate::valid();
    register_certificate(&sandbox, CONTOSO_APP, &certificate).await;
    // Re-wrap the PKCS#8 key as PKCS#1 ("RSA PRIVATE KEY"), the form `openssl genrsa -traditional` writes.
    let pkcs8 = rcgen::KeyPair::from_pem(&certificate.private_key_pem).expect("key").serialize_der();
    let pkcs1 = pkcs1_from_pkcs8(&pkcs8);
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(pkcs1);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).expect("ascii")).collect();
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n", lines.join("\n"));
    let credential = ClientCredential::Certificate {
        certificate_pem: certificate.certificate_pem.clone(),
        private_key_pem: Secret::new(pem),
    };
    let provider =
        ClientCredentialsProvider::new(config(&sandbox, NationalCloud::Global, CONTOSO, CONTOSO_APP, credential))
            .expect("config is fine");
    provider.access_token().await.expect("token");
}

/// The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo: SEQUENCE { INTEGER 0, SEQUENCE { OID, NULL }, OCTET STRING }.
fn pkcs1_from_pkcs8(der: &[u8]) -> Vec<u8> {
    fn header(bytes: &[u8]) -> (usize, usize) {
        // (header length, content length) of the DER element at the start of `bytes`.
        let first = bytes[1];
        if first < 0x80 {
            return (2, usize::from(first));
        }
        let count = usize::from(first & 0x7f);
        let length = bytes[2..2 + count].iter().fold(0, |total, byte| total * 256 + usize::from(*byte));
        (2 + count, length)
    }
    let (outer, _) = header(der);
    let mut rest = &der[outer..];
    for _ in 0..2 {
        let (head, length) = header(rest);
        rest = &rest[head + length..];
    }
    assert_eq!(rest[0], 0x04, "OCTET STRING");
    let (head, length) = header(rest);
    rest[head..head + length].to_vec()
}
