//! The tokenizer of the `$filter` parser ([`super::filter`]): identifiers and keywords, quoted strings with
//! `''` escapes, integers, GUIDs, dates and DateTimeOffsets, and punctuation. Positions are character
//! indices, as in ODataLib's messages.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::filter::{FilterError, FilterErrorKind, Literal};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum TokenKind {
    Ident(String),
    Literal(Literal),
    Slash,
    Colon,
    Comma,
    Open,
    Close,
    End,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) position: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || c == '.' || c == '@' || c == '#'
}

pub(super) fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let start = at;
        let kind = match c {
            ' ' | '\t' | '\r' | '\n' => {
                at += 1;
                continue;
            }
            '/' => {
                at += 1;
                TokenKind::Slash
            }
            ':' => {
                at += 1;
                TokenKind::Colon
            }
            ',' => {
                at += 1;
                TokenKind::Comma
            }
            '(' => {
                at += 1;
                TokenKind::Open
            }
            ')' => {
                at += 1;
                TokenKind::Close
            }
            '\'' => {
                let (value, next) = lex_string(&chars, at, text)?;
                at = next;
                TokenKind::Literal(Literal::Str(value))
            }
            _ => {
                if let Some((literal, next)) = lex_guid(&chars, at).or_else(|| lex_date(&chars, at)) {
                    at = next;
                    TokenKind::Literal(literal)
                } else if c.is_ascii_digit() || (c == '-' && chars.get(at + 1).is_some_and(char::is_ascii_digit)) {
                    let (literal, next) = lex_number(&chars, at, text)?;
                    at = next;
                    TokenKind::Literal(literal)
                } else if is_ident_start(c) {
                    let mut end = at + 1;
                    while end < chars.len() && is_ident_char(chars[end]) {
                        end += 1;
                    }
                    let word: String = chars[at..end].iter().collect();
                    at = end;
                    keyword_literal(&word).map_or(TokenKind::Ident(word), TokenKind::Literal)
                } else {
                    return Err(FilterError {
                        kind: FilterErrorKind::Syntax,
                        position: at,
                        message: format!("Syntax error: character '{c}' is not valid at position {at} in '{text}'."),
                    });
                }
            }
        };
        tokens.push(Token { kind, position: start });
    }
    tokens.push(Token { kind: TokenKind::End, position: chars.len() });
    Ok(tokens)
}

fn keyword_literal(word: &str) -> Option<Literal> {
    if word.eq_ignore_ascii_case("null") {
        Some(Literal::Null)
    } else if word.eq_ignore_ascii_case("true") {
        Some(Literal::Bool(true))
    } else if word.eq_ignore_ascii_case("false") {
        Some(Literal::Bool(false))
    } else {
        None
    }
}

/// A quoted string starting at `at` (the opening quote); `''` is an escaped quote.
fn lex_string(chars: &[char], at: usize, text: &str) -> Result<(String, usize), FilterError> {
    let mut value = String::new();
    let mut index = at + 1;
    loop {
        match chars.get(index) {
            None => {
                return Err(FilterError {
                    kind: FilterErrorKind::Syntax,
                    position: chars.len(),
                    message: format!(
                        "There is an unterminated string literal at position {} in '{text}'.",
                        chars.len()
                    ),
                });
            }
            Some('\'') if chars.get(index + 1) == Some(&'\'') => {
                value.push('\'');
                index += 2;
            }
            Some('\'') => return Ok((value, index + 1)),
            Some(&c) => {
                value.push(c);
                index += 1;
            }
        }
    }
}

fn boundary(chars: &[char], end: usize) -> bool {
    chars.get(end).is_none_or(|&c| !is_ident_char(c) && c != '-')
}

/// An unquoted GUID (8-4-4-4-12 hex digits) not followed by more identifier characters.
fn lex_guid(chars: &[char], at: usize) -> Option<(Literal, usize)> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut index = at;
    for (group_index, &length) in GROUPS.iter().enumerate() {
        if group_index > 0 {
            if chars.get(index) != Some(&'-') {
                return None;
            }
            index += 1;
        }
        for _ in 0..length {
            if !chars.get(index).is_some_and(char::is_ascii_hexdigit) {
                return None;
            }
            index += 1;
        }
    }
    if !boundary(chars, index) {
        return None;
    }
    let text: String = chars[at..index].iter().collect();
    Uuid::parse_str(&text).ok().map(|guid| (Literal::Guid(guid), index))
}

fn digits(chars: &[char], at: usize, count: usize) -> bool {
    (at..at + count).all(|index| chars.get(index).is_some_and(char::is_ascii_digit))
}

/// `YYYY-MM-DD` optionally followed by `Thh:mm[:ss[.fff]](Z|±hh:mm)`.
fn lex_date(chars: &[char], at: usize) -> Option<(Literal, usize)> {
    if !(digits(chars, at, 4)
        && chars.get(at + 4) == Some(&'-')
        && digits(chars, at + 5, 2)
        && chars.get(at + 7) == Some(&'-')
        && digits(chars, at + 8, 2))
    {
        return None;
    }
    let date_end = at + 10;
    if chars.get(date_end) != Some(&'T') {
        if !boundary(chars, date_end) {
            return None;
        }
        let text: String = chars[at..date_end].iter().collect();
        return NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok().map(|date| (Literal::Date(date), date_end));
    }
    let mut end = date_end + 1;
    while end < chars.len() && (chars[end].is_ascii_digit() || matches!(chars[end], ':' | '.' | '+' | '-' | 'Z')) {
        end += 1;
    }
    if !boundary(chars, end) {
        return None;
    }
    let text: String = chars[at..end].iter().collect();
    let parsed = DateTime::parse_from_rfc3339(&text)
        .ok()
        .or_else(|| {
            // `2024-01-01T00:00Z` (no seconds) is valid OData.
            let (head, zone) = text.split_at(text.find(['Z', '+']).or_else(|| text.rfind('-').filter(|&i| i > 10))?);
            DateTime::parse_from_rfc3339(&format!("{head}:00{zone}")).ok()
        })?
        .with_timezone(&Utc);
    Some((Literal::DateTime(parsed), end))
}

fn lex_number(chars: &[char], at: usize, text: &str) -> Result<(Literal, usize), FilterError> {
    let mut end = at + 1;
    while end < chars.len() && chars[end].is_ascii_digit() {
        end += 1;
    }
    if end < chars.len() && is_ident_char(chars[end]) {
        // `12abc`, `1.5`: not a literal the directory accepts.
        return Err(FilterError {
            kind: FilterErrorKind::Syntax,
            position: end,
            message: format!("Syntax error at position {end} in '{text}'."),
        });
    }
    let digits_text: String = chars[at..end].iter().collect();
    match digits_text.parse::<i64>() {
        Ok(value) => Ok((Literal::Int(value), end)),
        Err(_) => Err(FilterError {
            kind: FilterErrorKind::Syntax,
            position: at,
            message: format!("Unrecognized 'Edm.Int64' literal '{digits_text}' at '{at}' in '{text}'."),
        }),
    }
}
