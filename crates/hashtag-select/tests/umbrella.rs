//! Umbrella verbs (issue 11): a verb several Kinetics-400 labels share
//! (`skiing`, `dancing`, `juggling`) is the group of the labels whose own
//! tags all fail the views gate, and of no other label; an umbrella whose
//! children all pass forms no group.
//!
//! The labels are Kinetics-400 class names written inline (the shared list
//! is only used, when present, to check they are spelled as there); posts
//! and views are hand-written so each specific tag passes or fails on
//! purpose.

use std::collections::BTreeSet;
use std::path::Path;

use hashtag_select::rules::{LabelRef, Rule};
use hashtag_select::vocab::UngroupedReason;
use hashtag_select::words::WordSplitter;
use hashtag_select::{
    CandidateSet, RuleConfig, SelectConfig, Selection, StatsConfig, TagStats, TagViews, Vocabulary,
    select_groups,
};

/// Kinetics-400 labels the table uses, as the class list spells them.
const LABELS: &[&str] = &[
    "skiing slalom",
    "skiing crosscountry",
    "skiing (not slalom or crosscountry)",
    "water skiing",
    "salsa dancing",
    "tango dancing",
    "swing dancing",
    "juggling balls",
    "juggling fire",
    "contact juggling",
    "playing piano",
];

const GATE: u64 = 5_000_000;

/// Where a label landed: the group's name and whether it is there as an
/// umbrella fallback; `None` when it has no group.
type Landing = Option<(&'static str, bool)>;

struct Case {
    name: &'static str,
    /// Labels of the vocabulary (a subset of [`LABELS`]).
    labels: &'static [&'static str],
    /// Platform views; every other tag has none and fails the gate.
    views: &'static [(&'static str, u64)],
    /// Posts of the crawl, as their tags (each also has 1 view, so the
    /// crawl's own figure never passes the gate).
    posts: &'static [&'static [&'static str]],
    fallback: bool,
    expect: &'static [(&'static str, Landing)],
    /// Tags that must not name a group.
    no_group: &'static [&'static str],
}

