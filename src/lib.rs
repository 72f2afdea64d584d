//! # tubelet
//!
//! Human action recognition from curated short social-media videos, in Rust:
//! a data engine that turns crawled metadata and videos into pretraining
//! clips, VideoMAE V2 masked-video pretraining written in Burn, and
//! fine-tuning plus evaluation on UCF101, HMDB51, Kinetics-400 and
//! Something-Something V2.
//!
//! This facade re-exports the member crates, each behind a Cargo feature of
//! the module's name; depend on a single crate when you need only one stage.
//!
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► pretraining ─► fine-tuning ─► report
//!             hashtags          curation   frames             curation  pretrain       finetune
//! ```
//!
//! | module | feature | crate | stage | links Burn | links FFmpeg |
//! |---|---|---|---|---|---|
//! | `curation` | `curation` (default) | `curation-core` | ingest, filters, manifests, VideoMAE lists, WebDataset shards | no | no |
//! | `hashtags` | `hashtags` | `hashtag-select` | action vocabularies to hashtag groups, adaptive crawl loop | no | no |
//! | `frames` | `frames` | `frame-select` | video I/O, shots, longest scene, quality, near-duplicates, person detection | yes (YOLOv8, through `videomae`) | yes |
//! | `videomae` | `videomae` | `videomae` | VideoMAE V2 in Burn: encoder, classifier, pretraining model, checkpoint import | yes | no |
//! | `pretrain` | `pretrain` | `ssl-pretrain` | VideoMAE V2 pretraining: clip loader, AdamW and schedule, the loop with atomic checkpoints and exact resume | yes | yes |
//! | `finetune` | `finetune` | `finetune-bench` | fine-tuning and benchmark evaluation (planned) | no | no |
//!
//! `full` turns on every stage. The default (`curation` alone) builds
//! neither Burn nor FFmpeg's bindings:
//!
//! ```toml
//! [dependencies]
//! tubelet = { version = "0.1", default-features = false, features = ["curation", "hashtags"] }
//! ```
//!
//! ```
//! # #[cfg(feature = "curation")] {
//! use tubelet::curation::FilterConfig;
//! // The published filter settings, checked before any record is read.
//! let config = FilterConfig::default();
//! assert!(config.validate().is_ok());
//! # }
//! ```

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Metadata curation: ingest, filters, manifests, WebDataset shards
/// (`curation-core`; feature `curation`, on by default).
#[cfg(feature = "curation")]
#[cfg_attr(docsrs, doc(cfg(feature = "curation")))]
pub use curation_core as curation;
/// Fine-tuning and benchmark evaluation, planned (`finetune-bench`; feature
/// `finetune`).
#[cfg(feature = "finetune")]
#[cfg_attr(docsrs, doc(cfg(feature = "finetune")))]
pub use finetune_bench as finetune;
/// Decode-once vision selection of clips (`frame-select`; feature `frames`;
/// links FFmpeg's libav*, and Burn for YOLOv8).
#[cfg(feature = "frames")]
#[cfg_attr(docsrs, doc(cfg(feature = "frames")))]
pub use frame_select as frames;
/// Action vocabularies to hashtag groups (`hashtag-select`; feature
/// `hashtags`).
#[cfg(feature = "hashtags")]
#[cfg_attr(docsrs, doc(cfg(feature = "hashtags")))]
pub use hashtag_select as hashtags;
/// Masked-video pretraining, planned (`ssl-pretrain`; feature `pretrain`).
#[cfg(feature = "pretrain")]
#[cfg_attr(docsrs, doc(cfg(feature = "pretrain")))]
pub use ssl_pretrain as pretrain;
/// VideoMAE V2 in Burn (`videomae`; feature `videomae`; links Burn).
#[cfg(feature = "videomae")]
#[cfg_attr(docsrs, doc(cfg(feature = "videomae")))]
pub use videomae;
