//! `PolicyProblem`: one mistake in the policy file, with the file, line and key path an admin needs to fix it.
//!
//! `parse_policy` collects every problem it finds instead of stopping at the first; this module also holds the
//! byte-offset → line lookup and the index that names the key path (`groups[1].when`) at a byte offset of the
//! parsed TOML document, used to place serde's structural errors.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

/// One mistake in the policy file.
///
/// `Display` reads like a compiler message: `policy.toml:12: naming.candidates[1]: unknown filter "asci"` (the
/// `:line` part is left out when the line is unknown, the key part when the problem concerns the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// The policy file's name, as the admin knows it.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The key path (`naming.candidates[1]`, `groups[0].when`, with 0-based indexes); empty for the whole file.
    pub key: String,
    /// What is wrong, as a sentence fragment an admin can act on.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PolicyProblem {}

/// Collects problems for one policy file, turning byte offsets into line numbers.
pub(crate) struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    pub(crate) list: Vec<PolicyProblem>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Self { file, text, list: Vec::new() }
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|byte| **byte == b'\n').count() + 1
    }

    /// Records a problem at byte range `span` (or without a line).
    pub(crate) fn add(&mut self, span: Option<Range<usize>>, key: impl Into<String>, message: impl Into<String>) {
        let line = span.map(|span| self.line_of(span.start));
        self.list.push(PolicyProblem { file: self.file.to_string(), line, key: key.into(), message: message.into() });
    }

    /// Records a problem about a spanned value.
    pub(crate) fn at<T>(&mut self, value: &Spanned<T>, key: impl Into<String>, message: impl Into<String>) {
        self.add(Some(value.span()), key, message);
    }

    /// The problems, ordered by line (problems without a line last), keeping discovery order within a line.
    pub(crate) fn into_sorted(mut self) -> Vec<PolicyProblem> {
        self.list.sort_by_key(|problem| problem.line.unwrap_or(usize::MAX));
        self.list
    }
}

/// Every key path of a parsed document with the byte ranges of its key and value, to name the key at the offset
/// of a structural (serde) error.
#[derive(Default)]
pub(crate) struct PathIndex {
    entries: Vec<(Range<usize>, String)>,
}

impl PathIndex {
    /// Indexes `value` (found at `path`) and everything below it.
    pub(crate) fn add_value(&mut self, path: &str, value: &Spanned<DeValue<'_>>) {
        self.entries.push((value.span(), path.to_string()));
        match value.get_ref() {
            DeValue::Table(table) => {
                for (key, child) in table.iter() {
                    let child_path = join_key(path, key.get_ref());
                    self.entries.push((key.span(), child_path.clone()));
                    self.add_value(&child_path, child);
                }
            }
            DeValue::Array(array) => {
                for (index, child) in array.iter().enumerate() {
                    self.add_value(&format!("{path}[{index}]"), child);
                }
            }
            _ => {}
        }
    }

    /// The most specific indexed path whose key or value contains `offset`.
    pub(crate) fn path_at(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .filter(|(range, _)| range.start <= offset && offset < range.end.max(range.start + 1))
            .min_by_key(|(range, _)| range.end - range.start)
            .map(|(_, path)| path.as_str())
    }
}

/// `parent.key`, quoting keys that are not bare TOML keys (`attributes."employeeOrgData/costCenter"`).
pub(crate) fn join_key(parent: &str, key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare { key.to_string() } else { format!("\"{key}\"") };
    if parent.is_empty() { key } else { format!("{parent}.{key}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_line() {
        let mut problem = PolicyProblem {
            file: "policy.toml".to_string(),
            line: Some(12),
            key: "naming.candidates[1]".to_string(),
            message: "unknown filter \"asci\"".to_string(),
        };
        assert_eq!(problem.to_string(), "policy.toml:12: naming.candidates[1]: unknown filter \"asci\"");
        problem.line = None;
        assert_eq!(problem.to_string(), "policy.toml: naming.candidates[1]: unknown filter \"asci\"");
    }

    #[test]
    fn lines_are_one_based() {
        let problems = Problems::new("p.toml", "a = 1\nb = 2\n");
        assert_eq!(problems.line_of(0), 1);
        assert_eq!(problems.line_of(6), 2);
    }

    #[test]
    fn quotes_keys_that_are_not_bare() {
        assert_eq!(join_key("attributes", "employeeOrgData/costCenter"), "attributes.\"employeeOrgData/costCenter\"");
        assert_eq!(join_key("", "naming"), "naming");
    }
}
