//! Streaming ingest of crawled metadata: yt-dlp `.info.json` files (a folder,
//! recursively, or single files), JSON Lines and CSV with a header.
//!
//! Memory stays constant: inputs are read in fixed-size batches (about
//! [`BATCH_BYTES`] of JSON Lines, [`BATCH_FILES`] info.json files or
//! [`BATCH_ROWS`] CSV rows) that are parsed in parallel with rayon, in input
//! order. Every unreadable file or line becomes an [`IngestError`] in the
//! batch while the rest goes on.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod csv;
mod lines;

use rayon::prelude::*;

use self::csv::CsvFile;
use self::lines::LinesReader;
pub use crate::batch::Batch;
use crate::error::IngestError;
use crate::filter::FilterRules;
use crate::record::view::RecordView;
use crate::record::{SourceRef, VideoRecord};
use crate::report::FilterReport;

/// Bytes of JSON Lines read per batch.
pub const BATCH_BYTES: usize = 4 << 20;
/// `.info.json` files per batch.
pub const BATCH_FILES: usize = 512;
/// CSV rows per batch.
pub const BATCH_ROWS: usize = 16_384;
/// Longest JSON line or `.info.json` file read as one record (yt-dlp's
/// largest are about a megabyte); longer ones are skipped with
/// [`IngestError::TooLarge`] instead of being held in memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// The format of one input file.
///
/// ```
/// use curation_core::ingest::{format_of, InputFormat};
/// use std::path::Path;
/// assert_eq!(format_of(Path::new("crawl.CSV")), Some(InputFormat::Csv));
/// assert_eq!(serde_json::to_string(&InputFormat::JsonLines)?, "\"json_lines\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// One JSON object per file (yt-dlp `--write-info-json`).
    InfoJson,
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row naming the fields.
    Csv,
}

/// One input file to read.
///
/// ```
/// use curation_core::ingest::{discover_inputs, InputFormat};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-input-file-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("v1.info.json"), r#"{"id": "v1"}"#)?;
/// let (files, errors) = discover_inputs(&[&dir]);
/// assert!(errors.is_empty());
/// assert_eq!(files[0].path, dir.join("v1.info.json"));
/// assert_eq!(files[0].format, InputFormat::InfoJson);
/// assert_eq!(files[0].bytes, 12);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputFile {
    /// Path as found.
    pub path: PathBuf,
    /// How to read it.
    pub format: InputFormat,
    /// Size in bytes (for progress).
    pub bytes: u64,
}

/// The format a file name implies, if any.
///
/// ```
/// use curation_core::ingest::{format_of, InputFormat};
/// use std::path::Path;
/// assert_eq!(format_of(Path::new("a/v1.info.json")), Some(InputFormat::InfoJson));
/// assert_eq!(format_of(Path::new("crawl.NDJSON")), Some(InputFormat::JsonLines));
/// assert_eq!(format_of(Path::new("v1.mp4")), None);
/// ```
pub fn format_of(path: &Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".info.json") || name.ends_with(".json") {
        Some(InputFormat::InfoJson)
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        Some(InputFormat::JsonLines)
    } else if name.ends_with(".csv") {
        Some(InputFormat::Csv)
    } else {
        None
    }
}

