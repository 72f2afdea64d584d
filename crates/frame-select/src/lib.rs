//! # frame-select: decode-once vision selection of clips
//!
//! //! ## Role
//! The vision stage of the tubelet data engine. From one decoding pass per
//! video (video-rs over FFmpeg) it detects shots (PySceneDetect-equivalent
//! content and adaptive detectors), keeps the longest scene, scores frame
//! quality, computes a near-duplicate signature, checks for people (HOG
//! people detector on CPU, YOLOv8 in Burn) and extracts the kept clip.
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► [frame selection] ─► shards ─► pretraining ─► fine-tuning ─► report
//! ```
//! It consumes the manifest written by `curation-core` and reports in the same
//! style as `curation_core::FilterReport`; the clips it keeps go into
//! `curation-core`'s WebDataset shards.

#![deny(missing_docs)]

pub mod detect;
pub mod hash;
pub mod quality;
pub mod scene;
pub mod select;
pub mod video;
