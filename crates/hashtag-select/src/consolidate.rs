//! Consolidation: tags that retrieve the same videos, share a root, or are
//! listed as variants of each other become one action group (SPEC 1a).
//!
//! The partition is the connected components of the "should merge" relation,
//! so it does not depend on the order tags are given in; each component is
//! named by its most-viewed member.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::HashtagError;
use crate::stats::TagStats;
use crate::tables::SynonymTable;
use crate::words::root;

/// Why two tags were merged.
///
/// ```
/// use hashtag_select::{ConsolidationConfig, MergeReason, StatsConfig, SynonymTable, TagStats};
/// let mut stats = TagStats::new(StatsConfig::default(), &["salsa", "skateboard"]);
/// stats.add_post(["skateboard", "skateboarding"], None);
/// stats.add_post(["salsa", "bachata"], None);
/// stats.add_post(["salsa", "bachata"], None);
/// stats.add_post(["salsa"], None);
/// let (c, syn) = (ConsolidationConfig::default(), SynonymTable::common());
/// assert_eq!(c.link("soccer", "football", &stats, &syn), Some(MergeReason::Synonym));
/// let root = c.link("skateboard", "skateboarding", &stats, &syn);
/// assert_eq!(root, Some(MergeReason::Root { root: "skateboard".into() }));
/// // 2 shared posts of 3: Jaccard 2/3 >= 0.5.
/// let j = c.link("salsa", "bachata", &stats, &syn);
/// assert!(matches!(j, Some(MergeReason::Jaccard { value }) if (value - 2.0 / 3.0).abs() < 1e-12));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum MergeReason {
    /// Listed as variants in the synonym table.
    Synonym,
    /// Same light root ([`root`]).
    Root {
        /// The shared root.
        root: String,
    },
    /// Post sets overlap: Jaccard at or above the threshold.
    Jaccard {
        /// The overlap.
        value: f64,
    },
    /// Strong association: NPMI at or above the threshold with enough
    /// shared posts.
    Npmi {
        /// The NPMI.
        value: f64,
    },
}

/// One merge, for the group's provenance.
///
/// ```
/// use hashtag_select::consolidate::consolidate;
/// use hashtag_select::MergeReason;
/// let tags = ["soccer".to_owned(), "football".to_owned()];
/// let parts = consolidate(&tags, |_, _| Some(MergeReason::Synonym));
/// let merge = &parts[0].1[0];
/// assert_eq!((merge.a.as_str(), merge.b.as_str()), ("football", "soccer"));
/// assert_eq!(merge.why, MergeReason::Synonym);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    /// First tag (lexicographically smaller).
    pub a: String,
    /// Second tag.
    pub b: String,
    /// Why.
    #[serde(flatten)]
    pub why: MergeReason,
}

/// Thresholds of consolidation.
///
/// ```
/// use hashtag_select::{ConsolidationConfig, HashtagError};
/// let mut c = ConsolidationConfig::default();
/// c.min_co_posts = 5;
/// assert!(c.validate().is_ok());
/// c.jaccard = 1.5;
/// assert!(matches!(c.validate(), Err(HashtagError::Config(_))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConsolidationConfig {
    /// Merge when the post sets' Jaccard overlap is at least this.
    pub jaccard: f64,
    /// Merge when NPMI is at least this ...
    pub npmi: f64,
    /// ... and the tags share at least this many posts.
    pub min_co_posts: u64,
    /// Merge tags with the same root (`skateboard` / `skateboarding`) that
    /// share at least one post.
    pub same_root: bool,
}

impl Default for ConsolidationConfig {
    fn default() -> Self {
        ConsolidationConfig {
            jaccard: 0.5,
            npmi: 0.8,
            min_co_posts: 20,
            same_root: true,
        }
    }
}

impl ConsolidationConfig {
    /// Checks the thresholds: `jaccard` in [0, 1], `npmi` in [-1, 1] (NaN
    /// and infinities refused: every comparison with NaN fails, which would
    /// silently turn a rule off).
    pub fn validate(&self) -> Result<(), HashtagError> {
        HashtagError::check_in(
            0.0..=1.0,
            &[("consolidation.jaccard", self.jaccard)],
            "must lie in [0, 1]",
        )?;
        HashtagError::check_in(
            -1.0..=1.0,
            &[("consolidation.npmi", self.npmi)],
            "must lie in [-1, 1]",
        )
    }

