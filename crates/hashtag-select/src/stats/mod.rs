//! Streaming statistics over crawled posts: per-tag post and view counts,
//! and, for the tags being selected ("focus" tags), their co-occurring
//! neighbours. Memory is fixed by [`StatsConfig`] (tag counters, neighbour
//! counters per focus tag), never by the number of posts.
//!
//! Counting is exact until more distinct tags arrive than there are
//! counters; from then on it is [Space-Saving](space_saving) with its
//! documented bounds: a reported count over-estimates by at most its
//! `error`, and any tag with more than `occurrences / max_tags` posts is
//! kept, where `occurrences` counts every (post, tag) pair seen.
//! Tags are keyed by a 64-bit hash of their normal form: two distinct tags
//! collide with probability about `n^2 / 2^65` (3e-6 for 10 million tags).

pub mod space_saving;
mod tag_stats;
mod views;

use serde::{Deserialize, Serialize};

pub use space_saving::SpaceSaving;
pub use tag_stats::TagStats;
pub use views::{GateDecision, TagViews, ViewsGate, ViewsSource};

/// Sizes of the summaries.
///
/// ```
/// use hashtag_select::{HashtagError, StatsConfig};
/// let mut c = StatsConfig::default();
/// c.max_tags = 1024;
/// assert!(c.validate().is_ok());
/// c.neighbour_slots = 0;
/// assert!(matches!(c.validate(), Err(HashtagError::Config(_))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsConfig {
    /// Tag counters (exact below this many distinct tags).
    pub max_tags: usize,
    /// Neighbour counters per focus tag.
    pub neighbour_slots: usize,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            max_tags: 1 << 18,
            neighbour_slots: 128,
        }
    }
}

impl StatsConfig {
    /// Checks the sizes: at least one counter of each kind (the summaries
    /// would otherwise silently round 0 up to 1).
    pub fn validate(&self) -> Result<(), crate::HashtagError> {
        for (name, x) in [
            ("max_tags", self.max_tags),
            ("neighbour_slots", self.neighbour_slots),
        ] {
            if x == 0 {
                return Err(crate::HashtagError::config(name, x, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// A tag's counts.
///
/// ```
/// use hashtag_select::{StatsConfig, TagStats};
/// let mut stats = TagStats::new::<&str>(StatsConfig::default(), &[]);
/// stats.add_post(["salsa"], Some(100));
/// stats.add_post(["salsa", "tango"], Some(50));
/// let c = stats.count("salsa").unwrap();
/// assert_eq!((c.tag.as_str(), c.posts, c.error, c.views), ("salsa", 2, 0, 150));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    /// Normal form.
    pub tag: String,
    /// Posts carrying it (an upper bound when `error > 0`).
    pub posts: u64,
    /// Largest possible over-count of `posts` (0: exact).
    pub error: u64,
    /// Sum of those posts' views (exact when `error == 0`, else a lower
    /// bound: views before the tag took over its counter are not kept).
    pub views: u64,
}

/// A co-occurring tag of a focus tag.
///
/// ```
/// use hashtag_select::{StatsConfig, TagStats};
/// let mut stats = TagStats::new(StatsConfig::default(), &["salsa"]);
/// stats.add_post(["salsa", "bachata"], None);
/// stats.add_post(["salsa", "bachata", "dance"], None);
/// let n = stats.neighbours("salsa", 1).unwrap();
/// assert_eq!((n[0].tag.as_str(), n[0].posts, n[0].error), ("bachata", 2, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbour {
    /// Normal form.
    pub tag: String,
    /// Posts carrying both (an upper bound when `error > 0`).
    pub posts: u64,
    /// Largest possible over-count.
    pub error: u64,
}

/// A fast 64-bit string hash (FxHash steps over 8-byte words, then the
/// splitmix64 finaliser so that low bits are well mixed).
///
/// ```
/// use hashtag_select::stats::tag_hash;
/// assert_eq!(tag_hash("salsa"), tag_hash("salsa"));
/// assert_ne!(tag_hash("salsa"), tag_hash("tango"));
/// ```
pub fn tag_hash(tag: &str) -> u64 {
    let mut h: u64 = tag.len() as u64;
    let mut chunks = tag.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    let mut tail = 0u64;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        tail |= u64::from(b) << (8 * i);
    }
    h = (h.rotate_left(5) ^ tail).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}
