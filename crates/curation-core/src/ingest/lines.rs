//! JSON Lines, read in blocks of whole lines that are parsed in parallel.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    BATCH_BYTES, Batch, MAX_RECORD_BYTES, Parsed, io_err, materialize, parse_view, resolve_media,
};
use crate::error::IngestError;
use crate::filter::FilterRules;
use crate::record::SourceRef;
use crate::report::FilterReport;

/// JSON Lines in blocks: a block of whole lines is parsed in parallel.
pub(super) struct LinesReader {
    path: PathBuf,
    path_text: Arc<str>,
    file: File,
    buf: Vec<u8>,
    spans: Vec<(u64, usize, usize)>,
    next_line: u64,
    eof: bool,
    /// Discarding the rest of a line longer than [`MAX_RECORD_BYTES`].
    skipping: bool,
}

impl LinesReader {
    pub(super) fn open(path: &Path) -> Result<Self, IngestError> {
        Ok(LinesReader {
            path: path.to_owned(),
            path_text: path.display().to_string().into(),
            file: File::open(path).map_err(io_err(path))?,
            buf: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            spans: Vec::new(),
            next_line: 1,
            eof: false,
            skipping: false,
        })
    }

    pub(super) fn next_batch(&mut self, prefilter: Option<&FilterRules>) -> Option<Batch> {
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
        if self.skipping {
            // Only the over-long line's bytes are in `buf` (it was cleared).
            match memchr::memchr(b'\n', &self.buf) {
                Some(i) => {
                    self.buf.drain(..=i);
                    self.skipping = false;
                    self.next_line += 1;
                }
                None => {
                    self.buf.clear();
                    return Some(Batch {
                        bytes,
                        ..Batch::default()
                    });
                }
            }
        }
        // Whole lines only; the tail waits for the next read unless at EOF.
        let end = if self.eof {
            self.buf.len()
        } else {
            match self.buf.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                // A line longer than the limit: report it, skip the rest.
                None if self.buf.len() > MAX_RECORD_BYTES => {
                    self.buf.clear();
                    self.skipping = true;
                    return Some(Batch {
                        bytes,
                        errors: vec![IngestError::TooLarge {
                            path: self.path.clone(),
                            line: self.next_line,
                            limit: MAX_RECORD_BYTES,
                        }],
                        ..Batch::default()
                    });
                }
                // A line longer than a block: keep reading.
                None => {
                    return Some(Batch {
                        bytes,
                        ..Batch::default()
                    });
                }
            }
        };
        // Line spans (number, start, end) in a list kept across batches.
        let block = &self.buf[..end];
        self.spans.clear();
        let mut line_no = self.next_line;
        let mut begin = 0;
        let ends =
            memchr::memchr_iter(b'\n', block).chain((block.last() != Some(&b'\n')).then_some(end));
        for nl in ends {
            if block[begin..nl].iter().any(|b| !b.is_ascii_whitespace()) {
                self.spans.push((line_no, begin, nl));
            }
            line_no += 1;
            begin = nl + 1;
        }
        self.next_line = line_no;
        let path = &self.path;
        let path_text = &self.path_text;
        let batch = Batch::parse(&self.spans, bytes, |&(line, a, b), report| {
            parse_line(path, path_text, line, &block[a..b], prefilter, report)
        });
        self.buf.copy_within(end.., 0);
        self.buf.truncate(self.buf.len() - end);
        Some(batch)
    }
}

fn parse_line(
    path: &Path,
    path_text: &Arc<str>,
    line: u64,
    mut text: &[u8],
    prefilter: Option<&FilterRules>,
    report: &mut FilterReport,
) -> Option<Parsed> {
    if line == 1 {
        text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    }
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.len() > MAX_RECORD_BYTES {
        return Some(Err(IngestError::TooLarge {
            path: path.to_owned(),
            line,
            limit: MAX_RECORD_BYTES,
        }));
    }
    let view = match parse_view(text) {
        Ok(v) => v,
        Err(e) => return Some(Err(IngestError::from_json(path, line, &e))),
    };
    if let Some(e) = super::too_deep(&view, path, line) {
        return Some(Err(e));
    }
    materialize(view, prefilter, report, |rec| {
        if rec.ingest_source.is_none() {
            rec.ingest_source = Some(SourceRef {
                path: path_text.clone(),
                line,
            });
        }
        if rec.media_path.as_ref().is_some_and(|p| p.is_relative()) {
            resolve_media(rec, path, None);
        }
    })
}
