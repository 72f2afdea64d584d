//! # videomae: VideoMAE / VideoMAE V2 in Burn
//!
//! **Status: not implemented yet** (planned in the videomae issue). This crate
//! exposes no API today; nothing here pretends to work.
//!
//! ## Role
//! The model core of tubelet: the VideoMAE V2 encoder and decoder (tubelet
//! embedding, fixed sinusoid positions, pre-norm blocks with q/v biases),
//! tube and running-cell masking, the normalised-pixel target and losses, the
//! classification head, and strict import of Hugging Face and original
//! `.pth` checkpoints. CPU backend for tests, CUDA behind a feature.
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► [model used by pretraining and fine-tuning] ─► report
//! ```
//! It depends on no sibling crate: `ssl-pretrain` and `finetune-bench`
//! compose on top of it, never the other way round.

#![deny(missing_docs)]
