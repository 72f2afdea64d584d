//! # curation-core: metadata ingest, filters, manifests and shards
//!
//! The metadata stage of the tubelet data engine, and the file formats every
//! later stage reads.
//!
//! ```text
//! metadata ─► hashtag groups ─► [filters] ─► frame selection ─► [shards] ─► pretraining ─► fine-tuning ─► report
//! ```
//!
//! - **Ingest** ([`ingest`]): yt-dlp `.info.json` files (folders, recursively),
//!   JSON Lines (tubelet's [`VideoRecord`] field names or yt-dlp's), CSV with
//!   a header; streamed in constant memory and parsed in parallel. Every bad
//!   file or line becomes an [`IngestError`] with path and line; the rest goes
//!   on.
//! - **Records** ([`VideoRecord`]): normalised hashtags with their original
//!   spelling ([`normalize_hashtag`], [`extract_hashtags`]), and every input
//!   key tubelet does not model kept verbatim.
//! - **Filters** ([`FilterConfig`], TOML or JSON; [`Filter`]): duration,
//!   size, aspect ratio, fps, language, region, engagement, hashtag allow/deny
//!   lists, media presence, duplicate ids and duplicate media content. A
//!   [`FilterReport`] counts each rejected record under its first failing
//!   reason and every failing reason.
//! - **Outputs** ([`curate`]): `manifest.jsonl` with [`provenance`], the
//!   VideoMAE pretraining list (`path 0 -1`), fine-tuning lists
//!   (`path label`) with a [`LabelMap`] ([`labels`]) and a train/val
//!   [`split_of`] keyed on a hash of the id ([`split`]). Every file is written
//!   under a temporary name and renamed when complete ([`atomic`]:
//!   [`AtomicFile`](atomic::AtomicFile), [`write_json`](atomic::write_json),
//!   also used by hashtag-select and frame-select). The former `output`
//!   module re-exports these under their old paths.
//! - **Shards** ([`shard`]): resumable WebDataset tar shards and their reader.
//! - **Bench data** (`synthetic`, feature `synthetic`, off by default):
//!   deterministic yt-dlp-style JSON Lines for benchmarks.
//!
//! ## Untrusted input
//! Metadata comes from crawls and is treated as hostile. Impossible values
//! (negative durations or frame rates, zero pixel sizes, NaN) are errors
//! naming the field; values nested deeper than [`MAX_NESTING`] and records
//! longer than [`ingest::MAX_RECORD_BYTES`] are refused with their own
//! error kind; messages are clipped to [`MAX_MESSAGE_CHARS`]. [`curate`]
//! rejects records whose media file lies outside the input folders and
//! [`CurateOptions::media_roots`] (`media_outside_roots`), validates every
//! option first, refuses missing inputs before writing anything, and never
//! replaces earlier outputs with those of a run that read no record.
//!
//! ## Files written by [`curate`]
//! | file | content |
//! |---|---|
//! | `manifest.jsonl` | kept records, one JSON object per line, each with its `ingest_source` (file and line) |
//! | `manifest.provenance.json` | config and its SHA-256, version, inputs, start and end time |
//! | `pretrain_list.txt` | `media_path 0 -1` per kept record whose media file exists |
//! | `train.csv`, `val.csv` | `media_path label` (0-based), when a label map is given |
//! | `label_map.json`, `labels.txt` | the classes, in index order |
//! | `filter_report.json` | counts per reason, ingest errors, output counts, provenance |
//! | `shards/shard-NNNNNN.tar` | WebDataset samples `<key>.<media ext>` + `<key>.json`, when asked |
//!
//! ## Example
//! ```no_run
//! use curation_core::{curate, CurateOptions, FilterConfig, Range};
//! let mut opts = CurateOptions::new(vec!["crawl/".into()], "out/");
//! opts.config = FilterConfig { duration: Some(Range { min: Some(3.0), max: Some(60.0) }),
//!                              ..FilterConfig::default() };
//! let summary = curate(&opts, &mut |_| {})?;
//! println!("{}", summary.report);
//! # Ok::<(), curation_core::CurationError>(())
//! ```

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Dependencies run one way, from the data types up to the run:
// `record` (VideoRecord, its fields and the borrowed view) <- `batch` and
// `filter` <- `ingest` (whose prefilter runs filter rules) <- `pipeline`.
// Filters never import ingest: what they take from it, `Batch`, lives in
// `batch`. The writers `atomic`, `split` and `labels` depend on neither
// ingest nor filters; `provenance` records the filter config and the input
// files, and `shard` shares the filters' hex encoding of SHA-256 digests.
pub mod atomic;
mod batch;
mod error;
pub mod filter;
mod hashtag;
pub mod ingest;
pub mod labels;
#[doc(hidden)]
pub mod output;
mod pipeline;
pub mod provenance;
mod record;
mod report;
pub mod shard;
pub mod split;
#[cfg(feature = "synthetic")]
#[cfg_attr(docsrs, doc(cfg(feature = "synthetic")))]
pub mod synthetic;

pub use error::{
    CurationError, IngestError, IngestFailure, InvalidValue, MAX_CONFIG_BYTES, MAX_MESSAGE_CHARS,
    read_capped,
};
pub use filter::{Filter, FilterConfig, FilterRules, Range, Reason};
pub use hashtag::{Hashtag, extract_hashtags, normalize_hashtag};
pub use labels::{LabelClass, LabelIndex, LabelMap};
pub use pipeline::{CurateOptions, CurateSummary, FinetuneCounts, OutputCounts, Progress, curate};
pub use provenance::Provenance;
pub use record::view::MAX_NESTING;
pub use record::{Extras, SourceRef, VideoRecord};
pub use report::{EXAMPLES_PER_REASON, FilterReport, MAX_LISTED_ERRORS, ReasonStats};
pub use shard::{ShardError, ShardLimits};
pub use split::{Split, split_of};
