//! Streaming ingest of crawled metadata: yt-dlp `.info.json` files (a folder,
//! recursively, or single files), JSON Lines and CSV with a header.
//!
//! Memory stays constant: inputs are read in fixed-size batches (about
//! [`BATCH_BYTES`] of JSON Lines, [`BATCH_FILES`] info.json files or
//! [`BATCH_ROWS`] CSV rows) that are parsed in parallel with rayon, in input
//! order. Every unreadable file or line becomes an [`IngestError`] in the
//! batch while the rest goes on.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::IngestError;
use crate::fields::{Key, RecordBuilder, Val, parse_scalar};
use crate::record::{SourceRef, VideoRecord};

/// Bytes of JSON Lines read per batch.
pub const BATCH_BYTES: usize = 4 << 20;
/// `.info.json` files per batch.
pub const BATCH_FILES: usize = 512;
/// CSV rows per batch.
pub const BATCH_ROWS: usize = 16_384;

/// The format of one input file.
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
/// and `*.csv` (other files, such as the media, are ignored); a file is read by
/// its extension. Paths that do not exist or have an unknown extension become
/// errors.
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
            for entry in walker {
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

/// Records and errors read from one stretch of input, in input order.
#[derive(Debug, Default)]
pub struct Batch {
    /// Records parsed.
    pub records: Vec<VideoRecord>,
    /// Files or lines that failed.
    pub errors: Vec<IngestError>,
    /// Input bytes consumed by this batch (for progress).
    pub bytes: u64,
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
        }
    }

    /// All records of all files, one at a time (convenience over batches).
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
        let results: Vec<_> = group.par_iter().map(|f| read_info_json(&f.path)).collect();
        let mut batch = Batch {
            bytes: group.iter().map(|f| f.bytes).sum(),
            ..Batch::default()
        };
        for r in results {
            match r {
                Ok(rec) => batch.records.push(rec),
                Err(e) => batch.errors.push(e),
            }
        }
        batch
    }
}

impl Iterator for RecordBatches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        loop {
            if let Some(open) = &mut self.open {
                let batch = match open {
                    OpenFile::Lines(r) => r.next_batch(),
                    OpenFile::Csv(r) => r.next_batch(),
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
    if let Some(f) = found {
        rec.media_path = Some(std::path::absolute(&f).unwrap_or(f));
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
pub fn read_info_json(path: &Path) -> Result<VideoRecord, IngestError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut rec: VideoRecord =
        serde_json::from_slice(bytes).map_err(|e| IngestError::from_json(path, 1, &e))?;
    rec.source.get_or_insert_with(|| SourceRef {
        path: path.display().to_string().into(),
        line: 1,
    });
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".info.json")
        .or_else(|| name.strip_suffix(".json"));
    resolve_media(&mut rec, path, stem);
    Ok(rec)
}

/// JSON Lines in blocks: a block of whole lines is parsed in parallel.
struct LinesReader {
    path: PathBuf,
    path_text: Arc<str>,
    file: File,
    buf: Vec<u8>,
    next_line: u64,
    eof: bool,
}

impl LinesReader {
    fn open(path: &Path) -> Result<Self, IngestError> {
        Ok(LinesReader {
            path: path.to_owned(),
            path_text: path.display().to_string().into(),
            file: File::open(path).map_err(io_err(path))?,
            buf: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            next_line: 1,
            eof: false,
        })
    }

    fn next_batch(&mut self) -> Option<Batch> {
        if self.eof && self.buf.is_empty() {
            return None;
        }
        // `buf` keeps its capacity across batches: no fresh pages to fault in.
        let start_len = self.buf.len();
        if !self.eof {
            match (&mut self.file)
                .take(BATCH_BYTES as u64)
                .read_to_end(&mut self.buf)
            {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) => {
                    self.eof = true;
                    self.buf.clear();
                    return Some(Batch {
                        errors: vec![io_err(&self.path)(e)],
                        ..Batch::default()
                    });
                }
            }
        }
        let bytes = (self.buf.len() - start_len) as u64;
        // Whole lines only; the tail waits for the next read unless at EOF.
        let end = if self.eof {
            self.buf.len()
        } else {
            match self.buf.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                // A line longer than a block: keep reading.
                None => {
                    return Some(Batch {
                        bytes,
                        ..Batch::default()
                    });
                }
            }
        };
        let first_line = self.next_line;
        let block = &self.buf[..end];
        let mut lines: Vec<(u64, &[u8])> = Vec::with_capacity(block.len() / 256);
        let mut line_no = first_line;
        let mut begin = 0;
        let ends =
            memchr::memchr_iter(b'\n', block).chain((block.last() != Some(&b'\n')).then_some(end));
        for nl in ends {
            let l = &block[begin..nl];
            if l.iter().any(|b| !b.is_ascii_whitespace()) {
                lines.push((line_no, l));
            }
            line_no += 1;
            begin = nl + 1;
        }
        self.next_line = line_no;
        let path = &self.path;
        let path_text = &self.path_text;
        let parsed: Vec<Result<VideoRecord, IngestError>> = lines
            .into_par_iter()
            .map(|(line, text)| parse_line(path, path_text, line, text))
            .collect();
        self.buf.copy_within(end.., 0);
        self.buf.truncate(self.buf.len() - end);
        let (records, errors) = parsed.into_par_iter().partition_map(|r| match r {
            Ok(rec) => rayon::iter::Either::Left(rec),
            Err(e) => rayon::iter::Either::Right(e),
        });
        Some(Batch {
            records,
            errors,
            bytes,
        })
    }
}

