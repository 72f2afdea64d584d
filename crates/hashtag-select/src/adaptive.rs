//! The adaptive loop (SPEC 1a: "the selection is revised from what the crawl
//! returns"): [`AdaptiveLoop::plan`] says which tags to crawl next and how
//! many posts each; [`AdaptiveLoop::observe`] takes what the crawl and the
//! later filters returned per tag. Between the two the loop
//!
//! - estimates each tag's yield (kept clips per crawled post) as a Beta
//!   posterior and spends the budget by Thompson sampling, so promising
//!   tags get more posts and unknown ones get probed;
//! - drops tags whose yield is confidently below a floor (videos without
//!   people, off-topic content), naming the stage that rejected them;
//! - promotes co-occurring tags: a tag seen mostly in one group's crawled
//!   posts (spam such as `#fyp` appears in every group's and never
//!   qualifies) joins that group, gated on platform views when known;
//! - re-consolidates: two groups whose crawled posts carry each other's tags
//!   more than a threshold both ways become one;
//! - stops a group when it reaches its clip target or runs out of tags.
//!
//! All randomness comes from a seeded splitmix64 stream held in the state,
//! and all maps are ordered, so a run is reproducible; the state serialises
//! to JSON, so a crawl can stop and resume.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::HashtagError;
use crate::groups::Selection;
use crate::rules::Provenance;
use crate::stats::TagViews;

mod config;
mod observe;
mod outcomes;
mod revise;
pub mod rounds;
pub(crate) mod sample;
mod state;

pub use config::AdaptiveConfig;
pub use observe::{CrawlRequest, NeighbourCount, TagObservation};
pub use outcomes::Outcomes;

pub use state::{DropReason, Event, GroupState, GroupStatus, TagState, TagStatus};

/// Extra candidate tags per group id, with their provenance.
pub type Reserve = BTreeMap<usize, Vec<(String, Vec<Provenance>)>>;

/// State format written by this build.
pub const STATE_VERSION: u32 = 1;

/// The loop's whole state (serialisable; see [`AdaptiveLoop::save`]).
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
/// let requests = l.plan(100);
/// assert_eq!((requests[0].tag.as_str(), requests[0].posts), ("piano", 20)); // a first probe
/// let obs = TagObservation { tag: "piano".into(), crawled: 20, passed_filters: 15,
///                            accepted_clips: 12, ..Default::default() };
/// l.observe(&[obs])?;
/// assert_eq!(l.groups()[0].clips, 12);
/// assert!(l.is_finished()); // 12 clips >= the target of 10
/// assert_eq!(l.selected_tags(), ["piano"]);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveLoop {
    version: u32,
    config: AdaptiveConfig,
    rng: u64,
    round: u64,
    groups: Vec<GroupState>,
    tags: BTreeMap<String, TagState>,
    /// Tags seen in crawls but in no group: sightings per group.
    sightings: BTreeMap<String, BTreeMap<usize, u64>>,
    /// Posts of group `a`'s crawls carrying a tag of group `b`.
    #[serde(with = "state::pair_map")]
    overlap: BTreeMap<(usize, usize), u64>,
    views: TagViews,
    events: Vec<Event>,
    /// Rounds that received observations. `rounds::observe_round` refuses
    /// a plan of a round listed here, which would count its crawl twice;
    /// states written before this field load with none listed.
    #[serde(default)]
    observed_rounds: BTreeSet<u64>,
}

impl AdaptiveLoop {
    /// Starts from a one-shot selection: each group's members are its first
    /// tags; `reserve` adds more candidates per group id (for example the
    /// `not_preferred` tags of the group's labels); `views` gates promoted
    /// tags.
    pub fn new(
        selection: &Selection,
        reserve: &Reserve,
        views: TagViews,
        config: AdaptiveConfig,
    ) -> Result<Self, HashtagError> {
        config.validate()?;
        let mut l = AdaptiveLoop {
            version: STATE_VERSION,
            rng: config.seed ^ 0x5DEE_CE66_D1CE_4E5B,
            config,
            round: 0,
            groups: Vec::new(),
            tags: BTreeMap::new(),
            sightings: BTreeMap::new(),
            overlap: BTreeMap::new(),
            views,
            events: Vec::new(),
            observed_rounds: BTreeSet::new(),
        };
        for g in &selection.groups {
            let id = l.groups.len();
            l.groups
                .push(GroupState::new(id, &g.name, g.seed_labels.clone()));
            for m in &g.tags {
                l.insert_tag(&m.tag, id, m.provenance.clone());
            }
            for (t, prov) in reserve.get(&g.id).into_iter().flatten() {
                l.insert_tag(t, id, prov.clone());
            }
        }
        l.update_group_status();
        Ok(l)
    }

