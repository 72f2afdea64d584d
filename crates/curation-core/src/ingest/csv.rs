//! CSV with a header: columns named like JSON fields (tubelet's or yt-dlp's);
//! other columns are kept as extra string fields.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    BATCH_BYTES, BATCH_ROWS, Batch, MAX_RECORD_BYTES, Parsed, io_err, materialize, resolve_media,
};
use crate::error::IngestError;
use crate::filter::FilterRules;
use crate::record::SourceRef;
use crate::record::fields::{Key, parse_scalar};
use crate::record::view::{RawRef, RecordView};
use crate::report::FilterReport;

/// The file under the CSV reader, noting where its line ends differ from
/// what the csv crate counts.
///
/// The csv crate counts lines by `\n` only, and with CRLF line ends it stops
/// a record at the `\r` and counts the `\n` only when it reads the next
/// record, whose position then points at that `\n` with a line number one
/// too low; a lone `\r` (old Mac line ends), which it does treat as a record
/// end, it never counts. Knowing these offsets corrects both.
struct CrlfTracker {
    file: File,
    /// Offset of the next byte read.
    offset: u64,
    /// Offset of a `\r` that ended the last read (its kind depends on the
    /// next byte).
    pending_cr: Option<u64>,
    /// Line ends the csv crate miscounts, in file order, not yet passed by a
    /// query (at most a read-ahead buffer's worth).
    marks: VecDeque<Mark>,
    /// Lone `\r` bytes already passed by queries.
    lone_cr_before: u64,
    /// Where the record being read starts: reading more than
    /// [`MAX_RECORD_BYTES`] past it fails (an unclosed quote would otherwise
    /// make the rest of a huge file one record, held in memory).
    record_start: u64,
    /// Set when that limit stopped the reader.
    too_large: bool,
}

#[derive(Clone, Copy)]
enum Mark {
    /// A `\n` that follows a `\r`.
    LfAfterCr(u64),
    /// A `\r` not followed by `\n`.
    LoneCr(u64),
}

impl Mark {
    fn offset(self) -> u64 {
        match self {
            Mark::LfAfterCr(o) | Mark::LoneCr(o) => o,
        }
    }
}

