//! Timestamps as stored: RFC 3339 text in UTC with exactly six fractional digits, so that text order is time order
//! and SQLite and PostgreSQL store, compare and return the same values.

use chrono::{DateTime, SecondsFormat, Utc};

/// The stored form of a timestamp (`2026-01-02T03:04:05.123456Z`); sub-microsecond precision is dropped.
pub(crate) fn to_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads a stored timestamp back.
pub(crate) fn from_text(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn round_trips_at_microsecond_precision_and_sorts_as_text() {
        let early = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::nanoseconds(123_456_789);
        let late = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 6).unwrap();
        assert_eq!(to_text(early), "2026-01-02T03:04:05.123456Z");
        assert_eq!(from_text(&to_text(early)).unwrap(), early - chrono::Duration::nanoseconds(789));
        assert_eq!(to_text(late), "2026-01-02T03:04:06.000000Z");
        assert!(to_text(early) < to_text(late));
    }
}
