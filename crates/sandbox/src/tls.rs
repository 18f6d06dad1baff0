//! The sandbox's TLS material: a CA generated at start (its PEM is exported so clients can trust it) and a
//! server certificate it signs for loopback and for every national-cloud host name the sandbox answers for.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};

use crate::Error;
use crate::cloud::CLOUDS;

/// The CA's certificate (PEM) and a ready rustls server configuration.
pub struct TlsMaterial {
    /// The CA certificate that clients must trust, PEM.
    pub ca_pem: String,
    /// The server configuration (HTTP/2 and HTTP/1.1 by ALPN).
    pub server_config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TlsMaterial").finish_non_exhaustive()
    }
}

fn crypto(context: &str) -> impl FnOnce(rcgen::Error) -> Error + '_ {
    move |error| Error::Crypto(format!("{context}: {error}"))
}

impl TlsMaterial {
    /// Generates a CA and a server certificate for `localhost`, `127.0.0.1`, `::1` and every cloud host.
    pub fn generate() -> Result<TlsMaterial, Error> {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(crypto("generating the CA key"))?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(crypto("CA parameters"))?;
        ca_params.distinguished_name.push(DnType::CommonName, "Tenure sandbox CA");
        ca_params.distinguished_name.push(DnType::OrganizationName, "Tenure sandbox");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(crypto("self-signing the CA"))?;
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let mut names: Vec<String> = vec!["localhost".into()];
        for row in &CLOUDS {
            names.extend(row.login.iter().map(|host| (*host).to_string()));
            names.push(row.graph.to_string());
            names.extend(row.exchange.iter().map(|host| (*host).to_string()));
        }
        names.sort();
        names.dedup();
        let server_key =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(crypto("generating the server key"))?;
        let mut server_params = CertificateParams::new(names).map_err(crypto("server certificate parameters"))?;
        server_params.subject_alt_names.push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        server_params.subject_alt_names.push(SanType::IpAddress(std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)));
        server_params.distinguished_name.push(DnType::CommonName, "Tenure sandbox");
        let server_cert =
            server_params.signed_by(&server_key, &issuer).map_err(crypto("signing the server certificate"))?;

        let chain = vec![server_cert.der().clone(), ca_cert.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der())
            .map_err(|error| Error::Crypto(format!("server key: {error}")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Crypto(format!("TLS versions: {error}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| Error::Crypto(format!("TLS server configuration: {error}")))?;
        server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsMaterial { ca_pem: ca_cert.pem(), server_config: Arc::new(server_config) })
    }
}
