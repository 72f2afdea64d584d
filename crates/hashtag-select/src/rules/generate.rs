//! [`CandidateSet::generate`]: every rule applied to every label. Labels
//! are parsed into verb and object first; what several labels share (a
//! verb, an object, a head noun) decides which generalisations are made.

use std::collections::{BTreeMap, BTreeSet};

use super::{CandidateSet, LabelRef, Rule, RuleConfig, UngroupedLabel};
use crate::vocab::{ActionLabel, UngroupedReason, Vocabulary};
use crate::words::{VerbForms, WordSplitter, gerund_bases, is_gerund, is_particle};

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
}
