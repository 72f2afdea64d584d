//! Each candidate rule on hand-made cases, and on the real vocabularies in
//! `../shared/data/labels`.

use std::collections::BTreeSet;
use std::path::Path;

use hashtag_select::words::WordSplitter;
use hashtag_select::{CandidateSet, Rule, RuleConfig, StyleTable, SynonymTable, Vocabulary};

fn generate(labels: &[&str], lexicon: &[(&str, u64)]) -> CandidateSet {
    let vocab = Vocabulary::from_names("t", labels);
    let mut lex = WordSplitter::new();
    for (w, n) in lexicon {
        lex.add(w, *n);
    }
    CandidateSet::generate(&[vocab], &RuleConfig::default(), &lex)
}

fn rules_of(set: &CandidateSet, tag: &str) -> BTreeSet<Rule> {
    set.candidates
        .get(tag)
        .unwrap_or_else(|| {
            panic!(
                "no candidate {tag:?}; have {:?}",
                set.candidates.keys().collect::<Vec<_>>()
            )
        })
        .provenance
        .iter()
        .map(|p| p.rule)
        .collect()
}

#[test]
fn rule_table() {
    use Rule::*;
    // (labels, tag, rule it must carry)
    let cases: &[(&[&str], &str, Rule)] = &[
        // generalisation: an object shared by several actions
        (
            &[
                "dribbling basketball",
                "dunking basketball",
                "playing basketball",
            ],
            "basketball",
            Generalisation,
        ),
        // generalisation: a verb shared by several actions (and its noun)
        (
            &["swimming backstroke", "swimming butterfly stroke"],
            "swimming",
            Generalisation,
        ),
        (
            &["dancing ballet", "dancing charleston"],
            "dancing",
            Generalisation,
        ),
        // generalisation: a head noun shared by several objects
        (
            &["playing ice hockey", "playing field hockey"],
            "hockey",
            Generalisation,
        ),
        // generalisation: a verbless phrase whose first word is an activity
        (&["TennisSwing", "playing tennis"], "tennis", Generalisation),
        // noun substitution: a qualifier used with one verb only
        (&["golf putting"], "golf", NounSubstitution),
        // noun substitution
        (&["playing piano"], "piano", NounSubstitution),
        (&["salsa dancing"], "salsa", NounSubstitution),
        (&["brush_hair", "brushing teeth"], "hair", NounSubstitution),
        // both noun-verb orders
        (&["playing piano"], "pianoplaying", NounVerbOrder),
        (&["playing piano"], "playingpiano", Literal),
        (&["salsa dancing"], "dancingsalsa", NounVerbOrder),
        (
            &["brush_hair", "brushing teeth"],
            "hairbrushing",
            NounVerbOrder,
        ),
        // literal
        (&["ApplyEyeMakeup"], "applyeyemakeup", Literal),
        (&["skateboarding"], "skateboarding", Literal),
        // specification from the style table
        (&["ballroom dance"], "tango", Specification),
        // social/cultural variants from the synonym table
        (&["playing soccer"], "football", Variant),
    ];
    for (labels, tag, rule) in cases {
        let set = generate(labels, &[]);
        assert!(
            rules_of(&set, tag).contains(rule),
            "{labels:?}: {tag} should come from {rule:?}"
        );
    }
}

/// The tag a label would get with no data: its best-ranked candidate.
fn first_choice(set: &CandidateSet, dataset: &str, name: &str) -> String {
    let r = hashtag_select::rules::LabelRef {
        dataset: dataset.into(),
        name: name.into(),
    };
    set.of_label(&r)
        .first()
        .map(|c| c.tag.clone())
        .unwrap_or_default()
}

#[test]
fn settings_particles_and_plain_objects_do_not_become_the_tag() {
    let labels = [
        "ice skating",
        "ice fishing",
        "ice climbing",
        "pull ups",
        "sticking tongue out",
        "brushing teeth",
        "playing piano",
        "salsa dancing",
    ];
    let set = generate(&labels, &[]);
    // `ice` qualifies three verbs: proposed, but stands for none of them.
    assert!(set.candidates["ice"].labels.is_empty());
    assert!(!set.candidates.contains_key("ups") && !set.candidates.contains_key("out"));
    assert_eq!(first_choice(&set, "t", "pull ups"), "pullups");
    let sticking = first_choice(&set, "t", "sticking tongue out");
    assert!(
        sticking.starts_with("sticking") || sticking.starts_with("tongue"),
        "{sticking}"
    );
    assert!(set.candidates["tongue"].labels.is_empty());
    // A specific verb keeps the action: `teeth` alone is not brushing.
    assert!(set.candidates["teeth"].labels.is_empty());
    assert_eq!(first_choice(&set, "t", "playing piano"), "piano");
    assert_eq!(first_choice(&set, "t", "salsa dancing"), "salsa");
}

