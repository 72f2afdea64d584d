//! What the loop asks for and what it is told back.

use std::collections::BTreeMap;

use curation_core::VideoRecord;
use serde::{Deserialize, Serialize};

/// Crawl `posts` more posts of `tag` (for group `group`).
///
/// ```
/// use hashtag_select::{AdaptiveConfig, AdaptiveLoop, TagObservation};
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// // `sel`: a one-shot selection with one group, `piano`.
/// let config = AdaptiveConfig { probe_posts: 20, target_clips: 10, ..AdaptiveConfig::default() };
/// let mut l = AdaptiveLoop::new(&sel, &Default::default(), views, config)?;
/// let r = &l.plan(5)[0];
/// assert_eq!((r.tag.as_str(), r.group, r.posts), ("piano", 0, 5)); // the budget caps the probe
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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
///
/// ```
/// use curation_core::VideoRecord;
/// use hashtag_select::TagObservation;
/// let rec = |id: &str, tags: &[&str]| -> VideoRecord {
///     serde_json::from_value(serde_json::json!({"id": id, "hashtags": tags})).unwrap()
/// };
/// let records = [rec("a", &["salsa", "bachata"]), rec("b", &["salsa", "bachata", "fyp"])];
/// let obs = TagObservation::from_records("salsa", &records, false, |_| true, |_| 1);
/// let n = &obs.neighbours[0];
/// assert_eq!((n.tag.as_str(), n.posts, n.views), ("bachata", 2, None));
/// ```
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
///
/// ```
/// use curation_core::VideoRecord;
/// use hashtag_select::TagObservation;
/// let rec = |id: &str| -> VideoRecord {
///     serde_json::from_value(serde_json::json!({"id": id, "hashtags": ["salsa", "dance"]})).unwrap()
/// };
/// let records = [rec("a"), rec("b"), rec("c")];
/// // "a" and "b" passed the filters; frame selection kept 2 clips of "a" only.
/// let obs = TagObservation::from_records("salsa", &records, true,
///     |r| r.id != "c", |r| if r.id == "a" { 2 } else { 0 });
/// assert_eq!((obs.crawled, obs.passed_filters, obs.accepted_clips), (3, 2, 2));
/// assert!(obs.exhausted);
/// assert_eq!(obs.neighbours[0].tag, "dance");
/// ```
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
