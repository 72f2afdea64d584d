//! The synthetic platform's shape and its checks.

use serde::{Deserialize, Serialize};

use crate::error::HashtagError;

/// Shape of the synthetic platform.
///
/// ```
/// use hashtag_select::{HashtagError, simulate::PlatformConfig};
/// let mut c = PlatformConfig { topics: 5, max_pool: 1_000, ..PlatformConfig::default() };
/// assert!(c.validate().is_ok());
/// c.keep_on = 1.5;
/// assert!(matches!(c.validate(), Err(HashtagError::Config(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformConfig {
    /// Seed.
    pub seed: u64,
    /// Action topics.
    pub topics: usize,
    /// Most synonyms per topic (0..=this, uniform).
    pub max_synonyms: usize,
    /// Most styles per topic.
    pub max_styles: usize,
    /// Share of topics whose preferred rule tag is a decoy.
    pub decoy_share: f64,
    /// Spam tags.
    pub spam_tags: usize,
    /// Off-topic tags.
    pub off_topic_tags: usize,
    /// Zipf exponent of tag popularity.
    pub zipf: f64,
    /// Posts of the most popular tag.
    pub max_pool: u64,
    /// Mean views per post.
    pub views_per_post: u64,
    /// Share of on-topic posts passing the metadata filters.
    pub filter_pass_on: f64,
    /// ... of off-topic posts.
    pub filter_pass_off: f64,
    /// Share of passing on-topic posts frame selection keeps.
    pub keep_on: f64,
    /// ... of passing off-topic posts.
    pub keep_off: f64,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            seed: 1,
            topics: 30,
            max_synonyms: 2,
            max_styles: 3,
            decoy_share: 0.25,
            spam_tags: 4,
            off_topic_tags: 60,
            zipf: 0.9,
            max_pool: 40_000,
            views_per_post: 20_000,
            filter_pass_on: 0.8,
            filter_pass_off: 0.6,
            keep_on: 0.6,
            keep_off: 0.08,
        }
    }
}

/// Most tags a synthetic platform may hold (topics x up to
/// `2 + max_synonyms + max_styles`, plus spam and off-topic tags): a bound
/// on its memory.
pub const MAX_SIM_TAGS: u64 = 10_000_000;

impl PlatformConfig {
    /// Checks every field, naming the first bad one: shares in [0, 1], the
    /// Zipf exponent finite and in [0, 10], and at most [`MAX_SIM_TAGS`]
    /// tags in all.
    pub fn validate(&self) -> Result<(), HashtagError> {
        let shares = [
            ("decoy_share", self.decoy_share),
            ("filter_pass_on", self.filter_pass_on),
            ("filter_pass_off", self.filter_pass_off),
            ("keep_on", self.keep_on),
            ("keep_off", self.keep_off),
        ];
        HashtagError::check_in(0.0..=1.0, &shares, "must be a share in [0, 1]")?;
        HashtagError::check_in(0.0..=10.0, &[("zipf", self.zipf)], "must lie in [0, 10]")?;
        let per_topic = 2u64
            .saturating_add(self.max_synonyms as u64)
            .saturating_add(self.max_styles as u64);
        let tags = (self.topics as u64)
            .saturating_mul(per_topic)
            .saturating_add(self.spam_tags as u64)
            .saturating_add(self.off_topic_tags as u64);
        if tags > MAX_SIM_TAGS {
            return Err(HashtagError::config(
                "topics/max_synonyms/max_styles/spam_tags/off_topic_tags",
                tags,
                &format!("up to {MAX_SIM_TAGS} tags in all"),
            ));
        }
        Ok(())
    }
}