#[test]
fn generic_verbs_are_not_activities() {
    let set = generate(&["playing piano", "playing guitar"], &[]);
    assert!(!set.has_rule("playing", Rule::Generalisation));
    assert!(set.has_rule("piano", Rule::NounSubstitution));
}

#[test]
fn compound_gerunds_swap_order_when_the_lexicon_knows_the_parts() {
    // skate is a verb (ice skating); board is a word in the corpus.
    let labels = ["skateboarding", "ice skating", "roller skating"];
    let set = generate(&labels, &[("board", 50)]);
    assert!(set.has_rule("boardskating", Rule::NounVerbOrder));
    assert!(set.has_rule("skateboard", Rule::NounSubstitution));
    // Without corpus support, no split is invented.
    let set = generate(&labels, &[]);
    assert!(!set.candidates.contains_key("boardskating"));
}

#[test]
fn provenance_names_labels_and_tables() {
    let rules = RuleConfig {
        styles: StyleTable(Default::default()),
        synonyms: SynonymTable(Default::default()),
        ..RuleConfig::default()
    };
    let vocab = Vocabulary::from_names("k", &["playing soccer", "ballroom dance"]);
    let set = CandidateSet::generate(&[vocab], &rules, &WordSplitter::new());
    assert!(
        !set.candidates.contains_key("football"),
        "no table, no variant"
    );
    assert!(!set.candidates.contains_key("tango"));
    let soccer = &set.candidates["soccer"];
    assert!(
        soccer
            .provenance
            .iter()
            .any(|p| p.from == "k:playing soccer")
    );
    assert_eq!(soccer.labels.iter().next().unwrap().name, "playing soccer");
}

#[test]
fn shared_data_real_vocabularies() {
    // `$TUBELET_SHARED_DATA` (a folder that does not exist hides the data:
    // scripts/test.sh checks this skip path) or `../shared/data`.
    let data = std::env::var_os("TUBELET_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        std::path::PathBuf::from,
    );
    let dir = data.join("labels");
    if !dir.exists() {
        eprintln!("SKIP: {} not found (../shared/data absent)", dir.display());
        return;
    }
    let names = [
        "kinetics400.txt",
        "kinetics700.txt",
        "ucf101.txt",
        "hmdb51.txt",
        "ssv2.txt",
    ];
    let vocabs: Vec<Vocabulary> = names
        .iter()
        .map(|n| Vocabulary::from_file(&dir.join(n)).unwrap())
        .collect();
    let sizes: Vec<usize> = vocabs.iter().map(|v| v.labels.len()).collect();
    assert_eq!(sizes, [400, 700, 101, 51, 174]);
    let set = CandidateSet::generate(&vocabs, &RuleConfig::default(), &WordSplitter::new());
    // The paper's examples come out of the public vocabularies.
    for (tag, rule) in [
        ("basketball", Rule::Generalisation),
        ("piano", Rule::NounSubstitution),
        ("skateboarding", Rule::Literal),
        ("salsa", Rule::NounSubstitution),
        ("swimming", Rule::Generalisation),
    ] {
        assert!(
            set.has_rule(tag, rule),
            "{tag}: {:?}",
            set.candidates.get(tag).map(|c| &c.provenance)
        );
    }
    // What the labels get with no data (rule preference, then tag).
    for (label, tag) in [
        ("playing basketball", "basketball"),
        ("dribbling basketball", "basketball"),
        ("playing piano", "piano"),
        ("salsa dancing", "salsa"),
    ] {
        assert_eq!(first_choice(&set, "kinetics400", label), tag, "{label}");
    }
    for (label, not) in [
        ("ice skating", "ice"),
        ("brushing teeth", "teeth"),
        ("mopping floor", "floor"),
    ] {
        assert_ne!(first_choice(&set, "kinetics400", label), not, "{label}");
    }
    // Every label has at least its literal tag.
    for v in &vocabs {
        for l in &v.labels {
            let r = hashtag_select::rules::LabelRef {
                dataset: l.dataset.clone(),
                name: l.name.clone(),
            };
            assert!(!set.of_label(&r).is_empty(), "{}", l.name);
        }
    }
}
