//! The link's one-time values: the PKCE pair (RFC 7636, method `S256`) and the `state` that ties the callback to
//! the admin session that started it.
//!
//! Both come from the operating system's random source: 32 bytes taken from two version-4 UUIDs (244 random
//! bits; `uuid` reads `getrandom` and never falls back to a weaker source), written base64url without padding (43
//! characters, inside PKCE's 43–128). The store keeps only
//! [`state_hash`] of a state, so a database reader cannot complete someone else's link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use model::Secret;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// A PKCE verifier (kept secret until the code is redeemed) and its S256 challenge (sent on `/authorize`).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// `code_verifier`: 43 base64url characters.
    pub verifier: Secret,
    /// `code_challenge`: base64url(SHA-256(verifier)).
    pub challenge: String,
}

impl Pkce {
    /// A new random verifier and its challenge.
    #[must_use]
    pub fn generate() -> Self {
        let verifier = random_token();
        let challenge = Self::challenge_of(verifier.expose());
        Self { verifier, challenge }
    }

    /// The S256 challenge of `verifier`.
    #[must_use]
    pub fn challenge_of(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

/// A new `state`: 244 random bits, base64url (URL-safe, 43 characters).
#[must_use]
pub fn new_state() -> Secret {
    random_token()
}

/// What the store keeps of a state: lower-case hex SHA-256 of its text.
#[must_use]
pub fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// 32 bytes from two random UUIDs, base64url without padding.
fn random_token() -> Secret {
    let mut bytes = [0_u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let token = Secret::new(URL_SAFE_NO_PAD.encode(bytes));
    bytes.zeroize();
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_s256_of_the_verifier() {
        // RFC 7636 appendix B.
        assert_eq!(
            Pkce::challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate();
        assert_eq!(pkce.verifier.expose().len(), 43);
        assert_eq!(pkce.challenge, Pkce::challenge_of(pkce.verifier.expose()));
        assert_ne!(Pkce::generate().verifier, pkce.verifier);
    }

    #[test]
    fn states_are_url_safe_unique_and_hashed() {
        let first = new_state();
        let second = new_state();
        assert_ne!(first, second);
        assert!(first.expose().chars().all(|character| character.is_ascii_alphanumeric() || "-_".contains(character)));
        assert_eq!(first.expose().len(), 43);
        let hash = state_hash(first.expose());
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, state_hash(second.expose()));
        assert_eq!(state_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
