//! Admin passwords: argon2id hashes in PHC form, verified in constant time, never logged.
//!
//! Hashing is slow on purpose (argon2's default cost: 19 MiB, two passes), so callers run it on a blocking
//! thread. A sign-in for a user name that does not exist is checked against a fixed dummy hash, so it costs the
//! same time as a wrong password and the response cannot tell which of the two was wrong.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use model::Secret;

use super::session::random_bytes;

/// The shortest password `tenure admin add-user` accepts.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// The longest password accepted (argon2 takes any length; this bounds the work a request can cause).
pub const MAX_PASSWORD_LENGTH: usize = 1024;

/// A password that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_LENGTH`] characters.
    #[error("the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_LENGTH`] characters.
    #[error("the password is too long: use at most {MAX_PASSWORD_LENGTH} characters")]
    TooLong,
    /// The hasher failed (never expected with the default parameters).
    #[error("hashing the password failed: {0}")]
    Hashing(String),
}

/// Checks the length rules and hashes `password` with argon2id and a random salt (a PHC string).
///
/// # Errors
/// The password is shorter than [`MIN_PASSWORD_LENGTH`] or longer than [`MAX_PASSWORD_LENGTH`] characters.
pub fn hash_password(password: &Secret) -> Result<String, PasswordProblem> {
    let length = password.expose().chars().count();
    if length < MIN_PASSWORD_LENGTH {
        return Err(PasswordProblem::TooShort);
    }
    if length > MAX_PASSWORD_LENGTH {
        return Err(PasswordProblem::TooLong);
    }
    hash_unchecked(password.expose())
}

fn hash_unchecked(password: &str) -> Result<String, PasswordProblem> {
    let salt = random_bytes::<16>();
    let salt = SaltString::encode_b64(&salt).map_err(|error| PasswordProblem::Hashing(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordProblem::Hashing(error.to_string()))
}

/// A hash of a random password nobody knows, checked when the user name is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = random_bytes::<24>();
    let password: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    hash_unchecked(&password).unwrap_or_default()
});

/// Whether `password` matches `stored_hash` (a PHC string). With `None` (no such account) a dummy hash is checked
/// so that the time taken does not reveal whether the account exists; the answer is then always `false`.
/// A malformed stored hash or an overlong password is `false`, never a panic.
#[must_use]
pub fn verify_password(password: &Secret, stored_hash: Option<&str>) -> bool {
    let candidate = password.expose().as_bytes();
    let too_long = password.expose().chars().count() > MAX_PASSWORD_LENGTH;
    let checked = if too_long { b"" as &[u8] } else { candidate };
    let (hash, real) = match stored_hash {
        Some(hash) => (hash, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let matches = Argon2::default().verify_password(checked, &parsed).is_ok();
    matches && real && !too_long
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_refuse() {
        let password = Secret::new("correct horse battery staple");
        let hash = hash_password(&password).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_password(&password, Some(&hash)));
        assert!(!verify_password(&Secret::new("correct horse battery stapler"), Some(&hash)));
        assert!(!verify_password(&password, None), "an unknown account never signs in");
        assert!(!verify_password(&password, Some("not a phc string")));
        // Two hashes of one password differ (random salt).
        assert_ne!(hash, hash_password(&password).unwrap());
    }

    #[test]
    fn length_rules() {
        assert_eq!(hash_password(&Secret::new("short")), Err(PasswordProblem::TooShort));
        assert_eq!(hash_password(&Secret::new("x".repeat(11))), Err(PasswordProblem::TooShort));
        assert!(hash_password(&Secret::new("ü".repeat(12))).is_ok(), "characters, not bytes, are counted");
        assert_eq!(hash_password(&Secret::new("x".repeat(1025))), Err(PasswordProblem::TooLong));
    }
}
