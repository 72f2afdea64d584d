//! What the loop asks for and what it is told back.

use std::collections::BTreeMap;

use curation_core::VideoRecord;
use serde::{Deserialize, Serialize};

/// Crawl `posts` more posts of `tag` (for group `group`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlRequest {
    /// Tag to crawl.
    pub tag: String,
    /// Its group's id.
    pub group: usize,
    /// Posts to fetch.
    pub posts: u64,
}

/// A tag seen in crawled posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighbourCount {
    /// Normal form.
    pub tag: String,
    /// Crawled posts carrying it.
    pub posts: u64,
    /// Platform views, when the crawler saw them.
    pub views: Option<u64>,
}

/// What one crawl request returned, after the later stages ran on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagObservation {
    /// The crawled tag.
    pub tag: String,
    /// New posts returned.
    pub crawled: u64,
    /// The platform has no more posts for it.
    pub exhausted: bool,
    /// Posts that passed the metadata filters (curation-core).
    pub passed_filters: u64,
    /// Clips kept by frame selection (frame-select).
    pub accepted_clips: u64,
    /// Other tags in the crawled posts.
    pub neighbours: Vec<NeighbourCount>,
}

impl TagObservation {
    /// Builds an observation from the crawled records of `tag`: `passed`
    /// says whether the metadata filters kept a record (e.g. its id is in
    /// curation-core's `manifest.jsonl`), `clips` how many clips frame
    /// selection kept from it (e.g. from frame-select's `selections.jsonl`).
    pub fn from_records(
        tag: &str,
        records: &[VideoRecord],
        exhausted: bool,
        passed: impl Fn(&VideoRecord) -> bool,
        clips: impl Fn(&VideoRecord) -> u64,
    ) -> Self {
        let mut neighbours: BTreeMap<&str, u64> = BTreeMap::new();
        let (mut pass, mut kept) = (0, 0);
        for r in records {
            let mut seen: Vec<&str> = r
                .hashtags
                .iter()
                .map(|h| h.tag.as_str())
                .filter(|t| *t != tag)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *neighbours.entry(t).or_default() += 1;
            }
            if passed(r) {
                pass += 1;
                kept += clips(r);
            }
        }
        TagObservation {
            tag: tag.to_owned(),
            crawled: records.len() as u64,
            exhausted,
            passed_filters: pass,
            accepted_clips: kept,
            neighbours: neighbours
                .into_iter()
                .map(|(t, n)| NeighbourCount {
                    tag: t.to_owned(),
                    posts: n,
                    views: None,
                })
                .collect(),
        }
    }
}
