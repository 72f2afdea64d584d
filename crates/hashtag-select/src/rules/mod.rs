//! Candidate hashtags from action labels, each with the rule(s) that made it
//! (SPEC 1a): generalisation, noun substitution, both noun-verb orders,
//! specification, social/cultural variants, and the literal concatenation.
//!
//! The rules propose; the views gate, the crawl statistics and the adaptive
//! loop dispose. Over-generation is cheap (a tag nobody uses fails the gate),
//! a missing candidate is not, so the rules err on the side of proposing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::tables::{StyleTable, SynonymTable};
use crate::vocab::{ActionLabel, UngroupedReason};

mod generate;

/// Why a tag is a candidate.
///
/// ```
/// use hashtag_select::{CandidateSet, Rule, RuleConfig, Vocabulary, words::WordSplitter};
/// let v = Vocabulary::from_names("demo", &["playing piano"]);
/// let set = CandidateSet::generate(&[v], &RuleConfig::default(), &WordSplitter::new());
/// assert!(set.has_rule("piano", Rule::NounSubstitution));
/// assert!(set.has_rule("playingpiano", Rule::Literal));
/// assert!(set.has_rule("pianoplaying", Rule::NounVerbOrder));
/// assert!(Rule::Generalisation.preference() < Rule::Literal.preference());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The broad activity (`dribbling basketball` -> `basketball`, `swimming
    /// backstroke` -> `swimming` as an umbrella, `TennisSwing` -> `tennis`).
    Generalisation,
    /// The object noun is the tag (`playing piano` -> `piano`).
    NounSubstitution,
    /// The label's words concatenated (`playingbasketball`, `skateboarding`).
    Literal,
    /// The other noun-verb order (`pianoplaying`, `skateboarding` ->
    /// `boardskating`).
    NounVerbOrder,
    /// A style of an umbrella action (`ballroomdance` -> `salsa`), from a
    /// style table or from co-occurrence.
    Specification,
    /// A regional or community spelling from a synonym table
    /// (`soccer` -> `football`).
    Variant,
    /// Merged into a group because its posts overlap another member's, or
    /// it shares a root or a synonym entry.
    Consolidation,
    /// Promoted by the adaptive loop from co-occurrence in crawled posts.
    Cooccurrence,
    /// The group of a label whose own tags all failed the views gate: the
    /// umbrella verb it shares with other labels (`skiing` for `skiing
    /// slalom` when `#skiingslalom` and `#slalom` have no views). `from` is
    /// the label.
    UmbrellaFallback,
}

impl Rule {
    /// Preference when a label offers several tags (lower wins): the broad
    /// activity first (SPEC: `#basketball`, not `#playingbasketball`).
    pub fn preference(self) -> u8 {
        match self {
            Rule::Generalisation => 0,
            Rule::NounSubstitution => 1,
            Rule::Literal | Rule::NounVerbOrder => 2,
            Rule::Variant => 3,
            Rule::Specification
            | Rule::Consolidation
            | Rule::Cooccurrence
            | Rule::UmbrellaFallback => 4,
        }
    }
}

/// One reason a tag is a candidate: the rule and what it was applied to
/// (`kinetics400:playing piano`, or the umbrella / source tag).
///
/// ```
/// use hashtag_select::{CandidateSet, Rule, RuleConfig, Vocabulary, words::WordSplitter};
/// let v = Vocabulary::from_names("demo", &["playing piano"]);
/// let set = CandidateSet::generate(&[v], &RuleConfig::default(), &WordSplitter::new());
/// let p = set.candidates["piano"].provenance.first().unwrap();
/// assert_eq!((p.rule, p.from.as_str()), (Rule::NounSubstitution, "demo:playing piano"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The rule.
    pub rule: Rule,
    /// The label (`dataset:name`) or tag it was applied to.
    pub from: String,
}

