//! Per-group and per-tag state of the adaptive loop, and its event log.

use serde::{Deserialize, Serialize};

use crate::rules::{LabelRef, Provenance};

use super::TagObservation;

/// Where a group stands.
///
/// ```
/// use hashtag_select::adaptive::GroupStatus;
/// use hashtag_select::{AdaptiveConfig, AdaptiveLoop, TagObservation};
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// // `sel`: a one-shot selection with one group, `piano`.
/// let config = AdaptiveConfig { probe_posts: 20, target_clips: 10, ..AdaptiveConfig::default() };
/// let mut l = AdaptiveLoop::new(&sel, &Default::default(), views, config)?;
/// assert_eq!(l.groups()[0].status, GroupStatus::Active);
/// l.plan(20);
/// l.observe(&[TagObservation { tag: "piano".into(), crawled: 20, passed_filters: 20,
///                              accepted_clips: 10, ..Default::default() }])?;
/// assert_eq!(l.groups()[0].status, GroupStatus::ReachedTarget);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    /// Still collecting.
    Active,
    /// Reached its clip target.
    ReachedTarget,
    /// No open tags left.
    OutOfCandidates,
    /// Consolidated into another group (its id).
    MergedInto(usize),
}

/// One action group in the loop.
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
/// l.plan(20);
/// l.observe(&[TagObservation { tag: "piano".into(), crawled: 20, passed_filters: 10,
///                              accepted_clips: 4, ..Default::default() }])?;
/// let g = &l.groups()[0];
/// assert_eq!((g.id, g.name.as_str(), g.crawled, g.clips), (0, "piano", 20, 4));
/// assert!(g.is_active()); // 4 of 10 clips
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Id (index).
    pub id: usize,
    /// Name (from the selection).
    pub name: String,
    /// Vocabulary labels behind it.
    pub seed_labels: Vec<LabelRef>,
    /// Clips kept so far.
    pub clips: u64,
    /// Posts crawled so far.
    pub crawled: u64,
    /// Status.
    pub status: GroupStatus,
}

impl GroupState {
    pub(crate) fn new(id: usize, name: &str, seed_labels: Vec<LabelRef>) -> Self {
        GroupState {
            id,
            name: name.to_owned(),
            seed_labels,
            clips: 0,
            crawled: 0,
            status: GroupStatus::Active,
        }
    }

    /// Whether it still collects.
    pub fn is_active(&self) -> bool {
        self.status == GroupStatus::Active
    }
}

/// Which stage made a tag's yield too low.
///
/// ```
/// use hashtag_select::adaptive::{DropReason, TagStatus};
/// use hashtag_select::{AdaptiveConfig, AdaptiveLoop, TagObservation};
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// // `sel`: a one-shot selection with one group, `piano`.
/// let config = AdaptiveConfig { probe_posts: 20, target_clips: 10, ..AdaptiveConfig::default() };
/// let mut l = AdaptiveLoop::new(&sel, &Default::default(), views, config)?;
/// l.plan(50);
/// // 50 posts, none past the metadata filters: the yield is confidently low.
/// l.observe(&[TagObservation { tag: "piano".into(), crawled: 50, ..Default::default() }])?;
/// assert_eq!(l.tags()["piano"].status, TagStatus::Dropped(DropReason::MetadataFilters));
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Most posts failed the metadata filters.
    MetadataFilters,
    /// Posts passed the filters but frame selection kept few clips (no
    /// person, wrong content, too short).
    FrameSelection,
}

/// Where a tag stands.
///
/// ```
/// use hashtag_select::adaptive::TagStatus;
/// use hashtag_select::{AdaptiveConfig, AdaptiveLoop, TagObservation};
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// // `sel`: a one-shot selection with one group, `piano`.
/// let config = AdaptiveConfig { probe_posts: 20, target_clips: 10, ..AdaptiveConfig::default() };
/// let mut l = AdaptiveLoop::new(&sel, &Default::default(), views, config)?;
/// assert_eq!(l.tags()["piano"].status, TagStatus::Candidate);
/// l.plan(20);
/// l.observe(&[TagObservation { tag: "piano".into(), crawled: 20, exhausted: true,
///                              ..Default::default() }])?;
/// assert_eq!(l.tags()["piano"].status, TagStatus::Exhausted);
/// assert!(!l.tags()["piano"].is_open());
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagStatus {
    /// Not crawled yet.
    Candidate,
    /// Crawled and still in use.
    Active,
    /// The platform has no more posts.
    Exhausted,
    /// Yield too low.
    Dropped(DropReason),
}

/// One tag in the loop.
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
/// l.plan(20);
/// l.observe(&[TagObservation { tag: "piano".into(), crawled: 20, passed_filters: 10,
///                              accepted_clips: 5, ..Default::default() }])?;
/// let s = &l.tags()["piano"];
/// assert_eq!((s.group, s.crawled, s.passed_filters, s.accepted), (0, 20, 10, 5));
/// // Beta(1, 3) prior + 5 hits in 20 posts: Beta(6, 18), mean 6 / 24.
/// assert_eq!(s.posterior((1.0, 3.0)), (6.0, 18.0));
/// assert_eq!(s.yield_mean((1.0, 3.0)), 0.25);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagState {
    /// Its group's id: always a group not merged into another (a merge
    /// moves the tags of the absorbed group).
    pub group: usize,
    /// Status.
    pub status: TagStatus,
    /// Posts crawled.
    pub crawled: u64,
    /// Of those, passed the metadata filters.
    pub passed_filters: u64,
    /// Clips kept.
    pub accepted: u64,
    /// Why it is a candidate.
    pub provenance: Vec<Provenance>,
}

