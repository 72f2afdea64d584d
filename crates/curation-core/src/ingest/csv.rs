//! CSV with a header: columns named like JSON fields (tubelet's or yt-dlp's);
//! other columns are kept as extra string fields.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{BATCH_ROWS, Batch, Parsed, io_err, materialize, resolve_media};
use crate::error::IngestError;
use crate::fields::{Key, parse_scalar};
use crate::filter::FilterRules;
use crate::record::SourceRef;
use crate::report::FilterReport;
use crate::view::{RawRef, RecordView};

/// An open CSV file.
pub(super) struct CsvFile {
    path: PathBuf,
    path_text: Arc<str>,
    reader: csv::Reader<File>,
    columns: Vec<Option<Key>>,
    headers: Vec<String>,
    done: bool,
}

impl CsvFile {
    pub(super) fn open(path: &Path) -> Result<Self, IngestError> {
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

    pub(super) fn next_batch(&mut self, prefilter: Option<&FilterRules>) -> Option<Batch> {
        if self.done {
            return None;
        }
        let start = self.reader.position().byte();
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut errors = Vec::new();
        let mut row = csv::StringRecord::new();
        // Bad rows count towards the batch too: memory stays bounded.
        while rows.len() + errors.len() < BATCH_ROWS {
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
            Some(Err(IngestError::Parse {
                path: self.path.clone(),
                line,
                column: column as u64 + 1,
                message,
            }))
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