const SKI: &[&str] = &[
    "skiing slalom",
    "skiing crosscountry",
    "skiing (not slalom or crosscountry)",
    "water skiing",
];
const DANCE: &[&str] = &["salsa dancing", "tango dancing", "swing dancing"];
const JUGGLE: &[&str] = &[
    "juggling balls",
    "juggling fire",
    "contact juggling",
    "playing piano",
];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "specific ski tags fail, #skiing passes: umbrella takes slalom and crosscountry",
            labels: SKI,
            views: &[("skiing", 300_000_000), ("waterskiing", 20_000_000)],
            posts: &[&["skiing"], &["waterskiing"], &["skiingslalom"]],
            fallback: true,
            expect: &[
                ("skiing slalom", Some(("skiing", true))),
                ("skiing crosscountry", Some(("skiing", true))),
                // #skiing is this label's own (literal) tag, not a fallback.
                (
                    "skiing (not slalom or crosscountry)",
                    Some(("skiing", false)),
                ),
                // Its own tag passes: it stays out of the umbrella group.
                ("water skiing", Some(("waterskiing", false))),
            ],
            no_group: &[],
        },
        Case {
            name: "the same without the fallback (the old behaviour): no group",
            labels: SKI,
            views: &[("skiing", 300_000_000), ("waterskiing", 20_000_000)],
            posts: &[&["skiing"], &["waterskiing"]],
            fallback: false,
            expect: &[
                ("skiing slalom", None),
                ("skiing crosscountry", None),
                (
                    "skiing (not slalom or crosscountry)",
                    Some(("skiing", false)),
                ),
                ("water skiing", Some(("waterskiing", false))),
            ],
            no_group: &[],
        },
        Case {
            name: "one specific ski tag passes: only slalom falls back",
            labels: SKI,
            views: &[
                ("skiing", 300_000_000),
                ("crosscountryskiing", 9_000_000),
                ("waterskiing", 20_000_000),
            ],
            posts: &[&["skiing"], &["crosscountryskiing"], &["waterskiing"]],
            fallback: true,
            expect: &[
                ("skiing slalom", Some(("skiing", true))),
                ("skiing crosscountry", Some(("crosscountryskiing", false))),
                (
                    "skiing (not slalom or crosscountry)",
                    Some(("skiing", false)),
                ),
                ("water skiing", Some(("waterskiing", false))),
            ],
            no_group: &[],
        },
        Case {
            name: "every specific ski tag passes: the umbrella only keeps its own label",
            labels: SKI,
            views: &[
                ("skiing", 300_000_000),
                ("slalomskiing", 6_000_000),
                ("crosscountryskiing", 9_000_000),
                ("waterskiing", 20_000_000),
            ],
            posts: &[&["skiing"], &["slalomskiing"], &["crosscountryskiing"]],
            fallback: true,
            expect: &[
                ("skiing slalom", Some(("slalomskiing", false))),
                ("skiing crosscountry", Some(("crosscountryskiing", false))),
                (
                    "skiing (not slalom or crosscountry)",
                    Some(("skiing", false)),
                ),
                ("water skiing", Some(("waterskiing", false))),
            ],
            no_group: &[],
        },
        Case {
            name: "nothing passes: no group, not even the umbrella's",
            labels: SKI,
            views: &[],
            posts: &[&["skiing"], &["slalomskiing"]],
            fallback: true,
            expect: &[
                ("skiing slalom", None),
                ("skiing crosscountry", None),
                ("skiing (not slalom or crosscountry)", None),
                ("water skiing", None),
            ],
            no_group: &["skiing"],
        },
        Case {
            name: "salsa, tango, swing pass: #dancing forms no group",
            labels: DANCE,
            views: &[
                ("dancing", 70_000_000),
                ("salsa", 80_000_000),
                ("tango", 40_000_000),
                ("swing", 30_000_000),
            ],
            posts: &[&["dancing"], &["salsa"], &["tango"], &["swing"]],
            fallback: true,
            expect: &[
                ("salsa dancing", Some(("salsa", false))),
                ("tango dancing", Some(("tango", false))),
                ("swing dancing", Some(("swing", false))),
            ],
            no_group: &["dancing"],
        },
        Case {
            name: "swing fails: #dancing is swing dancing's group only",
            labels: DANCE,
            views: &[
                ("dancing", 70_000_000),
                ("salsa", 80_000_000),
                ("tango", 40_000_000),
            ],
            posts: &[&["dancing"], &["salsa"], &["tango"]],
            fallback: true,
            expect: &[
                ("salsa dancing", Some(("salsa", false))),
                ("tango dancing", Some(("tango", false))),
                ("swing dancing", Some(("dancing", true))),
            ],
            no_group: &[],
        },
        Case {
            name: "juggling: the base form #juggle has more views and wins; contact keeps its own",
            labels: JUGGLE,
            views: &[
                ("juggling", 40_000_000),
                ("juggle", 60_000_000),
                ("contact", 7_000_000),
                ("piano", 50_000_000),
            ],
            posts: &[&["juggling"], &["juggle"], &["contact"], &["piano"]],
            fallback: true,
            expect: &[
                ("juggling balls", Some(("juggle", true))),
                ("juggling fire", Some(("juggle", true))),
                ("contact juggling", Some(("contact", false))),
                // A label with no umbrella verb is untouched.
                ("playing piano", Some(("piano", false))),
            ],
            no_group: &["juggling"],
        },
        Case {
            name: "a generic verb is no umbrella: playing piano stays without a group",
            labels: JUGGLE,
            views: &[("juggling", 40_000_000), ("playing", 900_000_000)],
            posts: &[&["juggling"], &["playing"]],
            fallback: true,
            expect: &[
                ("juggling balls", Some(("juggling", true))),
                ("juggling fire", Some(("juggling", true))),
                ("contact juggling", Some(("juggling", true))),
                ("playing piano", None),
            ],
            no_group: &["playing"],
        },
    ]
}

fn select(
    labels: &[&str],
    views: &[(&str, u64)],
    posts: &[&[&str]],
    fallback: bool,
) -> (Selection, CandidateSet) {
    let vocab = Vocabulary::from_names("kinetics400", labels);
    let rules = RuleConfig::default();
    let first = CandidateSet::generate(std::slice::from_ref(&vocab), &rules, &WordSplitter::new());
    let focus: Vec<&String> = first.candidates.keys().collect();
    let mut stats = TagStats::new(StatsConfig::default(), &focus);
    for p in posts {
        stats.add_post(p.iter().copied(), Some(1));
    }
    let candidates = CandidateSet::generate(&[vocab], &rules, &stats.lexicon());
    let mut v = TagViews::default();
    for (t, n) in views {
        v.insert(t, *n);
    }
    let config = SelectConfig {
        umbrella_fallback: fallback,
        ..SelectConfig::default()
    };
    assert_eq!(config.gate.min_views, GATE);
    let sel = select_groups(&candidates, &stats, &v, &rules.synonyms, &config).unwrap();
    (sel, candidates)
}

fn label(name: &str) -> LabelRef {
    LabelRef {
        dataset: "kinetics400".into(),
        name: name.into(),
    }
}

/// Every group `name` lands in, with whether its membership is recorded as
/// an umbrella fallback (a member's provenance names the label).
fn landings(sel: &Selection, name: &str) -> Vec<(String, bool)> {
    let l = label(name);
    sel.groups
        .iter()
        .filter(|g| g.seed_labels.contains(&l))
        .map(|g| {
            let fallback = g.tags.iter().any(|m| {
                m.provenance
                    .iter()
                    .any(|p| p.rule == Rule::UmbrellaFallback && p.from == l.to_string())
            });
            (g.name.clone(), fallback)
        })
        .collect()
}