/// Expands input paths into files, in a deterministic order.
///
/// A folder is walked recursively for `*.info.json`, `*.jsonl`, `*.ndjson`
/// and `*.csv` (other files, such as the media, are ignored), following
/// symlinks that stay inside it (others become
/// [`IngestError::OutsideInput`]); a file is read by its extension. Paths
/// that do not exist or have an unknown extension become errors.
///
/// ```
/// use curation_core::{ingest::discover_inputs, IngestError};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-discover-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// std::fs::create_dir_all(dir.join("sub"))?;
/// for name in ["v1.info.json", "v1.mp4", "report.json", "sub/more.jsonl"] {
///     std::fs::write(dir.join(name), "{}")?;
/// }
/// let (files, errors) = discover_inputs(&[dir.clone(), dir.join("gone.csv")]);
/// let paths: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
/// // Media and other `.json` files in a folder are not inputs.
/// assert_eq!(paths, [dir.join("sub").join("more.jsonl"), dir.join("v1.info.json")]);
/// assert!(matches!(&errors[..], [IngestError::NotFound { .. }]));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn discover_inputs<P: AsRef<Path>>(paths: &[P]) -> (Vec<InputFile>, Vec<IngestError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let path = p.as_ref();
        let Ok(meta) = std::fs::metadata(path) else {
            errors.push(IngestError::NotFound {
                path: path.to_owned(),
            });
            continue;
        };
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name();
            // Symlinks are followed inside the folder, not out of it: a
            // crawl must not pull metadata files from elsewhere on disk.
            let root = std::fs::canonicalize(path).ok();
            let mut walk = walker.into_iter();
            while let Some(entry) = walk.next() {
                if let (Ok(e), Some(root)) = (&entry, &root)
                    && e.path_is_symlink()
                    && let Ok(target) = std::fs::canonicalize(e.path())
                    && !target.starts_with(root)
                {
                    errors.push(IngestError::OutsideInput {
                        path: e.path().to_owned(),
                        target,
                    });
                    if e.file_type().is_dir() {
                        walk.skip_current_dir();
                    }
                    continue;
                }
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
                        // In folders only yt-dlp's `.info.json` counts as
                        // JSON: other `.json` files are configs, reports, ...
                        let format = match format_of(e.path()) {
                            Some(InputFormat::InfoJson) if !name.ends_with(".info.json") => None,
                            f => f,
                        };
                        if let Some(format) = format {
                            let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
                            files.push(InputFile {
                                path: e.into_path(),
                                format,
                                bytes,
                            });
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let p = e.path().unwrap_or(path).to_owned();
                        errors.push(IngestError::Io {
                            path: p,
                            source: e.into(),
                        });
                    }
                }
            }
        } else {
            match format_of(path) {
                Some(format) => files.push(InputFile {
                    path: path.to_owned(),
                    format,
                    bytes: meta.len(),
                }),
                None => errors.push(IngestError::Unsupported {
                    path: path.to_owned(),
                }),
            }
        }
    }
    (files, errors)
}

/// What parsing one input object gives, unless a prefilter rejected it.
pub(crate) type Parsed = Result<Box<VideoRecord>, IngestError>;

// The type lives in `crate::batch` so that filters can take it without
// depending on ingest; building batches is ingest's business, so this is.
impl Batch {
    /// Parses `items` in parallel, in order. `parse` returns a record or an
    /// error, or `None` after counting a prefilter rejection in the report it
    /// is handed (one per chunk, merged in input order, so example ids stay
    /// the first ones).
    pub(crate) fn parse<T, F>(items: &[T], bytes: u64, parse: F) -> Batch
    where
        T: Sync,
        F: Fn(&T, &mut FilterReport) -> Option<Parsed> + Sync,
    {
        // A few contiguous chunks per thread: each fills its own list and
        // report, and the chunks are joined in order.
        let chunk = items
            .len()
            .div_ceil(4 * rayon::current_num_threads())
            .max(64);
        let parts: Vec<(Vec<Parsed>, FilterReport)> = items
            .par_chunks(chunk)
            .map(|part| {
                let mut report = FilterReport::default();
                let parsed = part
                    .iter()
                    .filter_map(|item| parse(item, &mut report))
                    .collect();
                (parsed, report)
            })
            .collect();
        let mut batch = Batch {
            bytes,
            ..Batch::default()
        };
        batch.records.reserve(parts.iter().map(|p| p.0.len()).sum());
        for (parsed, report) in parts {
            batch.prefiltered.merge(report);
            for p in parsed {
                match p {
                    Ok(r) => batch.records.push(*r),
                    Err(e) => batch.errors.push(e),
                }
            }
        }
        batch
    }
}

