//! The whole one-shot selection in one call: vocabularies + crawled posts +
//! platform views + tables -> [`Selection`], as the `hashtags` example runs
//! it.
//!
//! The steps, in order: candidates from the vocabularies alone become the
//! focus tags of the statistics (their co-occurrences are counted); the
//! posts are counted in one streaming pass; the rules run again with the
//! crawl's tags in the lexicon (so the corpus decides compound splits and
//! base-form umbrellas); [`select_groups`] applies the gate and groups.

use curation_core::VideoRecord;

use crate::error::HashtagError;
use crate::groups::{SelectConfig, Selection, select_groups};
use crate::rules::{CandidateSet, RuleConfig};
use crate::stats::{StatsConfig, TagStats, TagViews};
use crate::vocab::Vocabulary;
use crate::words::WordSplitter;

/// A one-shot selection being fed posts: build it with [`OneShot::new`],
/// add posts, then [`OneShot::finish`]. [`select_from_records`] does all
/// three for records already in hand.
///
/// ```
/// use hashtag_select::{OneShot, RuleConfig, SelectConfig, StatsConfig, TagViews, Vocabulary};
/// let vocab = Vocabulary::from_names("kinetics400", &["skiing slalom", "skiing crosscountry"]);
/// let mut run = OneShot::new(vec![vocab], RuleConfig::default(), StatsConfig::default(),
///                            SelectConfig::default())?;
/// run.add_post(["skiing", "powder"], Some(1_000));
/// let mut views = TagViews::default();
/// views.insert("skiing", 300_000_000);
/// let out = run.finish(&views)?;
/// // No label-specific tag passes the gate: both labels get the umbrella's group.
/// assert_eq!(out.selection.groups[0].name, "skiing");
/// assert!(out.selection.labels_without_group.is_empty());
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OneShot {
    vocabs: Vec<Vocabulary>,
    rules: RuleConfig,
    select: SelectConfig,
    stats: TagStats,
}

/// What [`OneShot::finish`] produced.
///
/// ```
/// use hashtag_select::{OneShot, RuleConfig, SelectConfig, StatsConfig, TagViews, Vocabulary};
/// let vocab = Vocabulary::from_names("demo", &["playing piano"]);
/// let mut run = OneShot::new(vec![vocab], RuleConfig::default(), StatsConfig::default(),
///                            SelectConfig::default())?;
/// run.add_post(["piano", "music"], Some(6_000_000));
/// let out = run.finish(&TagViews::default())?;
/// assert_eq!(out.stats.posts(), 1);
/// assert!(out.candidates.candidates.contains_key("pianoplaying"));
/// // The crawl's own views (6M) are enough to pass the 5M gate.
/// assert_eq!(out.selection.groups[0].name, "piano");
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OneShotOutput {
    /// The groups, rejected candidates and labels without a group.
    pub selection: Selection,
    /// The candidates the selection chose from (after the crawl joined the
    /// lexicon).
    pub candidates: CandidateSet,
    /// The crawl statistics (posts seen, per-tag counts, co-occurrence).
    pub stats: TagStats,
}

impl OneShot {
    /// Starts a selection over `vocabs`. Both configurations are checked
    /// first ([`StatsConfig::validate`], [`SelectConfig::validate`]): a bad
    /// one is an error naming its field.
    pub fn new(
        vocabs: Vec<Vocabulary>,
        rules: RuleConfig,
        stats: StatsConfig,
        select: SelectConfig,
    ) -> Result<Self, HashtagError> {
        stats.validate()?;
        select.validate()?;
        // The vocabulary's own candidates are the focus tags: their
        // neighbours are what specification and consolidation read.
        let first = CandidateSet::generate(&vocabs, &rules, &WordSplitter::new());
        let focus: Vec<&String> = first.candidates.keys().collect();
        let stats = TagStats::new(stats, &focus);
        Ok(OneShot {
            vocabs,
            rules,
            select,
            stats,
        })
    }

    /// Counts one crawled post (its hashtags and views).
    pub fn add_record(&mut self, record: &VideoRecord) {
        self.stats.add_record(record);
    }

    /// Counts one post given as its tags and views.
    pub fn add_post<'a>(&mut self, tags: impl IntoIterator<Item = &'a str>, views: Option<u64>) {
        self.stats.add_post(tags, views);
    }

    /// The statistics so far (for progress and for the caller's own checks,
    /// such as refusing a crawl with no readable post).
    pub fn stats(&self) -> &TagStats {
        &self.stats
    }

    /// The vocabularies the selection covers.
    pub fn vocabularies(&self) -> &[Vocabulary] {
        &self.vocabs
    }

    /// Runs the rules again with the crawl's tags in the lexicon and selects
    /// the groups against `views` (platform figures; tags without one are
    /// gated on the crawl's summed views).
    pub fn finish(self, views: &TagViews) -> Result<OneShotOutput, HashtagError> {
        let candidates = CandidateSet::generate(&self.vocabs, &self.rules, &self.stats.lexicon());
        let selection = select_groups(
            &candidates,
            &self.stats,
            views,
            &self.rules.synonyms,
            &self.select,
        )?;
        Ok(OneShotOutput {
            selection,
            candidates,
            stats: self.stats,
        })
    }
}

/// The one-shot selection of `records` (any iterator: a `Vec`, or
/// curation-core's `RecordBatches` flattened, so a crawl larger than memory
/// streams). Configurations are validated first; an empty crawl is not an
/// error here (platform views alone can pass tags), callers that need posts
/// check [`Selection::posts_seen`].
///
/// ```
/// use curation_core::{Hashtag, VideoRecord};
/// use hashtag_select::{RuleConfig, SelectConfig, StatsConfig, TagViews, Vocabulary,
///                      select_from_records};
/// let vocab = Vocabulary::from_names("demo", &["salsa dancing", "tango dancing"]);
/// let record = VideoRecord { id: "v1".into(), hashtags: Hashtag::new("#Salsa").into_iter().collect(),
///                            views: Some(2_000), ..Default::default() };
/// let mut views = TagViews::default();
/// views.insert("salsa", 80_000_000);
/// let sel = select_from_records(vec![vocab], [&record], &views, RuleConfig::default(),
///                               StatsConfig::default(), SelectConfig::default())?;
/// assert_eq!(sel.posts_seen, 1);
/// assert_eq!(sel.groups[0].name, "salsa");
/// // tango has no passing tag, and neither has the umbrella `dancing`.
/// assert_eq!(sel.labels_without_group[0].label.name, "tango dancing");
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
pub fn select_from_records<'r>(
    vocabs: Vec<Vocabulary>,
    records: impl IntoIterator<Item = &'r VideoRecord>,
    views: &TagViews,
    rules: RuleConfig,
    stats: StatsConfig,
    select: SelectConfig,
) -> Result<Selection, HashtagError> {
    let mut run = OneShot::new(vocabs, rules, stats, select)?;
    for r in records {
        run.add_record(r);
    }
    Ok(run.finish(views)?.selection)
}
