//! # finetune-bench: fine-tuning and evaluation on the action benchmarks
//!
//! **Status: not implemented yet** (planned in a later issue). This crate
//! exposes no API today; nothing here pretends to work.
//!
//! ## Role
//! Fine-tuning of a pretrained `videomae` encoder and its evaluation on
//! UCF101, HMDB51, Kinetics-400 and Something-Something V2: parsers for their
//! official split files, the VideoMAE V2 fine-tuning recipe (layer-wise lr
//! decay, mixup/cutmix, drop path), multi-view testing and top-1/top-5
//! reports.
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► pretraining ─► [fine-tuning ─► report]
//! ```
//! It composes on top of `videomae` and reads fine-tuning lists written by
//! `curation-core` or by the benchmarks' own split files.

#![deny(missing_docs)]
