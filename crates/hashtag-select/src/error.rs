//! Typed errors: every bad input names the file (and line) it came from.

use std::path::PathBuf;

use curation_core::CurationError;

/// What can go wrong reading vocabularies, tables, view counts and state.
///
/// ```
/// use hashtag_select::{HashtagError, StyleTable};
/// let path = std::env::temp_dir().join("hashtag_select_doc_error_missing.json");
/// let err = StyleTable::from_file(&path).unwrap_err();
/// assert!(matches!(err, HashtagError::Io { .. }));
/// assert!(err.to_string().starts_with(&path.display().to_string()));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum HashtagError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is malformed.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("bad configuration: {0}")]
    Config(String),
    /// A saved adaptive-loop state was written by another format version.
    #[error("{path}: state format {found}, this build reads {expected}")]
    StateVersion {
        /// The state file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build writes.
        expected: u32,
    },
    /// An input named on the command line or in a call does not exist.
    #[error("{what} {path}: no such file or folder")]
    MissingInput {
        /// What the input is for (`--posts`, `labels`).
        what: String,
        /// The path as given.
        path: PathBuf,
    },
    /// An output would overwrite an input or another output.
    #[error("output {output} would overwrite {what} {input}; choose another --out")]
    OutputCollision {
        /// The output path.
        output: PathBuf,
        /// What it collides with (`the --labels input`, `the output`).
        what: String,
        /// The input (or other output) it collides with.
        input: PathBuf,
    },
    /// The inputs held nothing to work on; nothing was written.
    #[error("{0}; nothing written")]
    NothingRead(String),
    /// A round's plan was fed back already: observing it again would count
    /// its crawl twice.
    #[error("{state}: round {round} was already observed; plan the next round first")]
    RoundAlreadyObserved {
        /// The state file.
        state: PathBuf,
        /// The round of the plan.
        round: u64,
    },
    /// An observation names a tag the loop never planned.
    #[error("observation for unknown tag {0:?}")]
    UnknownTag(String),
    /// Reading records or writing outputs through curation-core failed.
    #[error(transparent)]
    Curation(#[from] CurationError),
}

impl HashtagError {
    /// An `Io` error for `path` (for `map_err`).
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| HashtagError::Io { path, source }
    }

    /// A `Malformed` error from a JSON parse error (serde_json reports line
    /// 0 when an untagged enum matched no variant: no line then).
    pub(crate) fn json(path: impl Into<PathBuf>, e: &serde_json::Error) -> Self {
        let line = Some(e.line() as u64).filter(|&l| l > 0);
        Self::malformed(path, line, e.to_string())
    }

    /// A `Config` error naming the field, its value and what it must be.
    pub(crate) fn config(field: &str, value: impl std::fmt::Display, expected: &str) -> Self {
        HashtagError::Config(format!("{field} = {value}: {expected}"))
    }

    /// Checks that each `(field, value)` lies in `range` (NaN and
    /// infinities outside a finite range never do: every comparison with NaN
    /// fails, which would silently turn a rule off), naming the first that
    /// does not, with `expected` as the reason.
    pub(crate) fn check_in(
        range: std::ops::RangeInclusive<f64>,
        fields: &[(&str, f64)],
        expected: &str,
    ) -> Result<(), Self> {
        match fields.iter().find(|(_, x)| !range.contains(x)) {
            Some(&(name, x)) => Err(HashtagError::config(name, x, expected)),
            None => Ok(()),
        }
    }

    /// A `Malformed` error.
    pub(crate) fn malformed(
        path: impl Into<PathBuf>,
        line: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        HashtagError::Malformed {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}
