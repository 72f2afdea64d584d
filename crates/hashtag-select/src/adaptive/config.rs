//! The loop's knobs and their checks.

use serde::{Deserialize, Serialize};

use crate::error::HashtagError;
use crate::stats::ViewsGate;

/// Knobs of the loop.
///
/// ```
/// use hashtag_select::{AdaptiveConfig, HashtagError};
/// let mut c = AdaptiveConfig { target_clips: 500, seed: 7, ..AdaptiveConfig::default() };
/// assert!(c.validate().is_ok());
/// c.prior = (0.0, 3.0);
/// assert!(matches!(c.validate(), Err(HashtagError::Config(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveConfig {
    /// Seed of the sampling stream.
    pub seed: u64,
    /// Kept clips each group should reach.
    pub target_clips: u64,
    /// Posts per crawl request of a tag already probed.
    pub request_posts: u64,
    /// Posts of a tag's first request.
    pub probe_posts: u64,
    /// Beta prior (successes, failures) of a tag's yield.
    pub prior: (f64, f64),
    /// Drop a tag when its yield's upper bound (posterior mean + 2 sd) is
    /// below this, or below `drop_relative` times the best estimated yield
    /// in its group ...
    pub drop_below: f64,
    /// (see `drop_below`; 0 turns the relative rule off)
    pub drop_relative: f64,
    /// ... once it has at least this many crawled posts.
    pub min_crawled_to_drop: u64,
    /// Promote a co-occurring tag into a group when at least this share of
    /// its sightings are in that group's crawled posts ...
    pub promote_min_share: f64,
    /// ... and it was seen in at least this many of them.
    pub promote_min_posts: u64,
    /// Promote tags whose platform views are unknown (else they wait).
    pub promote_unknown_views: bool,
    /// Most tags a group holds (dropped ones included).
    pub max_tags_per_group: usize,
    /// Merge two groups when each one's crawled posts carry the other's
    /// tags at least this often.
    pub merge_overlap: f64,
    /// The views gate for promoted tags.
    pub gate: ViewsGate,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            seed: 0,
            target_clips: 1000,
            request_posts: 200,
            probe_posts: 50,
            prior: (1.0, 3.0),
            drop_below: 0.1,
            drop_relative: 0.5,
            min_crawled_to_drop: 50,
            promote_min_share: 0.6,
            promote_min_posts: 10,
            promote_unknown_views: true,
            max_tags_per_group: 16,
            merge_overlap: 0.5,
            gate: ViewsGate::default(),
        }
    }
}

impl AdaptiveConfig {
    /// Checks every field, naming the first bad one: shares and the drop
    /// floor lie in [0, 1], the prior's two counts are finite and in
    /// [1e-6, 1e9] (NaN and infinities refused everywhere: a comparison
    /// with NaN is always false and would silently disable a rule), request
    /// sizes, the clip target and the tags per group are at least 1.
    pub fn validate(&self) -> Result<(), HashtagError> {
        let shares = [
            ("promote_min_share", self.promote_min_share),
            ("merge_overlap", self.merge_overlap),
            ("drop_relative", self.drop_relative),
            ("drop_below", self.drop_below),
        ];
        HashtagError::check_in(0.0..=1.0, &shares, "must be a share in [0, 1]")?;
        HashtagError::check_in(
            1e-6..=1e9,
            &[("prior.0", self.prior.0), ("prior.1", self.prior.1)],
            "a Beta prior count must be finite and in [1e-6, 1e9]",
        )?;
        let counts = [
            ("request_posts", self.request_posts),
            ("probe_posts", self.probe_posts),
            ("target_clips", self.target_clips),
            ("max_tags_per_group", self.max_tags_per_group as u64),
        ];
        for (name, x) in counts {
            if x == 0 {
                return Err(HashtagError::config(name, x, "must be at least 1"));
            }
        }
        Ok(())
    }
}
