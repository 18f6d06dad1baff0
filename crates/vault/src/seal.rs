//! Sealing secrets for storage: AES-256-GCM under the current master key, with the secret's place as associated
//! data.
//!
//! [`MasterKeyRing::seal`] picks a random 96-bit nonce and returns a [`SealedSecret`]: the key id and
//! `base64(nonce ‖ ciphertext ‖ tag)`. The context — where the secret belongs, e.g. `connection:7:refresh_token`
//! or `oauth_state:<hash>` — is authenticated but not stored, so a ciphertext copied to another row (another
//! connection, another purpose) does not open. [`MasterKeyRing::open`] finds the key by id; an unknown id, an
//! altered ciphertext or a wrong context is an error that names the context and key id, never the plaintext.

use aes_gcm::aead::{Aead as _, AeadCore as _, KeyInit as _, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use model::Secret;
use zeroize::Zeroize as _;

use crate::error::{Error, Result};
use crate::master_key::{MasterKey, MasterKeyRing};

/// The nonce length of AES-GCM as used here (96 bits).
const NONCE_BYTES: usize = 12;
/// The authentication tag's length.
const TAG_BYTES: usize = 16;

/// A secret as stored: which master key sealed it and the sealed bytes. Neither part is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The id of the master key that sealed it ([`MasterKeyRing::key_ids`]).
    pub key_id: String,
    /// `base64(nonce ‖ ciphertext ‖ tag)`, standard alphabet with padding.
    pub ciphertext: String,
}

fn cipher(key: &MasterKey) -> Aes256Gcm {
    Aes256Gcm::new_from_slice(key.bytes.as_slice()).expect("a master key is 32 bytes, an AES-256 key")
}

impl MasterKeyRing {
    /// Seals `plaintext` under the current key, bound to `context` (where the secret will be stored).
    #[must_use]
    pub fn seal(&self, plaintext: &Secret, context: &str) -> SealedSecret {
        let key = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: plaintext.expose().as_bytes(), aad: context.as_bytes() };
        // Encryption fails only for plaintexts longer than 64 GiB.
        let sealed = cipher(key).encrypt(&nonce, payload).expect("AES-GCM seals any secret shorter than 64 GiB");
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        SealedSecret { key_id: key.id.clone(), ciphertext: STANDARD.encode(bytes) }
    }

    /// Opens a sealed secret stored at `context`.
    ///
    /// # Errors
    /// [`Error::UnknownMasterKey`] when no key of the ring has the secret's key id (the key file lacks an older
    /// key); [`Error::UnopenableSecret`] when the ciphertext is malformed or altered, or was sealed for another
    /// context.
    pub fn open(&self, sealed: &SealedSecret, context: &str) -> Result<Secret> {
        let unopenable = |reason: &'static str| Error::UnopenableSecret {
            context: context.to_owned(),
            key_id: sealed.key_id.clone(),
            reason,
        };
        let key = self.keys.iter().find(|key| key.id == sealed.key_id).ok_or_else(|| Error::UnknownMasterKey {
            key_id: sealed.key_id.clone(),
            known: self.key_ids().join(", "),
            context: context.to_owned(),
        })?;
        let bytes = STANDARD.decode(&sealed.ciphertext).map_err(|_| unopenable("the ciphertext is not base64"))?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(unopenable("the ciphertext is too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().expect("split at the nonce length");
        let payload = Payload { msg: ciphertext, aad: context.as_bytes() };
        let plaintext = cipher(key)
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| unopenable("authentication failed (wrong context, altered ciphertext or wrong key)"))?;
        String::from_utf8(plaintext).map(Secret::new).map_err(|error| {
            error.into_bytes().zeroize();
            unopenable("the opened secret is not text")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_layout_is_nonce_ciphertext_tag_and_nonces_differ() {
        let (ring, _) = MasterKeyRing::generate();
        let secret = Secret::new("refresh-token-value");
        let first = ring.seal(&secret, "connection:1:refresh_token");
        let second = ring.seal(&secret, "connection:1:refresh_token");
        assert_eq!(first.key_id, ring.current_key_id());
        let bytes = STANDARD.decode(&first.ciphertext).unwrap();
        assert_eq!(bytes.len(), NONCE_BYTES + "refresh-token-value".len() + TAG_BYTES);
        assert_ne!(first.ciphertext, second.ciphertext, "a fresh nonce per seal");
        assert!(!first.ciphertext.contains("refresh"));
    }

    #[test]
    fn truncated_and_non_base64_ciphertexts_are_errors() {
        let (ring, _) = MasterKeyRing::generate();
        let short = SealedSecret { key_id: ring.current_key_id().to_owned(), ciphertext: STANDARD.encode([0_u8; 20]) };
        assert!(ring.open(&short, "c").unwrap_err().to_string().contains("too short"));
        let garbage = SealedSecret { key_id: ring.current_key_id().to_owned(), ciphertext: "***".to_owned() };
        assert!(ring.open(&garbage, "c").unwrap_err().to_string().contains("not base64"));
    }
}
