//! The one-shot selection end to end on a hand-made crawl
//! (`tests/data`: 72 posts, one broken line, platform views for some tags),
//! and the example that wraps it.

use std::path::Path;

use curation_core::ingest::{RecordBatches, discover_inputs};
use hashtag_select::rules::Rule;
use hashtag_select::words::WordSplitter;
use hashtag_select::{
    CandidateSet, GateDecision, RuleConfig, SelectConfig, StatsConfig, TagStats, TagViews,
    Vocabulary, select_groups,
};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn selection() -> hashtag_select::Selection {
    selection_with(|records| records)
}

/// The selection from the fixture posts, fed in the order `order` gives.
fn selection_with(
    order: impl FnOnce(Vec<curation_core::VideoRecord>) -> Vec<curation_core::VideoRecord>,
) -> hashtag_select::Selection {
    let vocab = Vocabulary::from_file(&data("labels.txt")).unwrap();
    let rules = RuleConfig::default();
    let first = CandidateSet::generate(std::slice::from_ref(&vocab), &rules, &WordSplitter::new());
    let focus: Vec<&String> = first.candidates.keys().collect();
    let mut stats = TagStats::new(StatsConfig::default(), &focus);
    let (files, errors) = discover_inputs(&[data("posts.jsonl")]);
    assert!(errors.is_empty());
    let mut bad = 0;
    let mut records = Vec::new();
    for batch in RecordBatches::new(files) {
        bad += batch.errors.len();
        records.extend(batch.records);
    }
    for r in &order(records) {
        stats.add_record(r);
    }
    assert_eq!(
        (stats.posts(), bad),
        (72, 1),
        "the broken last line is reported, not fatal"
    );
    let candidates = CandidateSet::generate(&[vocab], &rules, &stats.lexicon());
    let views = TagViews::from_file(&data("tag_views.csv")).unwrap();
    select_groups(
        &candidates,
        &stats,
        &views,
        &rules.synonyms,
        &SelectConfig::default(),
    )
    .unwrap()
}

#[test]
fn groups_from_labels_posts_and_views() {
    let sel = selection();
    let groups: Vec<(&str, Vec<&str>)> = sel
        .groups
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.tags.iter().map(|m| m.tag.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            ("basketball", vec!["basketball"]),
            // soccer's variant has more platform views and names the group
            ("football", vec!["football", "soccer"]),
            ("piano", vec!["piano"]),
            ("salsa", vec!["salsa"]),
            // same root: skateboard joins skateboarding
            ("skateboarding", vec!["skateboarding", "skateboard"]),
            ("tango", vec!["tango"]),
        ]
    );
    let ids: Vec<usize> = sel.groups.iter().map(|g| g.id).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5]);

    let basketball = &sel.groups[0];
    let labels: Vec<&str> = basketball
        .seed_labels
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "dribbling basketball",
            "dunking basketball",
            "playing basketball"
        ]
    );
    assert!(
        basketball.tags[0]
            .provenance
            .iter()
            .any(|p| p.rule == Rule::Generalisation)
    );
    assert_eq!(basketball.tags[0].posts, 12);

    let football = &sel.groups[1];
    assert!(
        football.tags[0]
            .provenance
            .iter()
            .any(|p| p.rule == Rule::Variant && p.from == "soccer")
    );
    assert!(
        football
            .merges
            .iter()
            .any(|m| matches!(m.why, hashtag_select::MergeReason::Synonym))
    );
    let skate = &sel.groups[4];
    assert!(
        skate.tags[1]
            .provenance
            .iter()
            .any(|p| p.rule == Rule::Consolidation)
    );

    // Below the gate or without any evidence: no group, and said so.
    let without: Vec<&str> = sel
        .labels_without_group
        .iter()
        .map(|l| l.label.name.as_str())
        .collect();
    assert_eq!(without, ["BalanceBeam", "knitting"]);
    let knitting = sel.rejected.iter().find(|r| r.tag == "knitting").unwrap();
    assert_eq!(knitting.reason, "below_views_gate");
    assert!(matches!(
        knitting.gate,
        GateDecision::Below {
            views: 1_000_000,
            ..
        }
    ));
    // The umbrella of salsa and tango dancing passes but is not a label's tag.
    let dancing = sel.rejected.iter().find(|r| r.tag == "dancing").unwrap();
    assert_eq!(dancing.reason, "not_a_label_tag");
}

#[test]
fn label_map_and_files() {
    let sel = selection();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("groups.json");
    sel.write(&out).unwrap();
    let back: hashtag_select::Selection =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(back, sel);
    // curation-core reads the label map and assigns records by member tags.
    let map = curation_core::LabelMap::from_file(&dir.path().join("label_map.json")).unwrap();
    assert_eq!(map.classes.len(), 6);
    let index = map.index();
    let record: curation_core::VideoRecord =
        serde_json::from_str(r##"{"id": "x", "hashtags": ["#Soccer", "fyp"]}"##).unwrap();
    assert_eq!(index.label_of(&record), Some(1));
    let labels = std::fs::read_to_string(dir.path().join("labels.txt")).unwrap();
    assert_eq!(labels.lines().next(), Some("basketball"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// The whole selection (statistics, gate, preference, consolidation)
    /// does not depend on the order posts arrive in.
    #[test]
    fn selection_ignores_post_order(seed in proptest::prelude::any::<u64>()) {
        let shuffled = selection_with(|mut records| {
            let mut s = seed;
            for i in (1..records.len()).rev() {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let z = (s ^ (s >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                records.swap(i, (z % (i as u64 + 1)) as usize);
            }
            records
        });
        proptest::prop_assert_eq!(shuffled, selection());
    }
}

/// `select_from_records` is the step-by-step pipeline above in one call.
#[test]
fn select_from_records_equals_the_steps() {
    let vocab = Vocabulary::from_file(&data("labels.txt")).unwrap();
    let (files, _) = discover_inputs(&[data("posts.jsonl")]);
    let records: Vec<curation_core::VideoRecord> =
        RecordBatches::new(files).flat_map(|b| b.records).collect();
    let views = TagViews::from_file(&data("tag_views.csv")).unwrap();
    let sel = hashtag_select::select_from_records(
        vec![vocab],
        &records,
        &views,
        RuleConfig::default(),
        StatsConfig::default(),
        SelectConfig::default(),
    )
    .unwrap();
    assert_eq!(sel, selection());
    assert_eq!(sel.posts_seen, 72);
}