fn parse_line(
    path: &Path,
    path_text: &Arc<str>,
    line: u64,
    mut text: &[u8],
) -> Result<VideoRecord, IngestError> {
    if line == 1 {
        text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    }
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    // Validating the whole line once is cheaper than serde_json's check of
    // every string; `from_slice` still finds the position of bad bytes.
    let mut rec: VideoRecord = match std::str::from_utf8(text) {
        Ok(t) => serde_json::from_str(t),
        Err(_) => serde_json::from_slice(text),
    }
    .map_err(|e| IngestError::from_json(path, line, &e))?;
    if rec.source.is_none() {
        rec.source = Some(SourceRef {
            path: path_text.clone(),
            line,
        });
    }
    if rec.media_path.as_ref().is_some_and(|p| p.is_relative()) {
        resolve_media(&mut rec, path, None);
    }
    Ok(rec)
}

/// CSV with a header: columns named like JSON fields (tubelet's or yt-dlp's);
/// other columns are kept as extra string fields.
struct CsvFile {
    path: PathBuf,
    path_text: Arc<str>,
    reader: csv::Reader<File>,
    columns: Vec<Option<Key>>,
    headers: Vec<String>,
    done: bool,
}

impl CsvFile {
    fn open(path: &Path) -> Result<Self, IngestError> {
        let file = File::open(path).map_err(io_err(path))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_err(path, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let columns = headers.iter().map(|h| Key::from_name(h)).collect();
        Ok(CsvFile {
            path: path.to_owned(),
            path_text: path.display().to_string().into(),
            reader,
            columns,
            headers,
            done: false,
        })
    }

    fn next_batch(&mut self) -> Option<Batch> {
        if self.done {
            return None;
        }
        let start = self.reader.position().byte();
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut errors = Vec::new();
        let mut row = csv::StringRecord::new();
        while rows.len() < BATCH_ROWS {
            match self.reader.read_record(&mut row) {
                Ok(true) => {
                    let line = row.position().map_or(0, |p| p.line());
                    rows.push((line, row.clone()));
                }
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                    errors.push(csv_err(&self.path, &e));
                    if fatal {
                        self.done = true;
                        break;
                    }
                }
            }
        }
        let parsed: Vec<_> = rows
            .par_iter()
            .map(|(line, row)| self.parse_row(*line, row))
            .collect();
        let mut batch = Batch {
            errors,
            bytes: self.reader.position().byte() - start,
            ..Batch::default()
        };
        for r in parsed {
            match r {
                Ok(rec) => batch.records.push(rec),
                Err(e) => batch.errors.push(e),
            }
        }
        Some(batch)
    }

    fn parse_row(&self, line: u64, row: &csv::StringRecord) -> Result<VideoRecord, IngestError> {
        let fail = |column: usize, message: String| IngestError::Parse {
            path: self.path.clone(),
            line,
            column: column as u64 + 1,
            message,
        };
        let mut b = RecordBuilder::default();
        for (i, cell) in row.iter().enumerate() {
            match self.columns[i] {
                // An empty cell is unknown; it must not hide an alias column.
                Some(_) if cell.trim().is_empty() => {}
                Some(key) => {
                    let val: Val = parse_scalar(key.kind(), cell)
                        .map_err(|m| fail(i, format!("field `{}`: {m}", key.name())))?;
                    b.set(key, val).map_err(|m| fail(i, m))?;
                }
                None => {
                    let raw = serde_json::value::to_raw_value(cell).expect("a string serialises");
                    b.extra(self.headers[i].clone(), raw);
                }
            }
        }
        let mut rec = b.finish().map_err(|m| fail(0, m))?;
        rec.source.get_or_insert_with(|| SourceRef {
            path: self.path_text.clone(),
            line,
        });
        resolve_media(&mut rec, &self.path, None);
        Ok(rec)
    }
}

fn csv_err(path: &Path, e: &csv::Error) -> IngestError {
    match e.kind() {
        csv::ErrorKind::Io(io) => IngestError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        _ => IngestError::Parse {
            path: path.to_owned(),
            line: e.position().map_or(0, |p| p.line()),
            column: 0,
            message: e.to_string(),
        },
    }
}
