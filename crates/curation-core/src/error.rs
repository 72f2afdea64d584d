//! Typed errors. Ingest errors are per file or per line and never stop a run;
//! they are collected in the [`FilterReport`](crate::FilterReport).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A file or line that could not be read as a record.
///
/// ```
/// use curation_core::{ingest::discover_inputs, IngestError};
/// let (files, errors) = discover_inputs(&["no/such/crawl.jsonl"]);
/// assert!(files.is_empty());
/// assert!(matches!(&errors[0], IngestError::NotFound { path } if path.ends_with("crawl.jsonl")));
/// assert_eq!(errors[0].line(), None);
/// ```
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
    /// A value nested deeper than [`MAX_NESTING`](crate::MAX_NESTING)
    /// levels: copied into the manifest verbatim, it would make the manifest
    /// unreadable for common JSON readers (serde_json stops at 128).
    #[error("{}:{line}: field `{key}` is nested deeper than {limit} levels", path.display())]
    TooDeep {
        /// Input path.
        path: PathBuf,
        /// 1-based line in the file.
        line: u64,
        /// The top-level key holding the deep value.
        key: String,
        /// The limit in force.
        limit: usize,
    },
    /// A symlink inside an input folder that leads out of it: not followed
    /// (a crawl must not pull metadata from elsewhere on disk).
    #[error(
        "{}: symlink leads outside the input folder (to {}); not read",
        path.display(),
        target.display()
    )]
    OutsideInput {
        /// The link.
        path: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// A line or file longer than
    /// [`MAX_RECORD_BYTES`](crate::ingest::MAX_RECORD_BYTES): skipped without
    /// being held in memory.
    #[error("{}:{line}: record longer than {limit} bytes; skipped", path.display())]
    TooLarge {
        /// Input path.
        path: PathBuf,
        /// 1-based line where it starts.
        line: u64,
        /// The limit in force.
        limit: usize,
    },
}

impl IngestError {
    /// The input file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            IngestError::NotFound { path }
            | IngestError::Unsupported { path }
            | IngestError::OutsideInput { path, .. }
            | IngestError::Io { path, .. }
            | IngestError::Parse { path, .. }
            | IngestError::TooDeep { path, .. }
            | IngestError::TooLarge { path, .. } => path,
        }
    }

    /// The 1-based line, for errors inside a file.
    pub fn line(&self) -> Option<u64> {
        match self {
            IngestError::Parse { line, .. }
            | IngestError::TooDeep { line, .. }
            | IngestError::TooLarge { line, .. } => Some(*line),
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
                IngestError::OutsideInput { .. } => "outside_input",
                IngestError::Io { .. } => "io",
                IngestError::Parse { .. } => "parse",
                IngestError::TooDeep { .. } => "nesting_too_deep",
                IngestError::TooLarge { .. } => "too_large",
            }
            .to_owned(),
            message: self.to_string(),
        }
    }

    /// A parse error; `message` is clipped to [`MAX_MESSAGE_CHARS`].
    pub(crate) fn parse(path: &std::path::Path, line: u64, column: u64, message: String) -> Self {
        IngestError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: clip(message),
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
            message: clip(message),
        }
    }
}

/// Longest message kept in an [`IngestError`]: messages quote the bad value
/// (serde's "invalid type: string \"...\"" too), and a crawl of megabyte
/// values must not give megabyte messages, 10,000 of them in the report.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `message` cut to [`MAX_MESSAGE_CHARS`] characters, saying how long it was.
pub(crate) fn clip(mut message: String) -> String {
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        let total = message.len();
        message.truncate(cut);
        message.push_str(&format!("… ({total} bytes in all)"));
    }
    message
}

