//! The synthetic platform itself: its tags (Zipf popularity, planted
//! topics, decoys, spam) and a crawl that samples posts, their co-occurring
//! tags and their filter and frame-selection outcomes.

use std::collections::BTreeMap;

use super::{PlatformConfig, SimTag, TagKind};
use crate::SelectConfig;
use crate::adaptive::sample::{next_u64, uniform};
use crate::adaptive::{NeighbourCount, Reserve, TagObservation};
use crate::groups::{ActionGroup, GroupMember, Selection};
use crate::rules::{LabelRef, Provenance, Rule};
use crate::stats::{TagViews, ViewsGate};

/// The synthetic platform and its crawl cursor.
///
/// ```
/// use hashtag_select::{ViewsGate, simulate::Platform};
/// # use hashtag_select::simulate::PlatformConfig;
/// # let small = PlatformConfig { topics: 3, off_topic_tags: 5, spam_tags: 1, max_pool: 200,
/// #                              ..PlatformConfig::default() };
/// let mut p = Platform::generate(small);
/// let (selection, _reserve) = p.one_shot_selection(ViewsGate { min_views: 0 });
/// assert_eq!(selection.groups.len(), 3); // one group per topic
/// let obs = p.crawl("topic0", 10);
/// assert_eq!((obs.tag.as_str(), obs.crawled), ("topic0", 10));
/// assert!(obs.accepted_clips <= obs.passed_filters && obs.passed_filters <= 10);
/// assert!(p.crawl("nosuchtag", 10).exhausted);
/// ```
#[derive(Debug, Clone)]
pub struct Platform {
    config: PlatformConfig,
    tags: BTreeMap<String, SimTag>,
    /// Per topic: (preferred rule tag, other rule tags).
    rule_tags: Vec<(String, Vec<String>)>,
    by_topic: Vec<Vec<String>>,
    spam: Vec<String>,
    off_topic: Vec<String>,
    crawled: BTreeMap<String, u64>,
    rng: u64,
}

fn chance(rng: &mut u64, p: f64) -> bool {
    uniform(rng) < p
}

fn below(rng: &mut u64, n: usize) -> usize {
    (next_u64(rng) % n.max(1) as u64) as usize
}

