//! # ssl-pretrain: VideoMAE V2 masked-video pretraining
//!
//! **Status: not implemented yet** (planned in a later issue). This crate
//! exposes no API today; nothing here pretends to work.
//!
//! ## Role
//! Self-supervised pretraining of the `videomae` model with dual masking
//! (encoder tube mask, decoder running-cell mask) on curated clips: the
//! shard/list loader with 16-frame sampling and multi-scale crops, AdamW with
//! warm-up and cosine schedule, atomic resumable checkpoints and progress.
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► [pretraining] ─► fine-tuning ─► report
//! ```
//! It reads `curation-core`'s WebDataset shards or VideoMAE pretraining lists
//! and composes on top of `videomae`.

#![deny(missing_docs)]
