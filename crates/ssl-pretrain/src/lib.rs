//! # ssl-pretrain: VideoMAE V2 masked-video pretraining
//!
//! Self-supervised pretraining of the `videomae` model with dual masking on
//! curated, unlabelled clips, on CPU (Flex) or CUDA (feature `cuda`):
//! - [`data`]: the clip loader (shared with fine-tuning). VideoMAE lists,
//!   curation-core manifests and WebDataset shards (members decoded in
//!   place), folders of clips; the reference's frame sampling, multi-scale
//!   crop and Pillow-exact resize; parallel decoding with bounded prefetch,
//!   an order fixed by the seed, damaged clips skipped and counted.
//! - [`train`]: AdamW with the reference's parameter groups and PyTorch's
//!   update, global-norm clipping, warm-up + cosine schedule.
//! - [`run`]: the recipe, the loop, atomic checkpoints and exact resume.
//!   The `pretrain` example is the command-line front end.
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► [pretraining] ─► fine-tuning ─► report
//! ```
//!
//! ## Loading clips
//! ```no_run
//! use std::sync::{Arc, Mutex};
//! use ssl_pretrain::data::{ClipLoader, LoaderConfig, SkipReport, read_pretrain_list};
//! let clips = read_pretrain_list("pretrain_list.txt".as_ref(), None)?;
//! let loader = ClipLoader::new(Arc::new(clips), LoaderConfig { batch_size: 8, ..LoaderConfig::default() })?;
//! let report = Arc::new(Mutex::new(SkipReport::default()));
//! for batch in loader.epoch(0, 0, report.clone()) {
//!     println!("{:?} waited {:?}", batch.dims, batch.data_wait); // [32, 16, 3, 224, 224]
//! }
//! # Ok::<(), ssl_pretrain::data::DataError>(())
//! ```

#![deny(missing_docs)]

/// The Burn version this crate is built on (its optimizer works on Burn
/// modules and gradients).
pub use burn;

pub mod data;
pub mod run;
pub mod train;
