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
use crate::vocab::{ActionLabel, UngroupedReason, Vocabulary};
use crate::words::{VerbForms, WordSplitter, gerund_bases, is_gerund, is_particle};

/// Why a tag is a candidate.
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The rule.
    pub rule: Rule,
    /// The label (`dataset:name`) or tag it was applied to.
    pub from: String,
}

/// A label a candidate came from.
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UngroupedLabel {
    /// The label.
    #[serde(flatten)]
    pub label: LabelRef,
    /// Why it has no group.
    pub reason: UngroupedReason,
}

/// A candidate tag and everything that proposed it.
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateSet {
    /// Candidates by tag.
    pub candidates: BTreeMap<String, Candidate>,
    /// Labels no candidate stands for: left out when the list was read
    /// ([`Vocabulary::skipped`]), or given no tag by the rules.
    #[serde(default)]
    pub ungrouped: Vec<UngroupedLabel>,
    /// Umbrella verbs (`dancing`, and its base form `dance` when the crawl
    /// uses it) -> the labels they generalise without standing for them
    /// (`salsa dancing`, `tango dancing`). The selection falls back to one
    /// for a label none of whose own tags passes the views gate.
    #[serde(default)]
    pub umbrellas: BTreeMap<String, BTreeSet<LabelRef>>,
}

/// A label split into its verb and the rest.
struct Parsed<'a> {
    label: &'a ActionLabel,
    /// The verb as a gerund (`playing`; `brush` -> `brushing`).
    gerund: Option<String>,
    /// The verb as written in the label.
    verb: Option<&'a str>,
    /// The other content words, in order, without particles.
    object: Vec<&'a str>,
    /// The object comes before the verb (`salsa dancing`, `ice skating`):
    /// it qualifies the verb rather than being acted on.
    before: bool,
}

fn parse<'a>(label: &'a ActionLabel, forms: &VerbForms) -> Parsed<'a> {
    let w = &label.words;
    let verb_at = w
        .iter()
        .position(|x| is_gerund(x))
        .or_else(|| (w.len() >= 2 && forms.is_base(&w[0])).then_some(0));
    let Some(i) = verb_at else {
        return Parsed {
            label,
            gerund: None,
            verb: None,
            object: w
                .iter()
                .map(String::as_str)
                .filter(|x| !is_particle(x))
                .collect(),
            before: false,
        };
    };
    let verb = w[i].as_str();
    let gerund = if is_gerund(verb) {
        verb.to_owned()
    } else {
        forms.gerund(verb)
    };
    let object = w
        .iter()
        .enumerate()
        .filter(|&(j, x)| j != i && !is_particle(x))
        .map(|(_, x)| x.as_str())
        .collect();
    Parsed {
        label,
        gerund: Some(gerund),
        verb: Some(verb),
        object,
        before: i > 0,
    }
}