impl TagState {
    pub(crate) fn new(group: usize, provenance: Vec<Provenance>) -> Self {
        TagState {
            group,
            status: TagStatus::Candidate,
            crawled: 0,
            passed_filters: 0,
            accepted: 0,
            provenance,
        }
    }

    /// Whether it can still be crawled.
    pub fn is_open(&self) -> bool {
        matches!(self.status, TagStatus::Candidate | TagStatus::Active)
    }

    pub(crate) fn record(&mut self, o: &TagObservation) {
        self.crawled = self.crawled.saturating_add(o.crawled);
        self.passed_filters = self.passed_filters.saturating_add(o.passed_filters);
        self.accepted = self.accepted.saturating_add(o.accepted_clips);
        if self.is_open() {
            self.status = if o.exhausted {
                TagStatus::Exhausted
            } else {
                TagStatus::Active
            };
        }
    }

    /// Beta posterior of the yield (clips per crawled post; a post gives
    /// at most one clip in the estimate).
    pub fn posterior(&self, prior: (f64, f64)) -> (f64, f64) {
        let hits = self.accepted.min(self.crawled) as f64;
        (prior.0 + hits, prior.1 + self.crawled as f64 - hits)
    }

    /// Posterior mean of the yield.
    pub fn yield_mean(&self, prior: (f64, f64)) -> f64 {
        let (a, b) = self.posterior(prior);
        a / (a + b)
    }

    /// Posterior mean + 2 standard deviations.
    pub fn yield_upper(&self, prior: (f64, f64)) -> f64 {
        let (a, b) = self.posterior(prior);
        let mean = a / (a + b);
        let var = a * b / ((a + b).powi(2) * (a + b + 1.0));
        mean + 2.0 * var.sqrt()
    }

    pub(crate) fn drop_reason(&self) -> DropReason {
        // Nothing got past the filters: the frame stage never saw a post, so
        // comparing the two shares (0 against 0 / max(0, 1)) would blame it.
        if self.passed_filters == 0 {
            return DropReason::MetadataFilters;
        }
        let pass = self.passed_filters as f64 / self.crawled.max(1) as f64;
        let keep = self.accepted as f64 / self.passed_filters.max(1) as f64;
        if pass < keep {
            DropReason::MetadataFilters
        } else {
            DropReason::FrameSelection
        }
    }
}

/// Something the loop decided.
///
/// ```
/// use hashtag_select::adaptive::{DropReason, Event, GroupStatus};
/// use hashtag_select::{AdaptiveConfig, AdaptiveLoop, TagObservation};
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// // `sel`: a one-shot selection with one group, `piano`.
/// let config = AdaptiveConfig { probe_posts: 20, target_clips: 10, ..AdaptiveConfig::default() };
/// let mut l = AdaptiveLoop::new(&sel, &Default::default(), views, config)?;
/// l.plan(50);
/// // 50 posts, none past the metadata filters: the yield is confidently low.
/// l.observe(&[TagObservation { tag: "piano".into(), crawled: 50, ..Default::default() }])?;
/// let tag = "piano".to_owned();
/// assert_eq!(l.events(), [
///     Event::Dropped { round: 1, tag, reason: DropReason::MetadataFilters },
///     Event::GroupDone { round: 1, group: 0, status: GroupStatus::OutOfCandidates },
/// ]);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A tag was dropped.
    Dropped {
        /// Plan round.
        round: u64,
        /// The tag.
        tag: String,
        /// Why.
        reason: DropReason,
    },
    /// A co-occurring tag joined a group.
    Promoted {
        /// Plan round.
        round: u64,
        /// The tag.
        tag: String,
        /// The group.
        group: usize,
        /// Share of its sightings in that group's crawls.
        share: f64,
    },
    /// Two groups were consolidated.
    Merged {
        /// Plan round.
        round: u64,
        /// Surviving group.
        kept: usize,
        /// Absorbed group.
        merged: usize,
        /// The smaller of the two overlap shares.
        overlap: f64,
    },
    /// A group stopped.
    GroupDone {
        /// Plan round.
        round: u64,
        /// The group.
        group: usize,
        /// Why.
        status: GroupStatus,
    },
}

/// JSON maps need string keys: pairs are written as `[a, b, count]` lists.
pub(crate) mod pair_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        m: &BTreeMap<(usize, usize), u64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.iter()
            .map(|(&(a, b), &c)| (a, b, c))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(usize, usize), u64>, D::Error> {
        Ok(Vec::<(usize, usize, u64)>::deserialize(d)?
            .into_iter()
            .map(|(a, b, c)| ((a, b), c))
            .collect())
    }
}