impl Read for CrlfTracker {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.offset.saturating_sub(self.record_start) > MAX_RECORD_BYTES as u64 {
            self.too_large = true;
            return Err(std::io::Error::other("record too long"));
        }
        let n = self.file.read(buf)?;
        let data = &buf[..n];
        if let Some(cr) = self.pending_cr.take() {
            // At the end of the file (n == 0) the `\r` is lone too.
            if data.first() == Some(&b'\n') {
                self.marks.push_back(Mark::LfAfterCr(self.offset));
            } else {
                self.marks.push_back(Mark::LoneCr(cr));
            }
        }
        for i in memchr::memchr2_iter(b'\r', b'\n', data) {
            let at = self.offset + i as u64;
            match (data[i], data.get(i + 1)) {
                (b'\n', _) if i > 0 && data[i - 1] == b'\r' => {
                    self.marks.push_back(Mark::LfAfterCr(at));
                }
                (b'\r', None) => self.pending_cr = Some(at),
                (b'\r', Some(&next)) if next != b'\n' => self.marks.push_back(Mark::LoneCr(at)),
                _ => {}
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl CrlfTracker {
    fn new(file: File) -> Self {
        CrlfTracker {
            file,
            offset: 0,
            pending_cr: None,
            marks: VecDeque::new(),
            lone_cr_before: 0,
            record_start: 0,
            too_large: false,
        }
    }

    /// What to add to the csv crate's line for the record or error at
    /// `pos`: the lone `\r` before it, plus 1 when it starts on the pending
    /// `\n` of a CRLF. Queries come in increasing order.
    fn correction(&mut self, pos: &csv::Position) -> u64 {
        while let Some(&m) = self.marks.front()
            && m.offset() < pos.byte()
        {
            if let Mark::LoneCr(_) = m {
                self.lone_cr_before += 1;
            }
            self.marks.pop_front();
        }
        let pending_lf = matches!(self.marks.front(), Some(Mark::LfAfterCr(o)) if *o == pos.byte());
        self.lone_cr_before + u64::from(pending_lf)
    }
}

/// An open CSV file.
pub(super) struct CsvFile {
    path: PathBuf,
    path_text: Arc<str>,
    reader: csv::Reader<CrlfTracker>,
    columns: Vec<Option<Key>>,
    headers: Vec<String>,
    done: bool,
}

impl CsvFile {
    pub(super) fn open(path: &Path) -> Result<Self, IngestError> {
        let file = File::open(path).map_err(io_err(path))?;
        let tracker = CrlfTracker::new(file);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(tracker);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_err(path, &e, 0))?
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

    pub(super) fn next_batch(&mut self, prefilter: Option<&FilterRules>) -> Option<Batch> {
        if self.done {
            return None;
        }
        let start = self.reader.position().byte();
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut errors = Vec::new();
        let mut row = csv::StringRecord::new();
        // Bad rows count towards the batch too, and so do bytes: memory
        // stays bounded.
        let mut batch_bytes = 0;
        while rows.len() + errors.len() < BATCH_ROWS && batch_bytes < BATCH_BYTES {
            let at = self.reader.position().clone();
            self.reader.get_mut().record_start = at.byte();
            match self.reader.read_record(&mut row) {
                Ok(true) => {
                    let line = row
                        .position()
                        .map_or(0, |p| p.line() + self.reader.get_mut().correction(p));
                    batch_bytes += row.as_slice().len();
                    rows.push((line, row.clone()));
                }
                Err(_) if self.reader.get_ref().too_large => {
                    // The CSV cannot be resynchronised after such a record.
                    let line = at.line() + self.reader.get_mut().correction(&at);
                    errors.push(IngestError::TooLarge {
                        path: self.path.clone(),
                        line,
                        limit: MAX_RECORD_BYTES,
                    });
                    self.done = true;
                    break;
                }
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                    let fix = e
                        .position()
                        .map_or(0, |p| self.reader.get_mut().correction(p));
                    errors.push(csv_err(&self.path, &e, fix));
                    if fatal {
                        self.done = true;
                        break;
                    }
                }
            }
        }
        let bytes = self.reader.position().byte() - start;
        let mut batch = Batch::parse(&rows, bytes, |(line, row), report| {
            self.parse_row(*line, row, prefilter, report)
        });
        // Malformed rows (from the CSV reader), then invalid values.
        errors.append(&mut batch.errors);
        batch.errors = errors;
        Some(batch)
    }

    fn parse_row(
        &self,
        line: u64,
        row: &csv::StringRecord,
        prefilter: Option<&FilterRules>,
        report: &mut FilterReport,
    ) -> Option<Parsed> {
        let fail = |column: usize, message: String| {
            Some(Err(IngestError::parse(
                &self.path,
                line,
                column as u64 + 1,
                message,
            )))
        };
        let mut view = RecordView::default();
        for (i, cell) in row.iter().enumerate() {
            match self.columns[i] {
                // An empty cell is unknown; it must not hide an alias column.
                Some(_) if cell.trim().is_empty() => {}
                Some(key) => {
                    let val = match parse_scalar(key.kind(), cell) {
                        Ok(v) => v,
                        Err(m) => return fail(i, format!("field `{}`: {m}", key.name())),
                    };
                    if let Err(m) = view.set(key, val) {
                        return fail(i, m);
                    }
                }
                None => {
                    let raw = serde_json::value::to_raw_value(cell).expect("a string serialises");
                    view.extra(Cow::Borrowed(&self.headers[i]), RawRef::Owned(raw));
                }
            }
        }
        if let Err(m) = view.validate() {
            return Some(Err(IngestError::Parse {
                path: self.path.clone(),
                line,
                column: 0,
                message: m,
            }));
        }
        materialize(view, prefilter, report, |rec| {
            rec.ingest_source.get_or_insert_with(|| SourceRef {
                path: self.path_text.clone(),
                line,
            });
            resolve_media(rec, &self.path, None);
        })
    }
}

/// `fix`: the CRLF correction of the error's line (see [`CrlfTracker`]).
fn csv_err(path: &Path, e: &csv::Error, fix: u64) -> IngestError {
    match e.kind() {
        csv::ErrorKind::Io(io) => IngestError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        _ => IngestError::Parse {
            path: path.to_owned(),
            line: e.position().map_or(0, |p| p.line() + fix),
            column: 0,
            message: crate::error::clip(e.to_string()),
        },
    }
}
