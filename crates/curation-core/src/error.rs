//! Typed errors. Ingest errors are per file or per line and never stop a run;
//! they are collected in the [`FilterReport`](crate::FilterReport).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A file or line that could not be read as a record.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path does not exist.
    #[error("{}: no such file or folder", path.display())]
    NotFound {
        /// Input path.
        path: PathBuf,
    },
    /// The file type is not one tubelet reads.
    #[error(
        "{}: not a supported input (expected a folder, .info.json, .json, .jsonl, .ndjson or .csv)",
        path.display()
    )]
    Unsupported {
        /// Input path.
        path: PathBuf,
    },
    /// Reading failed at the operating-system level.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// Input path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line or file is not a valid record (bad JSON, bad CSV row, a value of
    /// the wrong type, a missing `id`).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// Input path.
        path: PathBuf,
        /// 1-based line in the file.
        line: u64,
        /// 1-based column where known, else 0.
        column: u64,
        /// What is wrong.
        message: String,
    },
}

impl IngestError {
    /// The input file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            IngestError::NotFound { path }
            | IngestError::Unsupported { path }
            | IngestError::Io { path, .. }
            | IngestError::Parse { path, .. } => path,
        }
    }

    /// The 1-based line, for errors inside a file.
    pub fn line(&self) -> Option<u64> {
        match self {
            IngestError::Parse { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// A serialisable summary for reports.
    pub fn to_failure(&self) -> IngestFailure {
        IngestFailure {
            path: self.path().display().to_string(),
            line: self.line(),
            kind: match self {
                IngestError::NotFound { .. } => "not_found",
                IngestError::Unsupported { .. } => "unsupported",
                IngestError::Io { .. } => "io",
                IngestError::Parse { .. } => "parse",
            }
            .to_owned(),
            message: self.to_string(),
        }
    }

    pub(crate) fn from_json(
        path: &std::path::Path,
        line_offset: u64,
        e: &serde_json::Error,
    ) -> Self {
        // serde_json appends " at line L column C"; the position is kept in
        // fields instead.
        let text = e.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) if e.line() > 0 => text[..i].to_owned(),
            _ => text,
        };
        IngestError::Parse {
            path: path.to_owned(),
            line: line_offset + e.line().max(1) as u64 - 1,
            column: e.column() as u64,
            message,
        }
    }
}

/// One ingest error as written in `filter_report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestFailure {
    /// Input file.
    pub path: String,
    /// 1-based line, when the error is inside a file.
    pub line: Option<u64>,
    /// `not_found`, `unsupported`, `io` or `parse`.
    pub kind: String,
    /// Full message, with path and position.
    pub message: String,
}

/// A failure that stops a curation run (outputs cannot be written, a config is
/// invalid). Bad input records never produce this.
#[derive(Debug, thiserror::Error)]
pub enum CurationError {
    /// Writing or reading an output failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is invalid.
    #[error("{}: invalid configuration: {message}", path.display())]
    Config {
        /// Configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A shard could not be written or read.
    #[error(transparent)]
    Shard(#[from] crate::shard::ShardError),
}

impl CurationError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| CurationError::Io { path, source }
    }
}
