//! The sandbox's token-signing key: an RSA key generated at start, published as a JWKS, used to sign access
//! and ID tokens (RS256) and to verify access tokens presented to Graph.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};

use crate::Error;

/// The signing key pair and its published form.
pub struct SigningKeys {
    /// Key id (`kid` and `x5t` of every token).
    pub kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The JWKS document (`{"keys":[…]}`).
    pub jwks: Value,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SigningKeys").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Generates a fresh RSA-2048 key and a self-signed certificate for it.
    pub fn generate() -> Result<SigningKeys, Error> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|error| Error::Crypto(format!("generating the token-signing key: {error}")))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|error| Error::Crypto(format!("token-signing certificate parameters: {error}")))?;
        params.distinguished_name.push(rcgen::DnType::CommonName, "accounts.accesscontrol.windows.net");
        let certificate = params
            .self_signed(&key_pair)
            .map_err(|error| Error::Crypto(format!("self-signing the token-signing certificate: {error}")))?;
        let certificate_der = certificate.der().to_vec();
        let thumbprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &certificate_der);
        let kid = URL_SAFE_NO_PAD.encode(thumbprint.as_ref());
        let (modulus, exponent) = rsa_components(&rcgen::PublicKeyData::subject_public_key_info(&key_pair))?;
        let encoding = EncodingKey::from_rsa_pem(key_pair.serialize_pem().as_bytes())
            .map_err(|error| Error::Crypto(format!("loading the token-signing key: {error}")))?;
        let decoding = DecodingKey::from_rsa_raw_components(&modulus, &exponent);
        let jwks = json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "x5t": kid,
            "n": URL_SAFE_NO_PAD.encode(&modulus),
            "e": URL_SAFE_NO_PAD.encode(&exponent),
            "x5c": [STANDARD.encode(&certificate_der)],
            "cloud_instance_name": "microsoftonline.com",
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        }]});
        Ok(SigningKeys { kid, encoding, decoding, jwks })
    }

    /// The key that signs tokens.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The key that verifies tokens.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// Splits an RSA `SubjectPublicKeyInfo` (DER) into big-endian modulus and exponent, without leading zeros.
pub fn rsa_components(spki_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    use x509_parser::prelude::FromDer;
    use x509_parser::public_key::PublicKey;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|error| Error::Crypto(format!("parsing a public key: {error}")))?;
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let strip = |bytes: &[u8]| bytes.iter().skip_while(|byte| **byte == 0).copied().collect::<Vec<u8>>();
            Ok((strip(rsa.modulus), strip(rsa.exponent)))
        }
        Ok(_) => Err(Error::Crypto("the public key is not an RSA key".into())),
        Err(error) => Err(Error::Crypto(format!("parsing a public key: {error}"))),
    }
}