/// Runs the prefilter on a view and builds the record only if it passes (a
/// rejection is counted in `report`); `finish` then sets what depends on the
/// input (source, media path).
pub(crate) fn materialize(
    view: RecordView<'_>,
    prefilter: Option<&FilterRules>,
    report: &mut FilterReport,
    finish: impl FnOnce(&mut VideoRecord),
) -> Option<Parsed> {
    if let Some(rules) = prefilter.filter(|r| !r.needs_media()) {
        let reasons = rules.check_fields(&view);
        if !reasons.is_empty() {
            report.count(view.id(), reasons);
            return None;
        }
    }
    let mut rec = view.into_record();
    finish(&mut rec);
    Some(Ok(Box::new(rec)))
}

/// Iterator over [`Batch`]es of all inputs, in order.
///
/// ```no_run
/// use curation_core::ingest::{discover_inputs, RecordBatches};
/// let (files, errors) = discover_inputs(&["crawl/"]);
/// for batch in RecordBatches::new(files) {
///     for r in &batch.records { println!("{}", r.id); }
///     for e in &batch.errors { eprintln!("{e}"); }
/// }
/// # let _ = errors;
/// ```
pub struct RecordBatches {
    queue: VecDeque<InputFile>,
    open: Option<OpenFile>,
    prefilter: Option<Arc<FilterRules>>,
}

enum OpenFile {
    Lines(LinesReader),
    Csv(CsvFile),
}

impl RecordBatches {
    /// Reads `files` in order.
    pub fn new(files: Vec<InputFile>) -> Self {
        RecordBatches {
            queue: files.into(),
            open: None,
            prefilter: None,
        }
    }

    /// Runs the metadata checks of `rules` while parsing: records that fail
    /// them are only counted ([`Batch::prefiltered`]) and never built, which
    /// is most of the cost of ingest when most records are rejected. Checks on the media file (`require_media`) need the built
    /// record; with them every record is built. Use
    /// [`Filter::apply_batch`](crate::Filter::apply_batch) to count the result.
    pub fn with_prefilter(mut self, rules: Arc<FilterRules>) -> Self {
        self.prefilter = Some(rules);
        self
    }

    /// All records of all files, one at a time (convenience over batches;
    /// without a prefilter, every valid record is yielded).
    pub fn records(self) -> impl Iterator<Item = Result<VideoRecord, IngestError>> {
        self.flat_map(|b| {
            b.errors
                .into_iter()
                .map(Err)
                .chain(b.records.into_iter().map(Ok))
        })
    }

    fn next_info_json_group(&mut self) -> Batch {
        let mut group = Vec::new();
        while group.len() < BATCH_FILES
            && self
                .queue
                .front()
                .is_some_and(|f| f.format == InputFormat::InfoJson)
        {
            group.push(self.queue.pop_front().expect("front checked"));
        }
        let prefilter = self.prefilter.as_deref();
        let bytes = group.iter().map(|f| f.bytes).sum();
        Batch::parse(&group, bytes, |f, report| {
            read_info_json_with(&f.path, prefilter, report)
        })
    }
}

