//! `Error`: why an HR file was rejected whole. Problems with single records are diagnostics, not errors.

/// An HR file that cannot be read at all; no record of it is used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read from disk.
    #[error("cannot read HR file {file}: {source}")]
    Io {
        /// The file's name.
        file: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The mapping given by the caller (the policy) is unusable.
    #[error("the HR mapping is invalid: {}", .problems.join("; "))]
    InvalidMapping {
        /// Every problem in the mapping.
        problems: Vec<String>,
    },
    /// The bytes are not text in a supported encoding.
    #[error("HR file {file} is not readable text: {detail}")]
    Encoding {
        /// The file's name.
        file: String,
        /// What is wrong, and how to export the file instead.
        detail: String,
    },
    /// The file has no header row.
    #[error("HR file {file} is empty: it has no header row")]
    NoHeader {
        /// The file's name.
        file: String,
    },
    /// The header row lacks columns the mapping requires.
    #[error(
        "HR file {file} is rejected: its header row lacks the required column{} {}; the header row has {}",
        if .missing.len() == 1 { "" } else { "s" },
        quoted_list(.missing),
        quoted_list(.found)
    )]
    MissingColumns {
        /// The file's name.
        file: String,
        /// The required headers not found, as the mapping spells them.
        missing: Vec<String>,
        /// The headers the file has.
        found: Vec<String>,
    },
    /// A mapped column appears twice in the header row, so it is unclear which one to read.
    #[error("HR file {file} is rejected: the header row has column \"{header}\" more than once")]
    DuplicateColumn {
        /// The file's name.
        file: String,
        /// The repeated header.
        header: String,
    },
    /// The CSV structure is broken (the `csv` parser gave up).
    #[error("HR file {file} is not valid CSV: {message}")]
    Csv {
        /// The file's name.
        file: String,
        /// The parser's explanation, with its position.
        message: String,
    },
    /// The JSON is malformed.
    #[error("HR file {file} is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        /// The file's name.
        file: String,
        /// The 1-based line of the error.
        line: usize,
        /// The 1-based column of the error.
        column: usize,
        /// The parser's explanation.
        message: String,
    },
    /// The JSON document is not an array of records.
    #[error("HR file {file} is rejected: the JSON document must be an array of worker objects")]
    NotAnArray {
        /// The file's name.
        file: String,
    },
}

fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "no columns".to_string();
    }
    items.iter().map(|item| format!("\"{item}\"")).collect::<Vec<_>>().join(", ")
}
