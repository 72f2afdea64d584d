//! # hashtag-select: from action vocabularies to action groups
//!
//! The first stage of the tubelet data engine (SPEC 1a). The published
//! system picked 386 hashtags, one per action group, by hand-applied rules
//! and a platform-views gate; this crate makes that a reproducible library
//! and closes the loop the paper calls "adaptive".
//!
//! ```text
//! labels ─► candidates (rules) ─┐
//! posts ──► statistics ─────────┼─► views gate ─► groups (consolidated) ─► label map
//! views ──► (platform figures) ─┘                     │
//!                 adaptive loop: plan(budget) ─► crawl ─► filters, frame selection ─► observe(...)
//! ```
//!
//! - [`words`]: label words (`ApplyEyeMakeup`, `air_drumming`, `playing
//!   basketball`), gerunds, roots, splitting concatenated tags.
//! - [`vocab`]: class lists (txt, UCF101 `classInd.txt`, JSON, Kinetics CSV).
//! - [`rules`]: candidates with provenance: generalisation, noun
//!   substitution, both noun-verb orders, specification, variants.
//! - [`tables`]: user style (specification) and synonym (variant) tables.
//! - [`stats`]: streaming per-tag counts and focus-tag co-occurrence in
//!   bounded memory (Space-Saving), platform views, the views gate.
//! - [`consolidate`]: merging by synonym, root, Jaccard or NPMI.
//! - [`groups`]: the one-shot selection and its JSON / label map.
//! - [`oneshot`]: the whole one-shot selection in one call
//!   ([`select_from_records`], or [`OneShot`] to feed posts as they stream).
//! - [`output`]: where the selection's files go, checked against the
//!   inputs before anything is written, and written all-or-nothing.
//! - [`adaptive`]: the closed loop, `plan(budget)` / `observe(...)`,
//!   deterministic under a seed, serialisable; [`adaptive::rounds`] runs
//!   it as files between crawl rounds.
//! - [`simulate`]: a synthetic platform to compare the loop with a static
//!   selection.
//!
//! ## Example
//! ```
//! use hashtag_select::{CandidateSet, RuleConfig, SelectConfig, StatsConfig, TagStats,
//!                      TagViews, Vocabulary, select_groups, words::WordSplitter};
//! let vocab = Vocabulary::from_names("demo", &["playing basketball", "dunking basketball", "salsa dancing"]);
//! let rules = RuleConfig::default();
//! let cands = CandidateSet::generate(&[vocab], &rules, &WordSplitter::new());
//! let focus: Vec<&String> = cands.candidates.keys().collect();
//! let mut stats = TagStats::new(StatsConfig::default(), &focus);
//! stats.add_post(["basketball", "nba"], Some(9_000_000));
//! stats.add_post(["salsa"], Some(1_000));
//! let mut views = TagViews::default();
//! views.insert("salsa", 80_000_000);
//! let sel = select_groups(&cands, &stats, &views, &rules.synonyms, &SelectConfig::default()).unwrap();
//! let names: Vec<&str> = sel.groups.iter().map(|g| g.name.as_str()).collect();
//! assert_eq!(names, ["basketball", "salsa"]);
//! ```

#![deny(missing_docs)]

pub mod adaptive;
pub mod consolidate;
mod error;
pub mod groups;
mod input;
pub mod oneshot;
pub mod output;
pub mod rules;
pub mod simulate;
pub mod stats;
pub mod tables;
pub mod vocab;
pub mod words;

pub use adaptive::{AdaptiveConfig, AdaptiveLoop, CrawlRequest, TagObservation};
pub use consolidate::{ConsolidationConfig, MergeReason};
pub use error::HashtagError;
pub use groups::{ActionGroup, SelectConfig, Selection, select_groups};
pub use input::MAX_TEXT_BYTES;
pub use oneshot::{OneShot, OneShotOutput, select_from_records};
pub use rules::{Candidate, CandidateSet, Provenance, Rule, RuleConfig, UngroupedLabel};
pub use stats::{GateDecision, StatsConfig, TagStats, TagViews, ViewsGate};
pub use tables::{StyleTable, SynonymTable};
pub use vocab::{ActionLabel, SkippedLabel, UngroupedReason, Vocabulary};