/// A label a candidate came from.
///
/// ```
/// use hashtag_select::rules::LabelRef;
/// let l = LabelRef { dataset: "kinetics400".into(), name: "playing piano".into() };
/// assert_eq!(l.to_string(), "kinetics400:playing piano");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LabelRef {
    /// Vocabulary name.
    pub dataset: String,
    /// Class name as written.
    pub name: String,
}

impl LabelRef {
    fn of(l: &ActionLabel) -> Self {
        LabelRef {
            dataset: l.dataset.clone(),
            name: l.name.clone(),
        }
    }
}

impl std::fmt::Display for LabelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.dataset, self.name)
    }
}

/// A label that has no action group, and why.
///
/// ```
/// use hashtag_select::{CandidateSet, RuleConfig, UngroupedReason, Vocabulary, words::WordSplitter};
/// let v = Vocabulary::from_names("demo", &["playing piano", "???"]);
/// let set = CandidateSet::generate(&[v], &RuleConfig::default(), &WordSplitter::new());
/// let u = &set.ungrouped[0];
/// assert_eq!(u.label.to_string(), "demo:???");
/// assert_eq!(u.reason, UngroupedReason::NoContentWords);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UngroupedLabel {
    /// The label.
    #[serde(flatten)]
    pub label: LabelRef,
    /// Why it has no group.
    pub reason: UngroupedReason,
}

/// A candidate tag and everything that proposed it.
///
/// ```
/// use hashtag_select::{CandidateSet, RuleConfig, Vocabulary, words::WordSplitter};
/// let v = Vocabulary::from_names("demo", &["playing piano"]);
/// let set = CandidateSet::generate(&[v], &RuleConfig::default(), &WordSplitter::new());
/// let c = &set.candidates["piano"];
/// assert_eq!(c.labels.first().unwrap().name, "playing piano");
/// assert_eq!(c.preference(), 1); // noun substitution
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Normal form.
    pub tag: String,
    /// Rules and their sources.
    pub provenance: BTreeSet<Provenance>,
    /// Labels it stands for.
    pub labels: BTreeSet<LabelRef>,
}

impl Candidate {
    /// The best (lowest) rule preference among its provenance.
    pub fn preference(&self) -> u8 {
        self.provenance
            .iter()
            .map(|p| p.rule.preference())
            .min()
            .unwrap_or(u8::MAX)
    }
}

/// Knobs of the rules.
///
/// ```
/// use hashtag_select::{CandidateSet, RuleConfig, Vocabulary, words::WordSplitter};
/// let mut config = RuleConfig::default();
/// assert!(config.generic_verbs.contains("playing"));
/// config.min_chars = 6; // drop `piano`
/// let v = Vocabulary::from_names("demo", &["playing piano"]);
/// let set = CandidateSet::generate(&[v], &config, &WordSplitter::new());
/// assert!(!set.candidates.contains_key("piano"));
/// assert!(set.candidates.contains_key("playingpiano"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// Specification table.
    pub styles: StyleTable,
    /// Social/cultural variant table.
    pub synonyms: SynonymTable,
    /// Verbs too generic to be an activity on their own (`playing`).
    pub generic_verbs: BTreeSet<String>,
    /// Verbs whose object is itself an activity (`playing basketball`,
    /// `doing yoga`): only such objects generalise.
    pub activity_verbs: BTreeSet<String>,
    /// Shortest tag proposed, in characters.
    pub min_chars: usize,
}