impl CandidateSet {
    /// Applies every rule to every label. `lexicon` supplies the words that
    /// compound tags may be split into (label words are added to a copy).
    pub fn generate(vocabs: &[Vocabulary], config: &RuleConfig, lexicon: &WordSplitter) -> Self {
        let labels: Vec<&ActionLabel> = vocabs.iter().flat_map(|v| &v.labels).collect();
        let forms = VerbForms::learn(labels.iter().map(|l| l.words.as_slice()));
        let corpus = lexicon;
        let mut lexicon = lexicon.clone();
        for l in &labels {
            for w in &l.words {
                lexicon.add(w, 10);
                if let Some(b) = gerund_bases(w).into_iter().next() {
                    lexicon.add(&b, 2);
                }
            }
        }
        let parsed: Vec<Parsed> = labels.iter().map(|l| parse(l, &forms)).collect();
        // How many labels share each verb, object, head noun and first word:
        // a shared part is an umbrella activity (generalisation).
        let mut verb_objects: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut object_verbs: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        let mut heads: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut label_words: BTreeMap<&str, usize> = BTreeMap::new();
        let mut activity_objects: BTreeSet<String> = BTreeSet::new();
        for p in &parsed {
            let activity = p
                .gerund
                .as_deref()
                .is_some_and(|g| config.activity_verbs.contains(g));
            if activity && !p.before && !p.object.is_empty() {
                activity_objects.insert(p.object.concat());
            }
        }
        for p in &parsed {
            if let Some(g) = &p.gerund {
                verb_objects
                    .entry(g.as_str())
                    .or_default()
                    .insert(p.object.concat());
                object_verbs
                    .entry(p.object.concat())
                    .or_default()
                    .insert(g.as_str());
            }
            if p.object.len() >= 2 {
                heads
                    .entry(p.object[p.object.len() - 1])
                    .or_default()
                    .insert(p.object.concat());
            }
            for w in p.label.words.iter().collect::<BTreeSet<_>>() {
                *label_words.entry(w.as_str()).or_default() += 1;
            }
        }
        let mut set = CandidateSet::default();
        let mut umbrellas: Vec<(String, LabelRef)> = Vec::new();
        for p in &parsed {
            let from = LabelRef::of(p.label).to_string();
            // (tag, rule, stands for the label)
            let mut out: Vec<(String, Rule, bool)> = Vec::new();
            out.push((p.label.words.concat(), Rule::Literal, true));
            let object = p.object.concat();
            match &p.gerund {
                Some(g) if !p.object.is_empty() => {
                    let verbs = object_verbs.get(&object).map_or(0, BTreeSet::len);
                    let activity = config.activity_verbs.contains(g.as_str());
                    // The object as the tag: with a generic or activity verb
                    // (`playing piano` -> `piano`), or a qualifier used with
                    // this verb only (`salsa dancing` -> `salsa`). Otherwise
                    // it is proposed without standing for the label
                    // (`brushing teeth` -> `teeth`; `ice` of ice skating,
                    // ice fishing, ice climbing).
                    let stands = if p.before {
                        verbs == 1
                    } else {
                        activity || config.generic_verbs.contains(g.as_str())
                    };
                    out.push((object.clone(), Rule::NounSubstitution, stands));
                    out.push((format!("{object}{g}"), Rule::NounVerbOrder, true));
                    out.push((format!("{g}{object}"), Rule::NounVerbOrder, true));
                    if p.verb.is_some_and(|v| v != g) {
                        // base-form label (`brush hair`): the literal used the base
                        out.push((
                            format!("{object}{}", p.verb.unwrap_or_default()),
                            Rule::NounVerbOrder,
                            true,
                        ));
                    }
                    // An activity several actions share (`dribbling`,
                    // `dunking`, `playing basketball` -> `basketball`).
                    if !p.before && verbs >= 2 && activity_objects.contains(&object) {
                        out.push((object.clone(), Rule::Generalisation, true));
                    }
                    if p.object.len() >= 2 && activity {
                        let head = p.object[p.object.len() - 1];
                        // Only when distinct objects share it (ice / field
                        // hockey), not one object named by several labels.
                        if heads.get(head).is_some_and(|objects| objects.len() >= 2) {
                            out.push((head.to_owned(), Rule::Generalisation, true));
                        }
                    }
                    if p.before && verbs >= 2 {
                        out.push((object.clone(), Rule::Generalisation, false));
                    }
                    if !config.generic_verbs.contains(g.as_str())
                        && verb_objects.get(g.as_str()).is_some_and(|o| o.len() >= 2)
                    {
                        // The umbrella of several styles (`dancing` over
                        // `salsa dancing`, `tango dancing`): a candidate, but
                        // not the label's tag, or every style would collapse
                        // into it (SPEC 1a splits umbrellas into styles).
                        out.push((g.clone(), Rule::Generalisation, false));
                        umbrellas.push((g.clone(), LabelRef::of(p.label)));
                        for base in gerund_bases(g) {
                            if base.len() >= 4
                                && corpus.contains(&base)
                                && !forms.is_known_gerund(&base)
                            {
                                umbrellas.push((base.clone(), LabelRef::of(p.label)));
                                out.push((base, Rule::Generalisation, false));
                                break;
                            }
                        }
                    }
                }
                Some(g) => {
                    // One-word gerund (`skateboarding`): split its stem into
                    // verb + noun and swap (`board` + `skating`).
                    let stem = &g[..g.len() - 3];
                    if let Some(parts) = lexicon.split(stem).filter(|p| p.len() == 2) {
                        out.push((stem.to_owned(), Rule::NounSubstitution, true));
                        if forms.is_base(&parts[0]) {
                            out.push((
                                format!("{}{}", parts[1], forms.gerund(&parts[0])),
                                Rule::NounVerbOrder,
                                true,
                            ));
                        }
                    }
                }
                None if p.object.len() >= 2 => {
                    // Verbless noun phrase (`tennis swing`, `basketball
                    // dunk`): the first word when it is an activity elsewhere
                    // (`playing tennis`).
                    let first = p.object[0];
                    if label_words.get(first).is_some_and(|&n| n >= 2)
                        && activity_objects.contains(first)
                    {
                        out.push((first.to_owned(), Rule::Generalisation, true));
                    }
                }
                None => {}
            }
            for (tag, rule, stands_for) in out {
                set.add(
                    tag,
                    rule,
                    &from,
                    stands_for.then_some(p.label),
                    config.min_chars,
                );
            }
        }

        set.expand_tables(config);
        // Only umbrellas that became candidates (long enough) are recorded.
        for (tag, label) in umbrellas {
            if set.candidates.contains_key(&tag) {
                set.umbrellas.entry(tag).or_default().insert(label);
            }
        }
        // Every label of the lists is accounted for: one no candidate stands
        // for is listed, never silently lost.
        let covered: BTreeSet<&LabelRef> =
            set.candidates.values().flat_map(|c| &c.labels).collect();
        let mut ungrouped: Vec<UngroupedLabel> = labels
            .iter()
            .map(|l| LabelRef::of(l))
            .filter(|l| !covered.contains(l))
            .map(|label| UngroupedLabel {
                label,
                reason: UngroupedReason::NoCandidate,
            })
            .collect();
        for v in vocabs {
            ungrouped.extend(v.skipped.iter().map(|s| UngroupedLabel {
                label: LabelRef {
                    dataset: v.name.clone(),
                    name: s.name.clone(),
                },
                reason: s.reason,
            }));
        }
        ungrouped.sort();
        ungrouped.dedup();
        set.ungrouped = ungrouped;
        set
    }

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