    fn insert_tag(&mut self, tag: &str, group: usize, provenance: Vec<Provenance>) {
        if !self.tags.contains_key(tag) {
            self.tags
                .insert(tag.to_owned(), TagState::new(group, provenance));
            self.sightings.remove(tag);
        }
    }

    /// Which tags to crawl next, spending at most `budget` posts: groups
    /// furthest from their target first, one request per tag, each group's
    /// tag picked by Thompson sampling of its yield.
    pub fn plan(&mut self, budget: u64) -> Vec<CrawlRequest> {
        self.round += 1;
        let mut left = budget;
        let mut order: Vec<usize> = (0..self.groups.len())
            .filter(|&g| self.groups[g].is_active())
            .collect();
        order.sort_by_key(|&g| {
            (
                std::cmp::Reverse(
                    self.config
                        .target_clips
                        .saturating_sub(self.groups[g].clips),
                ),
                g,
            )
        });
        let mut planned: BTreeMap<&str, ()> = BTreeMap::new();
        let mut requests = Vec::new();
        let mut progress = true;
        while left > 0 && progress {
            progress = false;
            for &g in &order {
                if left == 0 {
                    break;
                }
                let mut best: Option<(f64, &str)> = None;
                for (t, s) in &self.tags {
                    if s.group != g || !s.is_open() || planned.contains_key(t.as_str()) {
                        continue;
                    }
                    let (a, b) = s.posterior(self.config.prior);
                    let draw = sample::beta(&mut self.rng, a, b);
                    if best.is_none_or(|(d, _)| draw > d) {
                        best = Some((draw, t.as_str()));
                    }
                }
                let Some((_, tag)) = best else { continue };
                let s = &self.tags[tag];
                let want = if s.crawled == 0 {
                    self.config.probe_posts
                } else {
                    self.config.request_posts
                };
                let posts = want.min(left);
                left -= posts;
                planned.insert(tag, ());
                requests.push(CrawlRequest {
                    tag: tag.to_owned(),
                    group: g,
                    posts,
                });
                progress = true;
            }
        }
        requests
    }

    /// Takes the results of crawl requests (any order; tags must belong to
    /// the loop), then drops, promotes, merges and updates group status.
    /// The current round is recorded as observed ([`observed_rounds`]);
    /// this call still accepts more observations of it (a crawl may report
    /// in batches), but [`rounds::observe_round`] takes a plan only once.
    ///
    /// [`observed_rounds`]: Self::observed_rounds
    pub fn observe(&mut self, observations: &[TagObservation]) -> Result<(), HashtagError> {
        // All or nothing: a bad observation changes no state.
        if let Some(o) = observations
            .iter()
            .find(|o| !self.tags.contains_key(&o.tag))
        {
            return Err(HashtagError::UnknownTag(o.tag.clone()));
        }
        for o in observations {
            let s = self.tags.get_mut(&o.tag).expect("checked above");
            s.record(o);
            let g = s.group;
            // Saturating: a loaded state may hold any counts, and wrapping
            // (or a debug-build overflow panic) would be worse than a cap.
            let group = &mut self.groups[g];
            group.clips = group.clips.saturating_add(o.accepted_clips);
            group.crawled = group.crawled.saturating_add(o.crawled);
            // Posts carrying another group's tags: the most of any one of
            // its tags (a lower bound of the posts carrying any of them;
            // summing would count a post once per tag).
            let mut carried: BTreeMap<usize, u64> = BTreeMap::new();
            for n in &o.neighbours {
                if let Some(v) = n.views {
                    self.views.insert(&n.tag, v);
                }
                match self.tags.get(&n.tag) {
                    Some(other) => {
                        let h = other.group;
                        if h != g {
                            let c = carried.entry(h).or_default();
                            *c = (*c).max(n.posts);
                        }
                    }
                    None => {
                        let c = self
                            .sightings
                            .entry(n.tag.clone())
                            .or_default()
                            .entry(g)
                            .or_default();
                        *c = c.saturating_add(n.posts);
                    }
                }
            }
            for (h, c) in carried {
                let o = self.overlap.entry((g, h)).or_default();
                *o = o.saturating_add(c);
            }
        }
        self.observed_rounds.insert(self.round);
        self.drop_low_yield();
        self.promote();
        self.merge_overlapping();
        self.update_group_status();
        Ok(())
    }