    /// Whether `a` and `b` should be one group, and why (synonym table
    /// first, then root, then overlap).
    pub fn link(
        &self,
        a: &str,
        b: &str,
        stats: &TagStats,
        synonyms: &SynonymTable,
    ) -> Option<MergeReason> {
        if synonyms.are_variants(a, b) {
            return Some(MergeReason::Synonym);
        }
        // A shared root alone also matches poker/poking or trains/training:
        // the tags must share at least one post too.
        if self.same_root && stats.co_posts(a, b).is_some_and(|c| c > 0) {
            let (ra, rb) = (root(a), root(b));
            if ra == rb {
                return Some(MergeReason::Root { root: ra });
            }
        }
        if let Some(j) = stats.jaccard(a, b).filter(|&j| j >= self.jaccard) {
            return Some(MergeReason::Jaccard { value: j });
        }
        let co = stats.co_posts(a, b).unwrap_or(0);
        if co >= self.min_co_posts
            && let Some(n) = stats.npmi(a, b).filter(|&n| n >= self.npmi)
        {
            return Some(MergeReason::Npmi { value: n });
        }
        None
    }
}

/// Partitions `tags` into the connected components of `link` (checked on
/// every pair). Components come sorted by their smallest tag, members
/// sorted; the merges that joined them are returned beside them. Input order
/// and duplicates do not change the result.
///
/// ```
/// use hashtag_select::consolidate::consolidate;
/// use hashtag_select::{MergeReason, words::root};
/// let tags: Vec<String> = ["skateboarding", "salsa", "skateboard"].map(String::from).into();
/// let by_root = |a: &str, b: &str| (root(a) == root(b)).then(|| MergeReason::Root { root: root(a) });
/// let parts = consolidate(&tags, by_root);
/// let groups: Vec<&Vec<String>> = parts.iter().map(|(g, _)| g).collect();
/// assert_eq!(groups, [&vec!["salsa".to_owned()], &vec!["skateboard".into(), "skateboarding".into()]]);
/// assert_eq!(parts[1].1.len(), 1); // one merge joined the pair
/// ```
pub fn consolidate<F>(tags: &[String], mut link: F) -> Vec<(Vec<String>, Vec<Merge>)>
where
    F: FnMut(&str, &str) -> Option<MergeReason>,
{
    let mut sorted: Vec<&str> = tags.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let n = sorted.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut merges = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if let Some(why) = link(sorted[i], sorted[j]) {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri != rj {
                    parent[ri.max(rj)] = ri.min(rj);
                }
                merges.push((
                    i,
                    Merge {
                        a: sorted[i].to_owned(),
                        b: sorted[j].to_owned(),
                        why,
                    },
                ));
            }
        }
    }
    let mut comps: BTreeMap<usize, (Vec<String>, Vec<Merge>)> = BTreeMap::new();
    for (i, t) in sorted.iter().enumerate() {
        let r = find(&mut parent, i);
        comps.entry(r).or_default().0.push((*t).to_owned());
    }
    for (i, m) in merges {
        let r = find(&mut parent, i);
        comps.get_mut(&r).expect("component exists").1.push(m);
    }
    comps.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn by_root(a: &str, b: &str) -> Option<MergeReason> {
        (root(a) == root(b)).then(|| MergeReason::Root { root: root(a) })
    }

    #[test]
    fn components_by_hand() {
        let tags: Vec<String> = [
            "skateboarding",
            "salsa",
            "skateboard",
            "skateboarder",
            "tango",
        ]
        .map(str::to_owned)
        .into();
        let parts = consolidate(&tags, by_root);
        let names: Vec<Vec<String>> = parts.iter().map(|p| p.0.clone()).collect();
        assert_eq!(
            names,
            vec![
                vec!["salsa".to_owned()],
                vec![
                    "skateboard".to_owned(),
                    "skateboarder".to_owned(),
                    "skateboarding".to_owned()
                ],
                vec!["tango".to_owned()],
            ]
        );
        assert_eq!(parts[1].1.len(), 3, "every linked pair is recorded");
    }

    proptest! {
        #[test]
        fn consolidation_ignores_input_order(
            tags in prop::collection::vec("(dance|danc|dancing|salsa|salsas|tango|box|boxing|yoga)[a-c]{0,1}", 1..12),
            seed in any::<u64>(),
        ) {
            let mut shuffled = tags.clone();
            // Fisher-Yates with a splitmix64 stream.
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let z = (s ^ (s >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                shuffled.swap(i, (z % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(consolidate(&tags, by_root), consolidate(&shuffled, by_root));
        }
    }
}
