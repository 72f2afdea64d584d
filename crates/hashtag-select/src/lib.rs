//! # hashtag-select: from action vocabularies to action groups
//!
//! **Status: not implemented yet** (planned in the hashtag-select issue). This
//! crate exposes no API today; nothing here pretends to work.
//!
//! ## Role
//! The first stage of the tubelet data engine. It turns action vocabularies
//! (Kinetics, UCF101, HMDB51, Something-Something V2 class names, or any user
//! list) into hashtags by the published rules (generalisation, specification,
//! noun substitution, noun-verb order, consolidation, social/cultural
//! variants), gates them on platform-reported views (5 million by default),
//! and revises the selection adaptively from what the crawl and the later
//! filters return. One selected hashtag (or consolidated set) is one action
//! group.
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► [hashtag groups] ─► filters ─► frame selection ─► shards ─► pretraining ─► fine-tuning ─► report
//! ```
//! It reads crawled metadata as `curation_core::VideoRecord`s and writes the
//! action groups and the label map that `curation-core` uses for fine-tuning
//! lists.

#![deny(missing_docs)]
