//! Delta state tokens (`$skiptoken` within a round, `$deltatoken` between rounds): the sync state as compact
//! JSON, authenticated with HMAC-SHA256 under a key generated when the process starts, and base64url-encoded
//! as one opaque string. A token that does not decode or whose tag does not match was tampered with.
//!
//! The query options of the first request (`$select`, `$filter=id eq …`) travel inside the token, as Graph
//! documents, together with the tenant and the time of issue (delta tokens of directory objects are valid
//! for seven days: <https://learn.microsoft.com/graph/delta-query-overview#token-duration>).

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const TAG_LEN: usize = 32;

fn key() -> &'static hmac::Key {
    static KEY: OnceLock<hmac::Key> = OnceLock::new();
    KEY.get_or_init(|| {
        hmac::Key::generate(hmac::HMAC_SHA256, &aws_lc_rs::rand::SystemRandom::new())
            .expect("the system random source produces a key")
    })
}

/// Where a delta sync stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// `u` for users, `g` for groups.
    #[serde(rename = "k")]
    pub kind: char,
    /// The tenant the sync belongs to.
    #[serde(rename = "t")]
    pub tenant: Uuid,
    /// Issue time, milliseconds of the sandbox clock.
    #[serde(rename = "i")]
    pub issued_ms: i64,
    /// `$select` of the first request (validated), `None` = the default set.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Vec<String>>,
    /// `$filter=id eq …` of the first request.
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<Uuid>>,
    /// Changes up to this sequence number have been delivered in earlier rounds (0 with `full`).
    #[serde(rename = "b")]
    pub base: u64,
    /// The round in progress enumerates every object (the first round).
    #[serde(rename = "a", default)]
    pub full: bool,
    /// The sequence number this round delivers up to (fixed when the round starts).
    #[serde(rename = "u")]
    pub upto: u64,
    /// Within a full round: the last object id delivered.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub after_id: Option<Uuid>,
    /// Within a changes round: the last sequence number delivered.
    #[serde(rename = "q", default)]
    pub after_seq: u64,
}

/// Seals a state into an opaque token.
pub fn encode(state: &SyncState) -> String {
    let payload = serde_json::to_vec(state).expect("a sync state serialises");
    let tag = hmac::sign(key(), &payload);
    let mut bytes = Vec::with_capacity(TAG_LEN + payload.len());
    bytes.extend_from_slice(tag.as_ref());
    bytes.extend_from_slice(&payload);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Opens a token; `None` when it is malformed or was not issued by this sandbox unchanged.
pub fn decode(token: &str) -> Option<SyncState> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim().trim_end_matches('=')).ok()?;
    if bytes.len() <= TAG_LEN {
        return None;
    }
    let (tag, payload) = bytes.split_at(TAG_LEN);
    hmac::verify(key(), payload, tag).ok()?;
    serde_json::from_slice(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SyncState {
        SyncState {
            kind: 'u',
            tenant: Uuid::nil(),
            issued_ms: 1_700_000_000_000,
            select: Some(vec!["displayName".into()]),
            ids: None,
            base: 0,
            full: true,
            upto: 42,
            after_id: Some(Uuid::nil()),
            after_seq: 0,
        }
    }

    #[test]
    fn a_token_round_trips() {
        let state = sample();
        assert_eq!(decode(&encode(&state)), Some(state));
    }

    #[test]
    fn a_changed_character_is_detected() {
        let token = encode(&sample());
        for position in [0, token.len() / 2, token.len() - 1] {
            let mut tampered: Vec<char> = token.chars().collect();
            tampered[position] = if tampered[position] == 'A' { 'B' } else { 'A' };
            let tampered: String = tampered.into_iter().collect();
            assert_eq!(decode(&tampered), None, "position {position}");
        }
        assert_eq!(decode(""), None);
        assert_eq!(decode("not base64 at all!"), None);
    }
}