#[test]
fn umbrella_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let (sel, candidates) = select(case.labels, case.views, case.posts, case.fallback);
        for (name, want) in case.expect {
            let got = landings(&sel, name);
            let want: Vec<(String, bool)> = want.iter().map(|(g, f)| (g.to_string(), *f)).collect();
            if got != want {
                failures.push(format!(
                    "[{}] {name}: got {got:?}, want {want:?}",
                    case.name
                ));
            }
            // A label with no group is listed, with the gate as the reason.
            let listed = sel
                .labels_without_group
                .iter()
                .find(|u| u.label == label(name))
                .map(|u| u.reason);
            let want_listed = want.is_empty().then_some(UngroupedReason::NoTagPassedGate);
            if listed != want_listed {
                failures.push(format!(
                    "[{}] {name}: labels_without_group {listed:?}, want {want_listed:?}",
                    case.name
                ));
            }
        }
        for tag in case.no_group {
            if sel
                .groups
                .iter()
                .any(|g| g.tags.iter().any(|m| m.tag == *tag))
            {
                failures.push(format!("[{}] #{tag} is in a group", case.name));
            }
            if !candidates.candidates.contains_key(*tag) {
                continue; // never proposed (a generic verb)
            }
            let rejected = sel.rejected.iter().find(|r| r.tag == *tag);
            let passes = case.views.iter().any(|(t, _)| t == tag);
            let want = if passes {
                "not_a_label_tag"
            } else {
                "below_views_gate"
            };
            if rejected.map(|r| r.reason.as_str()) != Some(want) {
                failures.push(format!(
                    "[{}] #{tag} rejected as {:?}, want {want}",
                    case.name,
                    rejected.map(|r| &r.reason)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn umbrella_provenance_names_each_fallback_label() {
    let (sel, candidates) = select(
        SKI,
        &[("skiing", 300_000_000), ("waterskiing", 20_000_000)],
        &[&["skiing"], &["waterskiing"]],
        true,
    );
    // The rules record which labels the verb generalises ...
    let under: Vec<&str> = candidates.umbrellas["skiing"]
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(
        under,
        ["skiing crosscountry", "skiing slalom", "water skiing"]
    );
    // ... and the group says which of them it was given as a fallback.
    let g = sel.groups.iter().find(|g| g.name == "skiing").unwrap();
    let from: Vec<&str> = g.tags[0]
        .provenance
        .iter()
        .filter(|p| p.rule == Rule::UmbrellaFallback)
        .map(|p| p.from.as_str())
        .collect();
    assert_eq!(
        from,
        [
            "kinetics400:skiing crosscountry",
            "kinetics400:skiing slalom"
        ]
    );
    let json = serde_json::to_value(&g.tags[0].provenance).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|p| p["rule"] == "umbrella_fallback"),
        "{json}"
    );
}

#[test]
fn fallback_umbrella_does_not_absorb_a_linked_specific_tag() {
    // #crosscountryskiing passes and most of its posts also carry #skiing
    // (Jaccard 0.8 >= 0.5): consolidation would merge the two, putting
    // skiing crosscountry into the group slalom fell back to.
    let mut posts: Vec<&[&str]> = vec![&["skiing", "crosscountryskiing"]; 8];
    posts.extend([&["skiing"] as &[&str], &["skiing"]]);
    let (sel, _) = select(
        &["skiing slalom", "skiing crosscountry"],
        &[("skiing", 300_000_000), ("crosscountryskiing", 9_000_000)],
        &posts,
        true,
    );
    assert_eq!(landings(&sel, "skiing slalom"), [("skiing".into(), true)]);
    assert_eq!(
        landings(&sel, "skiing crosscountry"),
        [("crosscountryskiing".into(), false)]
    );
}

#[test]
fn older_json_defaults_to_the_fallback() {
    // A configuration or candidate set written before the field existed.
    let mut v = serde_json::to_value(SelectConfig::default()).unwrap();
    v.as_object_mut().unwrap().remove("umbrella_fallback");
    let c: SelectConfig = serde_json::from_value(v).unwrap();
    assert!(c.umbrella_fallback);
    let set: CandidateSet = serde_json::from_str(r#"{"candidates": {}}"#).unwrap();
    assert!(set.umbrellas.is_empty());
}

/// Named `shared_data_*` (scripts/test.sh skips these without the data):
/// the inline names are spelled as in the shared Kinetics-400 list.
#[test]
fn shared_data_inline_labels_are_kinetics400_names() {
    // `$TUBELET_SHARED_DATA` (a missing folder hides the data) or `../shared/data`.
    let data = std::env::var_os("TUBELET_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        std::path::PathBuf::from,
    );
    let path = data.join("labels/kinetics400.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIP: {} not found (../shared/data absent)", path.display());
        return;
    };
    let names: BTreeSet<&str> = text.lines().map(str::trim).collect();
    let missing: Vec<&&str> = LABELS.iter().filter(|l| !names.contains(**l)).collect();
    assert!(missing.is_empty(), "not in {}: {missing:?}", path.display());
}
