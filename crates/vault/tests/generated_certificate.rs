//! A certificate Tenure generates for a customer-owned app registration, registered on a sandbox app the way an
//! admin uploads it: the sandbox computes the same thumbprints, and the existing certificate client credential
//! gets an app-only token with it (in the Global and GCC High clouds).

mod common;

use chrono::Utc;
use common::*;
use model::{AccessTokenProvider, NationalCloud};
use vault::{ClientCredential, ClientCredentialsProvider, generate_certificate};

fn hex_of_base64url(text: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).expect("base64url");
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

#[tokio::test]
async fn a_generated_certificate_registered_on_an_app_gets_tokens() {
    let sandbox = start().await;
    for (cloud, tenant, app) in
        [(NationalCloud::Global, CONTOSO, CONTOSO_APP), (NationalCloud::UsGovHigh, FABRIKAM, FABRIKAM_APP)]
    {
        let generated = generate_certificate("Tenure connection", Utc::now(), 365).expect("generated");
        let certificate = TestCertificate {
            certificate_pem: generated.certificate_pem.clone(),
            private_key_pem: generated.private_key_pem.expose().to_string(),
        };
        let registered = register_certificate(&sandbox, app, &certificate).await;
        assert_eq!(registered["thumbprint_sha1"], generated.sha1_thumbprint.as_str(), "{cloud}");
        assert_eq!(registered["thumbprint_sha256"], hex_of_base64url(&generated.sha256_thumbprint), "{cloud}");

        let credential = ClientCredential::Certificate {
            certificate_pem: generated.certificate_pem.clone(),
            private_key_pem: generated.private_key_pem.clone(),
        };
        let provider = ClientCredentialsProvider::new(config(&sandbox, cloud, tenant, app, credential))
            .expect("the generated certificate and key are usable");
        let token = provider.access_token().await.expect("a token");
        let claims = jwt_payload(token.token.expose());
        assert_eq!(claims["appidacr"], "2", "{cloud}: certificate-authenticated");
        assert_eq!(claims["tid"], tenant);
        assert!(roles(token.token.expose()).iter().any(|role| role == "User.ReadWrite.All"), "{cloud}");
    }
}

#[tokio::test]
async fn an_unregistered_generated_certificate_is_refused() {
    let sandbox = start().await;
    let generated = generate_certificate("never uploaded", Utc::now(), 30).expect("generated");
    let credential = ClientCredential::Certificate {
        certificate_pem: generated.certificate_pem,
        private_key_pem: generated.private_key_pem,
    };
    let provider =
        ClientCredentialsProvider::new(config(&sandbox, NationalCloud::Global, CONTOSO, CONTOSO_APP, credential))
            .expect("locally fine");
    let error = provider.access_token().await.expect_err("the app does not know the certificate");
    assert!(!error.transient && !error.needs_relink, "{error:?}");
    assert!(error.message.contains("AADSTS700027"), "{error}");
}
