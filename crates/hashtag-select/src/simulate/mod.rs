//! A synthetic platform to measure hashtag selection without crawling: Zipf
//! tag popularity, planted action topics whose posts carry the topic's
//! seed tag, community synonyms and sub-styles, rule outputs that turn out
//! off-topic ("decoys", like `#balance` for `BalanceBeam`), spam tags on
//! every topic (`#fyp`), off-topic tags, and per-post filter and
//! frame-selection acceptance.
//!
//! [`run`] spends a crawl budget either statically (the one-shot selection,
//! budget split evenly over its tags, never revised) or through the
//! [`AdaptiveLoop`], and scores tag precision/recall against the planted
//! truth and the clips collected. Cross-tag duplicate posts are not
//! modelled: both methods would lose the same share to them.

mod config;
mod platform;
mod posts;

pub use config::{MAX_SIM_TAGS, PlatformConfig};
pub use platform::Platform;
pub use posts::SyntheticPosts;

use serde::{Deserialize, Serialize};

use crate::adaptive::{AdaptiveConfig, AdaptiveLoop, TagObservation};
use crate::error::HashtagError;

/// What a synthetic tag is.
///
/// ```
/// use hashtag_select::simulate::{Platform, TagKind};
/// # use hashtag_select::simulate::PlatformConfig;
/// # let small = PlatformConfig { topics: 3, off_topic_tags: 5, spam_tags: 1, max_pool: 200,
/// #                              ..PlatformConfig::default() };
/// let p = Platform::generate(small);
/// assert_eq!(p.tags()["topic2"].kind, TagKind::Seed(2));
/// assert_eq!(TagKind::Seed(2).true_topic(), Some(2));
/// assert_eq!(p.tags()["spam0"].kind.true_topic(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKind {
    /// The tag the rules derive for a topic.
    Seed(usize),
    /// A community spelling of the topic (not in any synonym table).
    Synonym(usize),
    /// A sub-style of the topic.
    Style(usize),
    /// A rule output whose posts are mostly off-topic.
    Decoy(usize),
    /// On every topic's posts, never on-topic itself.
    Spam,
    /// Unrelated content.
    OffTopic,
}

impl TagKind {
    /// The topic it truly belongs to (seed, synonym, style).
    pub fn true_topic(self) -> Option<usize> {
        match self {
            TagKind::Seed(t) | TagKind::Synonym(t) | TagKind::Style(t) => Some(t),
            _ => None,
        }
    }
}

/// One synthetic tag.
///
/// ```
/// use hashtag_select::simulate::Platform;
/// # use hashtag_select::simulate::PlatformConfig;
/// # let small = PlatformConfig { topics: 3, off_topic_tags: 5, spam_tags: 1, max_pool: 200,
/// #                              ..PlatformConfig::default() };
/// let p = Platform::generate(small);
/// let decoy = &p.tags()["topic0decoy"];
/// assert_eq!((decoy.name.as_str(), decoy.on_topic), ("topic0decoy", 0.1));
/// assert!(decoy.pool >= 20); // every tag holds at least 20 posts
/// assert_eq!(p.views().get("topic0decoy"), Some(decoy.views));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimTag {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: TagKind,
    /// Posts the platform holds for it.
    pub pool: u64,
    /// Platform-reported views.
    pub views: u64,
    /// Share of its posts that show its topic.
    pub on_topic: f64,
}

/// How the budget is spent.
///
/// ```
/// use hashtag_select::{AdaptiveConfig, ViewsGate};
/// use hashtag_select::simulate::{Method, run};
/// # use hashtag_select::simulate::PlatformConfig;
/// # let small = PlatformConfig { topics: 3, off_topic_tags: 5, spam_tags: 1, max_pool: 200,
/// #                              ..PlatformConfig::default() };
/// let config = AdaptiveConfig { target_clips: 20, gate: ViewsGate { min_views: 0 },
///                              ..AdaptiveConfig::default() };
/// for method in [Method::Static, Method::Adaptive] {
///     let r = run(&small, method, 300, &config)?;
///     assert_eq!(r.method, method);
///     assert!(r.crawled <= 300);
/// }
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The one-shot selection, budget split evenly, never revised.
    Static,
    /// The adaptive loop.
    Adaptive,
}

