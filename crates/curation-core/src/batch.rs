//! [`Batch`]: what ingest hands to the filters, one stretch of input at a
//! time. It sits apart from both so that filters take batches without
//! depending on ingest (ingest builds them, in `ingest`).

use crate::error::IngestError;
use crate::record::VideoRecord;
use crate::report::FilterReport;

/// Records and errors read from one stretch of input, in input order.
///
/// ```
/// use curation_core::ingest::{discover_inputs, RecordBatches};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-batch-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, "{\"id\": \"a\"}\nnot json\n{\"id\": \"b\"}\n")?;
/// let (files, _) = discover_inputs(&[&crawl]);
/// let batch = RecordBatches::new(files).next().unwrap();
/// assert_eq!(batch.records.len(), 2);
/// assert_eq!(batch.errors[0].line(), Some(2)); // the bad line, the rest goes on
/// assert_eq!(batch.bytes, 33);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Batch {
    /// Records parsed (and, with a prefilter, passing its checks).
    pub records: Vec<VideoRecord>,
    /// Counts of the records a prefilter rejected without building them;
    /// empty without one. [`Filter::apply_batch`](crate::Filter::apply_batch)
    /// adds them to the run's report.
    pub prefiltered: FilterReport,
    /// Files or lines that failed.
    pub errors: Vec<IngestError>,
    /// Input bytes consumed by this batch (for progress).
    pub bytes: u64,
}
