//! # tubelet
//!
//! Human action recognition from curated short social-media videos, in Rust:
//! a data engine that turns crawled metadata and videos into pretraining
//! clips, VideoMAE V2 masked-video pretraining written in Burn, and
//! fine-tuning plus evaluation on UCF101, HMDB51, Kinetics-400 and
//! Something-Something V2.
//!
//! This facade re-exports the member crates; depend on a single crate when you
//! need only one stage.
//!
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► pretraining ─► fine-tuning ─► report
//!             hashtags          curation   frames             curation  pretrain       finetune
//! ```
//!
//! | module | crate | stage |
//! |---|---|---|
//! | [`curation`] | `curation-core` | ingest, filters, manifests, VideoMAE lists, WebDataset shards |
//! | [`hashtags`] | `hashtag-select` | action vocabularies to hashtag groups, adaptive crawl loop |
//! | [`frames`] | `frame-select` | video I/O, shots, longest scene, quality, near-duplicates, person detection |
//! | [`videomae`] | `videomae` | VideoMAE V2 in Burn: encoder, classifier, pretraining model, checkpoint import |
//! | [`pretrain`] | `ssl-pretrain` | masked-video pretraining (planned) |
//! | [`finetune`] | `finetune-bench` | fine-tuning and benchmark evaluation (planned) |

#![deny(missing_docs)]

pub use curation_core as curation;
pub use finetune_bench as finetune;
pub use frame_select as frames;
pub use hashtag_select as hashtags;
pub use ssl_pretrain as pretrain;
pub use videomae;
