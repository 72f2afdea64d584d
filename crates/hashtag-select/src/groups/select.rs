//! [`select_groups`]: per label its preferred passing tag, the styles and
//! variants that go with it, a fallback umbrella for labels with none, then
//! consolidation into numbered groups.

use std::collections::{BTreeMap, BTreeSet};

use super::{ActionGroup, GroupMember, Rejected, SelectConfig, Selection};
use crate::consolidate::consolidate;
use crate::error::HashtagError;
use crate::rules::{Candidate, CandidateSet, LabelRef, Provenance, Rule, UngroupedLabel};
use crate::stats::{GateDecision, TagStats, TagViews};
use crate::tables::SynonymTable;
use crate::vocab::UngroupedReason;
use crate::words::label_words;

/// Picks the action groups from candidates, crawl statistics (computed with
/// the candidates as focus tags) and platform views. A configuration that
/// fails [`SelectConfig::validate`] is an error.
///
/// ```
/// # use hashtag_select::{CandidateSet, RuleConfig, SelectConfig, StatsConfig, TagStats, TagViews,
/// #     Vocabulary, select_groups, words::WordSplitter};
/// # let vocab = Vocabulary::from_names("demo", &["playing piano", "juggling"]);
/// # let cands = CandidateSet::generate(&[vocab], &RuleConfig::default(), &WordSplitter::new());
/// # let focus: Vec<&String> = cands.candidates.keys().collect();
/// # let mut stats = TagStats::new(StatsConfig::default(), &focus);
/// # stats.add_post(["piano"], Some(1_000));
/// # let mut views = TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let syn = RuleConfig::default().synonyms;
/// // One label "playing piano" (#piano: 9M platform views), one "juggling" (no views).
/// let sel = select_groups(&cands, &stats, &views, &syn, &SelectConfig::default())?;
/// let names: Vec<&str> = sel.groups.iter().map(|g| g.name.as_str()).collect();
/// assert_eq!(names, ["piano"]);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
pub fn select_groups(
    candidates: &CandidateSet,
    stats: &TagStats,
    views: &TagViews,
    synonyms: &SynonymTable,
    config: &SelectConfig,
) -> Result<Selection, HashtagError> {
    config.validate()?;
    let gate_of = |tag: &str| {
        let crawl = stats.count(tag).map_or(0, |c| c.views);
        config.gate.decide(views.get(tag), crawl)
    };
    let gates: BTreeMap<&str, GateDecision> = candidates
        .candidates
        .keys()
        .map(|t| (t.as_str(), gate_of(t)))
        .collect();
    // A one-word label's own word (`skateboarding`) is the activity's name:
    // it competes with noun substitution on views.
    let rank = |c: &'_ Candidate, own_word: Option<&str>| {
        let pref = if own_word == Some(c.tag.as_str()) {
            c.preference().min(Rule::NounSubstitution.preference())
        } else {
            c.preference()
        };
        (pref, std::cmp::Reverse(gates[c.tag.as_str()].views()))
    };

    // Every label keeps its preferred passing tag, that tag's passing
    // variants, and the passing styles of either (table or co-occurrence).
    let labels: BTreeSet<&LabelRef> = candidates
        .candidates
        .values()
        .flat_map(|c| &c.labels)
        .collect();
    let mut chosen: BTreeMap<String, Vec<Provenance>> = BTreeMap::new();
    let mut no_own_tag: Vec<&LabelRef> = Vec::new();
    for label in labels {
        let mut own: Vec<&Candidate> = candidates
            .of_label(label)
            .into_iter()
            .filter(|c| gates[c.tag.as_str()].passed())
            .filter(|c| {
                c.provenance
                    .iter()
                    .any(|p| !matches!(p.rule, Rule::Specification | Rule::Variant))
            })
            .collect();
        let words = label_words(&label.name);
        let own_word = match words.as_slice() {
            [w] => Some(w.as_str()),
            _ => None,
        };
        own.sort_by(|a, b| {
            rank(a, own_word)
                .cmp(&rank(b, own_word))
                .then_with(|| a.tag.cmp(&b.tag))
        });
        let Some(best) = own.first() else {
            no_own_tag.push(label);
            continue;
        };
        let mut keep = vec![best.tag.clone()];
        for c in candidates.candidates.values() {
            let from_best = c.provenance.iter().any(|p| {
                p.from == best.tag && matches!(p.rule, Rule::Variant | Rule::Specification)
            });
            if from_best && gates[c.tag.as_str()].passed() {
                keep.push(c.tag.clone());
            }
        }
        for t in keep {
            chosen.entry(t.clone()).or_insert_with(|| {
                candidates.candidates[&t]
                    .provenance
                    .iter()
                    .cloned()
                    .collect()
            });
        }
    }
    let fallback = umbrella_fallback(
        candidates,
        &gates,
        &no_own_tag,
        config.umbrella_fallback,
        &mut chosen,
    );
    let mut labels_without_group = fallback.without;
    // A tag chosen only as a fallback umbrella stays apart from the
    // label-specific tags: a label with its own passing tag must not land
    // in the umbrella's group through a link (a shared root, overlapping
    // posts), or the umbrella would absorb the styles it was kept out of.
    let apart = |a: &str, b: &str| fallback.only.contains(a) != fallback.only.contains(b);
    // Styles from the style table whose umbrella passed the gate, even when
    // the umbrella stands for no label itself (`dance` over salsa, tango).
    for c in candidates.candidates.values() {
        if chosen.contains_key(&c.tag) || !gates[c.tag.as_str()].passed() {
            continue;
        }
        let of_passing_umbrella = c.provenance.iter().any(|p| {
            p.rule == Rule::Specification && gates.get(p.from.as_str()).is_some_and(|g| g.passed())
        });
        if of_passing_umbrella {
            chosen.insert(c.tag.clone(), c.provenance.iter().cloned().collect());
        }
    }
    // Styles from co-occurrence: most of the neighbour's posts carry the
    // selected tag, yet the two are not the same set.
    let mut styles: Vec<(String, Provenance)> = Vec::new();
    for tag in chosen.keys() {
        let Some(neigh) = stats.neighbours(tag, usize::MAX) else {
            continue;
        };
        let mut taken = 0;
        for n in neigh {
            let n_posts = stats.posts_of(&n.tag);
            if taken >= config.max_styles
                || n_posts < config.style_min_posts
                || chosen.contains_key(&n.tag)
            {
                continue;
            }
            let share = n.posts.saturating_sub(n.error) as f64 / n_posts as f64;
            let same_set = stats
                .jaccard(tag, &n.tag)
                .is_some_and(|j| j >= config.consolidation.jaccard);
            if share >= config.style_min_share
                && !same_set
                && n_posts < stats.posts_of(tag)
                && gate_of(&n.tag).passed()
            {
                styles.push((
                    n.tag.clone(),
                    Provenance {
                        rule: Rule::Specification,
                        from: tag.clone(),
                    },
                ));
                taken += 1;
            }
        }
    }
    for (t, p) in styles {
        chosen.entry(t).or_default().push(p);
    }
    // Other passing tags of the labels join a chosen tag they are linked to
    // (same root, overlapping posts, synonyms); unlinked ones stay reserves.
    let mut joined: Vec<(String, Vec<Provenance>)> = Vec::new();
    for c in candidates.candidates.values() {
        if chosen.contains_key(&c.tag) || c.labels.is_empty() || !gates[c.tag.as_str()].passed() {
            continue;
        }
        let link = chosen.keys().find(|t| {
            !apart(&c.tag, t)
                && config
                    .consolidation
                    .link(&c.tag, t, stats, synonyms)
                    .is_some()
        });
        if let Some(t) = link {
            let mut prov: Vec<Provenance> = c.provenance.iter().cloned().collect();
            prov.push(Provenance {
                rule: Rule::Consolidation,
                from: t.clone(),
            });
            joined.push((c.tag.clone(), prov));
        }
    }
    chosen.extend(joined);

    let tags: Vec<String> = chosen.keys().cloned().collect();
    let parts = consolidate(&tags, |a, b| {
        if apart(a, b) {
            return None;
        }
        config.consolidation.link(a, b, stats, synonyms)
    });
    let gate_views = |t: &str| gates.get(t).copied().unwrap_or_else(|| gate_of(t));
    let mut groups: Vec<ActionGroup> = parts
        .into_iter()
        .map(|(members, merges)| {
            let mut tags: Vec<GroupMember> = members
                .iter()
                .map(|t| GroupMember {
                    tag: t.clone(),
                    provenance: chosen[t].clone(),
                    posts: stats.posts_of(t),
                    gate: gate_views(t),
                })
                .collect();
            tags.sort_by(|a, b| {
                b.gate
                    .views()
                    .cmp(&a.gate.views())
                    .then_with(|| a.tag.cmp(&b.tag))
            });
            let seed_labels: BTreeSet<LabelRef> = members
                .iter()
                .filter_map(|t| candidates.candidates.get(t))
                .flat_map(|c| c.labels.iter().cloned())
                .chain(
                    members
                        .iter()
                        .filter_map(|t| fallback.labels.get(t))
                        .flatten()
                        .cloned(),
                )
                .collect();
            ActionGroup {
                id: 0,
                name: tags[0].tag.clone(),
                views: tags[0].gate.views(),
                posts: tags.iter().map(|m| m.posts).sum(),
                tags,
                seed_labels: seed_labels.into_iter().collect(),
                merges,
            }
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    for (i, g) in groups.iter_mut().enumerate() {
        g.id = i;
    }
    let rejected = candidates
        .candidates
        .keys()
        .filter(|t| !chosen.contains_key(*t))
        .map(|t| {
            let gate = gates[t.as_str()];
            let umbrella = candidates.candidates[t].labels.is_empty();
            let reason = match (gate.passed(), umbrella) {
                (false, _) => "below_views_gate",
                (true, true) => "not_a_label_tag",
                (true, false) => "not_preferred",
            };
            Rejected {
                tag: t.clone(),
                gate,
                reason: reason.to_owned(),
            }
        })
        .collect();
    labels_without_group.extend(candidates.ungrouped.iter().cloned());
    labels_without_group.sort();
    labels_without_group.dedup();
    Ok(Selection {
        groups,
        rejected,
        labels_without_group,
        posts_seen: stats.posts(),
        config: config.clone(),
    })
}

/// What [`umbrella_fallback`] decided.
struct Fallback {
    /// Tags chosen only as an umbrella (not some label's own tag).
    only: BTreeSet<String>,
    /// Umbrella tag -> the labels it became the group of.
    labels: BTreeMap<String, BTreeSet<LabelRef>>,
    /// Labels with no passing umbrella either.
    without: Vec<UngroupedLabel>,
}

/// Gives each label in `no_own_tag` the group of its most-viewed passing
/// umbrella verb (ties by tag), recording [`Rule::UmbrellaFallback`] from the
/// label in the umbrella's provenance. With `enabled` false, every label in
/// `no_own_tag` stays without a group.
fn umbrella_fallback(
    candidates: &CandidateSet,
    gates: &BTreeMap<&str, GateDecision>,
    no_own_tag: &[&LabelRef],
    enabled: bool,
    chosen: &mut BTreeMap<String, Vec<Provenance>>,
) -> Fallback {
    let mut out = Fallback {
        only: BTreeSet::new(),
        labels: BTreeMap::new(),
        without: Vec::new(),
    };
    for &label in no_own_tag {
        let umbrella = candidates
            .umbrellas
            .iter()
            .filter(|(_, labels)| enabled && labels.contains(label))
            .filter_map(|(t, _)| gates.get(t.as_str()).map(|g| (t, g)))
            .filter(|(_, g)| g.passed())
            .min_by(|(ta, ga), (tb, gb)| gb.views().cmp(&ga.views()).then_with(|| ta.cmp(tb)));
        let Some((tag, _)) = umbrella else {
            out.without.push(UngroupedLabel {
                label: label.clone(),
                reason: UngroupedReason::NoTagPassedGate,
            });
            continue;
        };
        let prov = chosen.entry(tag.clone()).or_insert_with(|| {
            out.only.insert(tag.clone());
            candidates.candidates[tag]
                .provenance
                .iter()
                .cloned()
                .collect()
        });
        prov.push(Provenance {
            rule: Rule::UmbrellaFallback,
            from: label.to_string(),
        });
        out.labels
            .entry(tag.clone())
            .or_default()
            .insert(label.clone());
    }
    out
}
