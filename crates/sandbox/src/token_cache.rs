//! A small cache of verified access tokens, so the RSA signature of a token is checked once rather than on
//! every Graph request. Entries are keyed by the SHA-256 of the token and dropped when the cache grows past
//! its bound (tokens are re-verified then).

use std::collections::HashMap;

use parking_lot::RwLock;

use crate::tokens::AccessClaims;

const MAX_ENTRIES: usize = 10_000;

/// Verified tokens by digest.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<[u8; 32], AccessClaims>>,
}

fn digest(token: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut key = [0_u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

impl TokenCache {
    /// The claims of a token verified before.
    pub fn get(&self, token: &str) -> Option<AccessClaims> {
        self.entries.read().get(&digest(token)).cloned()
    }

    /// Remembers a verified token.
    pub fn insert(&self, token: &str, claims: AccessClaims) {
        let mut entries = self.entries.write();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(digest(token), claims);
    }
}