impl Default for RuleConfig {
    fn default() -> Self {
        let generic = [
            "playing",
            "doing",
            "making",
            "using",
            "getting",
            "having",
            "taking",
            "giving",
            "putting",
            "holding",
            "moving",
            "showing",
            "trying",
            "going",
            "letting",
            "pretending",
            "looking",
            "turning",
            "pushing",
            "pulling",
            "opening",
            "closing",
        ];
        RuleConfig {
            styles: StyleTable::published(),
            synonyms: SynonymTable::common(),
            generic_verbs: generic.iter().map(|s| s.to_string()).collect(),
            activity_verbs: ["playing", "doing", "practicing", "practising", "performing"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            min_chars: 3,
        }
    }
}

/// All candidates of a set of vocabularies.
///
/// ```
/// use hashtag_select::{CandidateSet, RuleConfig, Vocabulary, words::WordSplitter};
/// let v = Vocabulary::from_names("demo", &["playing piano"]);
/// let label = v.labels[0].clone();
/// let set = CandidateSet::generate(&[v], &RuleConfig::default(), &WordSplitter::new());
/// let label = hashtag_select::rules::LabelRef { dataset: label.dataset, name: label.name };
/// let tags: Vec<&str> = set.of_label(&label).iter().map(|c| c.tag.as_str()).collect();
/// assert_eq!(tags, ["piano", "pianoplaying", "playingpiano"]);
/// assert!(set.ungrouped.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateSet {
    /// Candidates by tag.
    pub candidates: BTreeMap<String, Candidate>,
    /// Labels no candidate stands for: left out when the list was read
    /// ([`Vocabulary::skipped`](crate::Vocabulary::skipped)), or given no tag by the rules.
    #[serde(default)]
    pub ungrouped: Vec<UngroupedLabel>,
    /// Umbrella verbs (`dancing`, and its base form `dance` when the crawl
    /// uses it) -> the labels they generalise without standing for them
    /// (`salsa dancing`, `tango dancing`). The selection falls back to one
    /// for a label none of whose own tags passes the views gate.
    #[serde(default)]
    pub umbrellas: BTreeMap<String, BTreeSet<LabelRef>>,
}

impl CandidateSet {
    /// Adds a candidate; `label` is the label it stands for (`None` for an
    /// umbrella that only generalises labels).
    fn add(
        &mut self,
        tag: String,
        rule: Rule,
        from: &str,
        label: Option<&ActionLabel>,
        min_chars: usize,
    ) {
        if tag.chars().count() < min_chars {
            return;
        }
        let c = self.entry(tag);
        c.provenance.insert(Provenance {
            rule,
            from: from.to_owned(),
        });
        if let Some(l) = label {
            c.labels.insert(LabelRef::of(l));
        }
    }

    /// The candidate for `tag`, created empty if new.
    fn entry(&mut self, tag: String) -> &mut Candidate {
        self.candidates
            .entry(tag.clone())
            .or_insert_with(|| Candidate {
                tag,
                ..Default::default()
            })
    }

    /// Specification children and variants of every candidate, inheriting
    /// its labels (applied once: children of children are not expanded).
    fn expand_tables(&mut self, config: &RuleConfig) {
        let mut extra: Vec<(String, Rule, String, BTreeSet<LabelRef>)> = Vec::new();
        for c in self.candidates.values() {
            for s in config.styles.styles(&c.tag) {
                extra.push((
                    s.to_owned(),
                    Rule::Specification,
                    c.tag.clone(),
                    c.labels.clone(),
                ));
            }
            for v in config.synonyms.variants(&c.tag) {
                extra.push((v.to_owned(), Rule::Variant, c.tag.clone(), c.labels.clone()));
            }
        }
        for (tag, rule, from, labels) in extra {
            let c = self.entry(tag);
            c.provenance.insert(Provenance { rule, from });
            c.labels.extend(labels);
        }
    }

    /// Candidates of one label, best preference first, then by tag.
    pub fn of_label(&self, label: &LabelRef) -> Vec<&Candidate> {
        let mut v: Vec<&Candidate> = self
            .candidates
            .values()
            .filter(|c| c.labels.contains(label))
            .collect();
        v.sort_by(|a, b| a.preference().cmp(&b.preference()).then(a.tag.cmp(&b.tag)));
        v
    }

    /// Whether `tag` was proposed by `rule`.
    pub fn has_rule(&self, tag: &str, rule: Rule) -> bool {
        self.candidates
            .get(tag)
            .is_some_and(|c| c.provenance.iter().any(|p| p.rule == rule))
    }
}