/// Scores of one run.
///
/// ```
/// use hashtag_select::{AdaptiveConfig, ViewsGate};
/// use hashtag_select::simulate::{Method, run};
/// # use hashtag_select::simulate::PlatformConfig;
/// # let small = PlatformConfig { topics: 3, off_topic_tags: 5, spam_tags: 1, max_pool: 200,
/// #                              ..PlatformConfig::default() };
/// let config = AdaptiveConfig { target_clips: 20, gate: ViewsGate { min_views: 0 },
///                              ..AdaptiveConfig::default() };
/// let r = run(&small, Method::Static, 300, &config)?;
/// assert_eq!(r.groups, 3);
/// assert!(r.groups_at_target <= r.groups && r.clips <= r.crawled);
/// assert!((0.0..=1.0).contains(&r.precision) && (0.0..=1.0).contains(&r.recall));
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// Method.
    pub method: Method,
    /// Posts crawled.
    pub crawled: u64,
    /// Clips kept.
    pub clips: u64,
    /// Groups that reached the clip target.
    pub groups_at_target: usize,
    /// Groups.
    pub groups: usize,
    /// Selected tags that are on-topic.
    pub precision: f64,
    /// On-topic tags (passing the gate) that were selected.
    pub recall: f64,
}

/// Runs one method on a fresh platform with `budget` posts; both
/// configurations are validated first.
///
/// ```
/// use hashtag_select::{AdaptiveConfig, ViewsGate};
/// use hashtag_select::simulate::{Method, run};
/// # use hashtag_select::simulate::PlatformConfig;
/// # let small = PlatformConfig { topics: 3, off_topic_tags: 5, spam_tags: 1, max_pool: 200,
/// #                              ..PlatformConfig::default() };
/// let config = AdaptiveConfig { target_clips: 20, gate: ViewsGate { min_views: 0 },
///                              ..AdaptiveConfig::default() };
/// let a = run(&small, Method::Adaptive, 300, &config)?;
/// // Same seed, same run.
/// assert_eq!(a, run(&small, Method::Adaptive, 300, &config)?);
/// let bad = hashtag_select::simulate::PlatformConfig { zipf: f64::NAN, ..small };
/// assert!(run(&bad, Method::Static, 300, &config).is_err());
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
pub fn run(
    platform: &PlatformConfig,
    method: Method,
    budget: u64,
    config: &AdaptiveConfig,
) -> Result<SimResult, HashtagError> {
    platform.validate()?;
    config.validate()?;
    let mut p = Platform::generate(platform.clone());
    let (selection, reserve) = p.one_shot_selection(config.gate);
    let (mut clips, mut crawled) = (0u64, 0u64);
    let mut group_clips = vec![0u64; selection.groups.len()];
    let selected: Vec<String> = match method {
        Method::Static => {
            let tags: Vec<(usize, String)> = selection
                .groups
                .iter()
                .map(|g| (g.id, g.name.clone()))
                .collect();
            let mut open: Vec<bool> = vec![true; tags.len()];
            while crawled < budget && open.iter().any(|&o| o) {
                let share =
                    ((budget - crawled) / open.iter().filter(|&&o| o).count() as u64).max(1);
                for (i, (g, t)) in tags.iter().enumerate() {
                    if !open[i] || crawled >= budget {
                        continue;
                    }
                    let o = p.crawl(t, share.min(budget - crawled));
                    crawled += o.crawled;
                    clips += o.accepted_clips;
                    group_clips[*g] += o.accepted_clips;
                    open[i] = !o.exhausted && o.crawled > 0;
                }
            }
            tags.into_iter().map(|(_, t)| t).collect()
        }
        Method::Adaptive => {
            let mut l = AdaptiveLoop::new(&selection, &reserve, p.views(), config.clone())?;
            // Saturating: `request_posts` has no upper bound (u64::MAX
            // overflowed here, a panic in debug builds).
            let round =
                ((selection.groups.len() as u64).saturating_mul(config.request_posts) / 2).max(1);
            while crawled < budget && !l.is_finished() {
                let requests = l.plan(round.min(budget - crawled));
                if requests.is_empty() {
                    break;
                }
                let obs: Vec<TagObservation> =
                    requests.iter().map(|r| p.crawl(&r.tag, r.posts)).collect();
                crawled += obs.iter().map(|o| o.crawled).sum::<u64>();
                clips += obs.iter().map(|o| o.accepted_clips).sum::<u64>();
                l.observe(&obs).expect("planned tags are known");
            }
            for g in l.groups() {
                let merged = matches!(g.status, crate::adaptive::GroupStatus::MergedInto(_));
                group_clips[g.id] = if merged { 0 } else { g.clips };
            }
            l.selected_tags().into_iter().map(str::to_owned).collect()
        }
    };
    let truth = p.true_tags(config.gate);
    let on_topic = selected
        .iter()
        .filter(|t| p.tags()[*t].kind.true_topic().is_some())
        .count();
    Ok(SimResult {
        method,
        crawled,
        clips,
        groups_at_target: group_clips
            .iter()
            .filter(|&&c| c >= config.target_clips)
            .count(),
        groups: selection.groups.len(),
        precision: on_topic as f64 / selected.len().max(1) as f64,
        recall: selected
            .iter()
            .filter(|t| truth.contains(&t.as_str()))
            .count() as f64
            / truth.len().max(1) as f64,
    })
}