    /// Whether every group reached its target or ran out of tags.
    pub fn is_finished(&self) -> bool {
        !self.groups.iter().any(GroupState::is_active)
    }

    /// Groups (merged ones keep their slot with status `merged_into`).
    pub fn groups(&self) -> &[GroupState] {
        &self.groups
    }

    /// Every tag's state.
    pub fn tags(&self) -> &BTreeMap<String, TagState> {
        &self.tags
    }

    /// Drops, promotions, merges and finished groups, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The loop's current selection: tags crawled at least once, not
    /// dropped, whose estimated yield (posterior mean) is at least the drop
    /// floor. A probed tag below the floor is not selected even before
    /// enough posts make dropping it certain.
    pub fn selected_tags(&self) -> Vec<&str> {
        let (prior, floor) = (self.config.prior, self.config.drop_below);
        self.tags
            .iter()
            .filter(|(_, s)| {
                s.crawled > 0
                    && !matches!(s.status, TagStatus::Dropped(_))
                    && s.yield_mean(prior) >= floor
            })
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// Rounds planned so far (each [`plan`](Self::plan) starts one).
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Rounds that received observations ([`observe`](Self::observe)).
    pub fn observed_rounds(&self) -> &BTreeSet<u64> {
        &self.observed_rounds
    }

    /// The configuration.
    pub fn config(&self) -> &AdaptiveConfig {
        &self.config
    }

    /// Writes the state as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), HashtagError> {
        curation_core::atomic::write_json(path, self)?;
        Ok(())
    }

    /// Reads a state written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self, HashtagError> {
        let text = crate::input::read_text(path)?;
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_str(&text).map_err(|e| HashtagError::json(path, &e))?;
        if v.version != STATE_VERSION {
            return Err(HashtagError::StateVersion {
                path: path.to_owned(),
                found: v.version,
                expected: STATE_VERSION,
            });
        }
        let state: AdaptiveLoop =
            serde_json::from_str(&text).map_err(|e| HashtagError::json(path, &e))?;
        // A hand-edited state gets the same checks as a new loop, with
        // the file named.
        state.config.validate().map_err(|e| match e {
            HashtagError::Config(m) => HashtagError::malformed(
                path,
                crate::input::line_of_key(&text, "config"),
                format!("config.{m}"),
            ),
            other => other,
        })?;
        let groups = state.groups.len();
        let chain_ends = |mut g: usize| {
            for _ in 0..=groups {
                match state.groups[g].status {
                    GroupStatus::MergedInto(h) if h < groups => g = h,
                    GroupStatus::MergedInto(_) => return false,
                    _ => return true,
                }
            }
            false // a merge cycle
        };
        // Tags always point at a group that was not merged away (a merge
        // moves them), so tag groups are used without following merges.
        let bad_group = state.tags.values().any(|t| {
            t.group >= groups || matches!(state.groups[t.group].status, GroupStatus::MergedInto(_))
        }) || (0..groups).any(|g| !chain_ends(g))
            || state
                .overlap
                .keys()
                .any(|&(a, b)| a >= groups || b >= groups)
            || state
                .sightings
                .values()
                .flat_map(|m| m.keys())
                .any(|&g| g >= groups);
        if bad_group {
            return Err(HashtagError::malformed(
                path,
                None,
                "a tag or merge names a group that does not exist",
            ));
        }
        // A round observed before it was planned would refuse that round's
        // plan once it comes.
        if let Some(r) = state.observed_rounds.iter().find(|&&r| r > state.round) {
            return Err(HashtagError::malformed(
                path,
                crate::input::line_of_key(&text, "observed_rounds"),
                format!(
                    "observed_rounds: round {r} is after the state's round {}",
                    state.round
                ),
            ));
        }
        Ok(state)
    }
}