/// Largest configuration or label-map file read: far above any real one
/// (a label map of 100,000 classes is a few megabytes). `--config /dev/zero`
/// or an endless FIFO would otherwise be read until memory runs out.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// The bytes of `path`, or `None` when it holds more than `limit` of them.
/// Reads at most one byte past the limit, so `/dev/zero` or an endless FIFO
/// stops there, while pipes and devices that end are read whole. Shared by
/// every reader of whole text files (configurations here, hashtag-select's
/// label lists, tables and loop state), each with its own limit and error.
///
/// ```
/// use curation_core::read_capped;
/// let path = std::env::temp_dir().join(format!("curation-doc-capped-{}.txt", std::process::id()));
/// std::fs::write(&path, "12345")?;
/// assert_eq!(read_capped(&path, 5)?, Some(b"12345".to_vec()));
/// assert_eq!(read_capped(&path, 4)?, None); // too long: refused, not cut short
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_capped(path: &std::path::Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// The text of a configuration file, refused with
/// [`CurationError::Config`] when longer than [`MAX_CONFIG_BYTES`]
/// ([`read_capped`]).
pub(crate) fn read_config_text(path: &std::path::Path) -> Result<String, CurationError> {
    let Some(bytes) = read_capped(path, MAX_CONFIG_BYTES).map_err(CurationError::io(path))? else {
        return Err(CurationError::Config {
            path: path.to_owned(),
            message: format!(
                "longer than {} MiB, not a configuration file",
                MAX_CONFIG_BYTES >> 20
            ),
        });
    };
    String::from_utf8(bytes).map_err(|e| CurationError::Config {
        path: path.to_owned(),
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// One ingest error as written in `filter_report.json`.
///
/// ```
/// use curation_core::IngestError;
/// let e = IngestError::Parse {
///     path: "crawl.jsonl".into(), line: 3, column: 7, message: "expected `:`".into(),
/// };
/// let failure = e.to_failure();
/// assert_eq!(failure.kind, "parse");
/// assert_eq!(failure.line, Some(3));
/// assert_eq!(failure.message, "crawl.jsonl:3:7: expected `:`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestFailure {
    /// Input file.
    pub path: String,
    /// 1-based line, when the error is inside a file.
    pub line: Option<u64>,
    /// `not_found`, `unsupported`, `outside_input`, `io`, `parse`,
    /// `nesting_too_deep` or `too_large`.
    pub kind: String,
    /// Full message, with path and position.
    pub message: String,
}

/// A failure that stops a curation run (outputs cannot be written, a config is
/// invalid). Bad input records never produce this.
///
/// ```
/// use curation_core::{curate, CurateOptions, CurationError, IngestError};
/// let out = std::env::temp_dir().join("curation-doc-never-written");
/// let opts = CurateOptions::new(vec!["no/such/crawl.jsonl".into()], out.clone());
/// let err = curate(&opts, &mut |_| {}).unwrap_err();
/// assert!(matches!(&err, CurationError::Inputs { errors }
///     if matches!(errors[0], IngestError::NotFound { .. })));
/// assert!(!out.exists()); // refused before anything was written
/// ```
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
    /// An option or config value that cannot be used (NaN, a range with
    /// min > max, a fraction outside [0, 1], ...).
    #[error("invalid option {0}")]
    Invalid(#[from] InvalidValue),
    /// Input paths given by name that cannot be read (missing, unsupported,
    /// inside the output folder). Nothing was written.
    #[error("{}", list_errors("cannot use the inputs", errors))]
    Inputs {
        /// One error per bad input path.
        errors: Vec<IngestError>,
    },
    /// No record could be read from the inputs; the earlier outputs in `out`
    /// are left as they were.
    #[error(
        "no record could be read from the inputs ({} unreadable files or lines{}); \
         the outputs in {} were left as they were",
        report.ingest_error_count,
        report.ingest_errors.first().map(|e| format!(", first: {}", e.message)).unwrap_or_default(),
        out.display()
    )]
    NothingRead {
        /// Output folder (untouched).
        out: PathBuf,
        /// The ingest errors met.
        report: Box<crate::report::FilterReport>,
    },
    /// An input lies inside the output folder (or is it): its files would be
    /// overwritten by this run's outputs or skipped as earlier outputs.
    #[error(
        "{}: input lies inside the output folder {}; choose another --out",
        input.display(),
        out.display()
    )]
    InputInOutput {
        /// The input path as given.
        input: PathBuf,
        /// The output folder.
        out: PathBuf,
    },
    /// The output path exists and is not a folder.
    #[error("{}: the output path exists and is not a folder", path.display())]
    OutNotFolder {
        /// The `--out` path.
        path: PathBuf,
    },
}

/// A configuration or option value that cannot be used, with the field
/// (`duration.min`, `val_fraction`, ...) it was given for.
///
/// ```
/// use curation_core::FilterConfig;
/// let languages = vec!["en".into(), " ".into()];
/// let config = FilterConfig { languages, ..FilterConfig::default() };
/// let err = config.validate().unwrap_err();
/// assert_eq!(err.field, "languages[1]");
/// assert_eq!(err.to_string(), "`languages[1]`: \" \" is empty and would match nothing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct InvalidValue {
    /// Field or option name.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl InvalidValue {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidValue {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// "what: e1; e2; e3 (and N more)": long lists stay short.
fn list_errors(what: &str, errors: &[IngestError]) -> String {
    let mut s = format!("{what}: ");
    for (i, e) in errors.iter().take(3).enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&e.to_string());
    }
    if errors.len() > 3 {
        s.push_str(&format!(" (and {} more)", errors.len() - 3));
    }
    s
}

impl CurationError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| CurationError::Io { path, source }
    }
}