impl Platform {
    /// Builds a platform (call [`PlatformConfig::validate`] first: out of
    /// range shares are clamped by the sampling, not reported).
    pub fn generate(config: PlatformConfig) -> Self {
        let mut rng = config.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xA076_1D64_78BD_642F;
        let mut kinds: Vec<(String, TagKind, f64)> = Vec::new();
        let mut rule_tags = Vec::new();
        for t in 0..config.topics {
            let seed = format!("topic{t}");
            kinds.push((seed.clone(), TagKind::Seed(t), 0.9));
            let decoy = format!("topic{t}decoy");
            kinds.push((decoy.clone(), TagKind::Decoy(t), 0.1));
            for k in 0..below(&mut rng, config.max_synonyms + 1) {
                kinds.push((format!("topic{t}alt{k}"), TagKind::Synonym(t), 0.85));
            }
            for k in 0..below(&mut rng, config.max_styles + 1) {
                kinds.push((format!("topic{t}style{k}"), TagKind::Style(t), 0.9));
            }
            if chance(&mut rng, config.decoy_share) {
                rule_tags.push((decoy, vec![seed]));
            } else {
                rule_tags.push((seed, vec![decoy]));
            }
        }
        for k in 0..config.spam_tags {
            kinds.push((format!("spam{k}"), TagKind::Spam, 0.0));
        }
        for k in 0..config.off_topic_tags {
            kinds.push((format!("misc{k}"), TagKind::OffTopic, 0.0));
        }
        // Zipf popularity over a random permutation of the tags.
        let n = kinds.len();
        let mut ranks: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            ranks.swap(i, below(&mut rng, i + 1));
        }
        let mut tags = BTreeMap::new();
        let mut by_topic = vec![Vec::new(); config.topics];
        let (mut spam, mut off_topic) = (Vec::new(), Vec::new());
        for ((name, kind, on_topic), rank) in kinds.into_iter().zip(ranks) {
            let pool =
                ((config.max_pool as f64) / ((rank + 1) as f64).powf(config.zipf)).max(20.0) as u64;
            // Saturating: huge pools or views per post cap, never wrap.
            let total = pool.saturating_mul(config.views_per_post);
            let views = (total / 2).saturating_add(below(&mut rng, total as usize) as u64);
            match kind {
                TagKind::Spam => spam.push(name.clone()),
                TagKind::OffTopic => off_topic.push(name.clone()),
                TagKind::Seed(t) | TagKind::Synonym(t) | TagKind::Style(t) | TagKind::Decoy(t) => {
                    by_topic[t].push(name.clone())
                }
            }
            tags.insert(
                name.clone(),
                SimTag {
                    name,
                    kind,
                    pool,
                    views,
                    on_topic,
                },
            );
        }
        Platform {
            config,
            tags,
            rule_tags,
            by_topic,
            spam,
            off_topic,
            crawled: BTreeMap::new(),
            rng,
        }
    }

    /// Every tag.
    pub fn tags(&self) -> &BTreeMap<String, SimTag> {
        &self.tags
    }

    /// Platform views of every tag.
    pub fn views(&self) -> TagViews {
        TagViews(
            self.tags
                .values()
                .map(|t| (t.name.clone(), t.views))
                .collect(),
        )
    }

    /// What the rules and the views gate give: per topic, a group with its
    /// preferred rule tag (when it passes), and the other rule tags as the
    /// group's reserve.
    pub fn one_shot_selection(&self, gate: ViewsGate) -> (Selection, Reserve) {
        let mut groups = Vec::new();
        let mut reserve = BTreeMap::new();
        for (topic, (pref, others)) in self.rule_tags.iter().enumerate() {
            let label = LabelRef {
                dataset: "sim".into(),
                name: format!("topic {topic}"),
            };
            let prov = |rule| {
                vec![Provenance {
                    rule,
                    from: label.to_string(),
                }]
            };
            let t = &self.tags[pref];
            let decision = gate.decide(Some(t.views), 0);
            if !decision.passed() {
                continue;
            }
            let id = groups.len();
            groups.push(ActionGroup {
                id,
                name: pref.clone(),
                tags: vec![GroupMember {
                    tag: pref.clone(),
                    provenance: prov(Rule::Generalisation),
                    posts: 0,
                    gate: decision,
                }],
                seed_labels: vec![label.clone()],
                merges: Vec::new(),
                posts: 0,
                views: t.views,
            });
            let rest: Vec<_> = others
                .iter()
                .filter(|o| gate.decide(Some(self.tags[*o].views), 0).passed())
                .map(|o| (o.clone(), prov(Rule::Literal)))
                .collect();
            reserve.insert(id, rest);
        }
        let selection = Selection {
            groups,
            rejected: Vec::new(),
            labels_without_group: Vec::new(),
            posts_seen: 0,
            config: SelectConfig {
                gate,
                ..SelectConfig::default()
            },
        };
        (selection, reserve)
    }

    /// Crawls up to `n` new posts of `tag` and runs the simulated filters
    /// and frame selection on them.
    pub fn crawl(&mut self, tag: &str, n: u64) -> TagObservation {
        let Some(t) = self.tags.get(tag).cloned() else {
            return TagObservation {
                tag: tag.to_owned(),
                exhausted: true,
                ..Default::default()
            };
        };
        let done = self.crawled.entry(tag.to_owned()).or_default();
        let m = n.min(t.pool - *done);
        *done += m;
        let exhausted = *done >= t.pool;
        let topic = match t.kind {
            TagKind::Seed(k) | TagKind::Synonym(k) | TagKind::Style(k) | TagKind::Decoy(k) => {
                Some(k)
            }
            _ => None,
        };
        let mut neighbours: BTreeMap<String, u64> = BTreeMap::new();
        let (mut passed, mut kept) = (0, 0);
        let c = self.config.clone();
        for _ in 0..m {
            let on = chance(&mut self.rng, t.on_topic);
            let mut carry: Vec<&str> = Vec::new();
            if let (true, Some(k)) = (on, topic) {
                for other in &self.by_topic[k] {
                    let p = match self.tags[other].kind {
                        TagKind::Seed(_) => 0.5,
                        TagKind::Synonym(_) => 0.3,
                        TagKind::Style(_) if matches!(t.kind, TagKind::Style(_)) => 0.05,
                        TagKind::Style(_) => 0.12,
                        _ => 0.0,
                    };
                    if other != tag && chance(&mut self.rng, p) {
                        carry.push(other);
                    }
                }
            } else {
                if !self.off_topic.is_empty() {
                    carry.push(&self.off_topic[below(&mut self.rng, self.off_topic.len())]);
                }
                if !self.by_topic.is_empty() && chance(&mut self.rng, 0.05) {
                    // Off-topic posts sometimes borrow a random topic's tag.
                    let k = below(&mut self.rng, self.by_topic.len());
                    carry.push(&self.by_topic[k][0]);
                }
            }
            for s in &self.spam {
                if chance(&mut self.rng, 0.3) {
                    carry.push(s);
                }
            }
            carry.sort_unstable();
            carry.dedup();
            for x in carry {
                *neighbours.entry(x.to_owned()).or_default() += 1;
            }
            let pass = chance(
                &mut self.rng,
                if on {
                    c.filter_pass_on
                } else {
                    c.filter_pass_off
                },
            );
            if pass {
                passed += 1;
                if chance(&mut self.rng, if on { c.keep_on } else { c.keep_off }) {
                    kept += 1;
                }
            }
        }
        TagObservation {
            tag: tag.to_owned(),
            crawled: m,
            exhausted,
            passed_filters: passed,
            accepted_clips: kept,
            neighbours: neighbours
                .into_iter()
                .map(|(t, posts)| NeighbourCount {
                    views: Some(self.tags[&t].views),
                    tag: t,
                    posts,
                })
                .collect(),
        }
    }

    /// On-topic tags (seeds, synonyms, styles) that pass the gate: the
    /// recall denominator.
    pub fn true_tags(&self, gate: ViewsGate) -> Vec<&str> {
        self.tags
            .values()
            .filter(|t| t.kind.true_topic().is_some() && gate.decide(Some(t.views), 0).passed())
            .map(|t| t.name.as_str())
            .collect()
    }
}