impl Iterator for RecordBatches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        loop {
            if let Some(open) = &mut self.open {
                let prefilter = self.prefilter.as_deref();
                let batch = match open {
                    OpenFile::Lines(r) => r.next_batch(prefilter),
                    OpenFile::Csv(r) => r.next_batch(prefilter),
                };
                match batch {
                    Some(b) => return Some(b),
                    None => self.open = None,
                }
            }
            let file = self.queue.front()?.clone();
            if file.format == InputFormat::InfoJson {
                return Some(self.next_info_json_group());
            }
            self.queue.pop_front();
            let opened = match file.format {
                InputFormat::JsonLines => LinesReader::open(&file.path).map(OpenFile::Lines),
                InputFormat::Csv => CsvFile::open(&file.path).map(OpenFile::Csv),
                InputFormat::InfoJson => unreachable!("handled above"),
            };
            match opened {
                Ok(o) => self.open = Some(o),
                Err(e) => {
                    return Some(Batch {
                        errors: vec![e],
                        ..Batch::default()
                    });
                }
            }
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Makes a relative media path absolute against the input's folder when the
/// file is there (crawlers write paths relative to where they ran).
fn resolve_media(rec: &mut VideoRecord, input: &Path, sibling_stem: Option<&str>) {
    let dir = input.parent().unwrap_or(Path::new("."));
    let found = match &rec.media_path {
        Some(p) if p.is_absolute() => return,
        Some(p) => [
            dir.join(p),
            p.file_name().map(|n| dir.join(n)).unwrap_or_default(),
        ]
        .into_iter()
        .find(|c| c.is_file()),
        None => sibling_stem.and_then(|stem| find_sibling_media(dir, stem)),
    };
    // Records are JSON: a path that is not valid UTF-8 (a folder with such a
    // name) stays as the input gave it.
    if let Some(f) = found.map(|f| std::path::absolute(&f).unwrap_or(f))
        && f.to_str().is_some()
    {
        rec.media_path = Some(f);
    }
}

const MEDIA_EXTENSIONS: &[&str] = &[
    "mp4", "webm", "mkv", "mov", "avi", "m4v", "flv", "3gp", "ts",
];

fn find_sibling_media(dir: &Path, stem: &str) -> Option<PathBuf> {
    MEDIA_EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
}

/// Reads one whole-file JSON record (yt-dlp `.info.json`).
///
/// ```
/// use curation_core::ingest::read_info_json;
/// # let dir = std::env::temp_dir().join(format!("curation-doc-info-json-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let info = dir.join("v1.info.json");
/// std::fs::write(&info, r#"{"id": "v1", "duration": 12.5, "tags": ["Salsa"]}"#)?;
/// std::fs::write(dir.join("v1.mp4"), b"")?;
/// let r = read_info_json(&info)?;
/// assert_eq!(r.duration, Some(12.5));
/// assert_eq!(r.hashtags[0].tag, "salsa");
/// assert_eq!(r.media_path, Some(dir.join("v1.mp4"))); // found beside it
/// assert_eq!(r.ingest_source.unwrap().line, 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_info_json(path: &Path) -> Result<VideoRecord, IngestError> {
    let parsed = read_info_json_with(path, None, &mut FilterReport::default());
    parsed.expect("no prefilter").map(|r| *r)
}

fn read_info_json_with(
    path: &Path,
    prefilter: Option<&FilterRules>,
    report: &mut FilterReport,
) -> Option<Parsed> {
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(MAX_RECORD_BYTES as u64 + 1).read_to_end(&mut bytes)
    });
    if let Err(e) = read {
        return Some(Err(io_err(path)(e)));
    }
    if bytes.len() > MAX_RECORD_BYTES {
        return Some(Err(IngestError::TooLarge {
            path: path.to_owned(),
            line: 1,
            limit: MAX_RECORD_BYTES,
        }));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let view = match parse_view(bytes) {
        Ok(v) => v,
        Err(e) => return Some(Err(IngestError::from_json(path, 1, &e))),
    };
    if let Some(e) = too_deep(&view, path, 1) {
        return Some(Err(e));
    }
    materialize(view, prefilter, report, |rec| {
        rec.ingest_source.get_or_insert_with(|| SourceRef {
            path: path.display().to_string().into(),
            line: 1,
        });
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        let stem_len = [".info.json", ".json"]
            .iter()
            .find(|s| lower.ends_with(*s))
            .map(|s| name.len() - s.len());
        let stem = stem_len.map(|n| &name[..n]);
        resolve_media(rec, path, stem);
    })
}

/// The error for a record holding a value nested deeper than
/// [`MAX_NESTING`](crate::MAX_NESTING), if it does.
fn too_deep(view: &RecordView<'_>, path: &Path, line: u64) -> Option<IngestError> {
    view.too_deep().map(|key| IngestError::TooDeep {
        path: path.to_owned(),
        line,
        key: crate::error::clip(key.to_owned()),
        limit: crate::MAX_NESTING,
    })
}

/// Parses a JSON object. Validating UTF-8 once for the whole text is cheaper
/// than serde_json's check of every string; on invalid UTF-8 serde_json's
/// byte parser reports where.
pub(crate) fn parse_view(bytes: &[u8]) -> serde_json::Result<RecordView<'_>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => RecordView::from_json(text),
        Err(e) => match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(je) => Err(je),
            Ok(_) => Err(serde::de::Error::custom(format_args!(
                "invalid UTF-8 at byte {}",
                e.valid_up_to()
            ))),
        },
    }
}
