//! `WorkerId`: the HR employee ID, the key by which Tenure matches a worker to their account.

use std::fmt;
use std::str::FromStr;

/// An HR employee ID: non-empty, without surrounding whitespace and without control characters.
///
/// It is compared exactly (case-sensitive), because HR systems treat `e100` and `E100` as different people only
/// rarely, but matching them as one would merge two people's accounts when they do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId(String);

/// Why a text is not a valid [`WorkerId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidWorkerId {
    /// The text is empty or only whitespace.
    #[error("an employee ID must not be empty")]
    Empty,
    /// The text contains a control character (a tab, a line break, …).
    #[error("an employee ID must not contain control characters")]
    ControlCharacter,
}

impl WorkerId {
    /// Validates `text` as an employee ID; surrounding whitespace is trimmed away first.
    pub fn new(text: &str) -> Result<Self, InvalidWorkerId> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(InvalidWorkerId::Empty);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidWorkerId::ControlCharacter);
        }
        Ok(Self(trimmed.to_string()))
    }

    /// The employee ID as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for WorkerId {
    type Err = InvalidWorkerId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl serde::Serialize for WorkerId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for WorkerId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

impl AsRef<str> for WorkerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_case() {
        let id: WorkerId = "  E-1001 ".parse().expect("valid id");
        assert_eq!(id.as_str(), "E-1001");
        assert_eq!(id.to_string(), "E-1001");
    }

    #[test]
    fn rejects_empty_and_control_characters() {
        assert_eq!(WorkerId::new(""), Err(InvalidWorkerId::Empty));
        assert_eq!(WorkerId::new(" \t "), Err(InvalidWorkerId::Empty));
        assert_eq!(WorkerId::new("10\n01"), Err(InvalidWorkerId::ControlCharacter));
        assert_eq!(WorkerId::new("10\u{7f}01"), Err(InvalidWorkerId::ControlCharacter));
    }
}
