//! Hostile and broken input (issue 10): outputs that would overwrite inputs,
//! missing inputs, labels that used to vanish, messages that leaked serde
//! internals, numbers out of range, and byte-level fuzzing of every reader.
//!
//! The fuzz properties run a few dozen cases by default; a longer run is
//! `PROPTEST_CASES=100000 cargo test -p hashtag-select --test hostile`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hashtag_select::adaptive::TagObservation;
use hashtag_select::output::OutputPlan;
use hashtag_select::simulate::{Method, PlatformConfig, run};
use hashtag_select::words::WordSplitter;
use hashtag_select::{
    AdaptiveConfig, AdaptiveLoop, CandidateSet, HashtagError, RuleConfig, SelectConfig, Selection,
    StatsConfig, StyleTable, SynonymTable, TagStats, TagViews, UngroupedReason, Vocabulary,
    select_groups,
};
use proptest::prelude::*;

/// A selection over `names`, with `views` as platform figures and no posts.
fn select(names: &[&str], views: &[(&str, u64)]) -> Selection {
    let vocab = Vocabulary::from_names("v", names);
    let rules = RuleConfig::default();
    let cands = CandidateSet::generate(&[vocab], &rules, &WordSplitter::new());
    let focus: Vec<&String> = cands.candidates.keys().collect();
    let stats = TagStats::new(StatsConfig::default(), &focus);
    let mut v = TagViews::default();
    for (t, n) in views {
        v.insert(t, *n);
    }
    select_groups(
        &cands,
        &stats,
        &v,
        &rules.synonyms,
        &SelectConfig::default(),
    )
    .unwrap()
}

fn err_text<T: std::fmt::Debug>(r: Result<T, HashtagError>) -> String {
    r.unwrap_err().to_string()
}

// ---- item 7: outputs never overwrite inputs ------------------------------

#[test]
fn labels_txt_beside_the_output_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let labels = d.path().join("labels.txt");
    std::fs::write(&labels, "salsa dancing\n").unwrap();
    let plan = OutputPlan::new(&d.path().join("groups.json")).unwrap();
    let e = plan.check_inputs([("--labels", labels.as_path())]);
    assert!(
        matches!(&e, Err(HashtagError::OutputCollision { input, .. }) if *input == labels),
        "{e:?}"
    );
    assert!(err_text(e).contains("labels.txt"));
    assert_eq!(std::fs::read_to_string(&labels).unwrap(), "salsa dancing\n");
    // The same folder reached another way (`./`, `sub/..`) is the same file.
    let twisted = d.path().join("sub/../groups.json");
    let plan = OutputPlan::new(&twisted).unwrap();
    assert!(collides(
        plan.check_inputs([("--labels", labels.as_path())])
    ));
}

/// The result is an [`HashtagError::OutputCollision`].
fn collides(r: Result<(), HashtagError>) -> bool {
    matches!(r, Err(HashtagError::OutputCollision { .. }))
}

/// The result is a [`HashtagError::Config`] whose message contains `text`.
fn config_err<T: std::fmt::Debug>(r: Result<T, HashtagError>, text: &str) -> bool {
    matches!(&r, Err(HashtagError::Config(m)) if m.contains(text))
}

#[test]
fn out_equal_to_an_input_is_refused_by_name_symlink_and_hard_link() {
    let d = tempfile::tempdir().unwrap();
    let posts = d.path().join("posts.jsonl");
    std::fs::write(&posts, "{\"id\": \"a\", \"hashtags\": [\"salsa\"]}\n").unwrap();
    let check = |out: &Path| {
        OutputPlan::new(out)
            .unwrap()
            .check_inputs([("--posts", posts.as_path())])
    };
    assert!(matches!(
        check(&posts),
        Err(HashtagError::OutputCollision { .. })
    ));
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&posts, &link).unwrap();
    assert!(collides(check(&link)), "a symlink to an input");
    let hard = d.path().join("hard.json");
    std::fs::hard_link(&posts, &hard).unwrap();
    assert!(collides(check(&hard)), "a hard link to an input");
    // The temporary file of an output is an output too.
    let tmp_target = d.path().join("posts");
    std::fs::rename(&posts, d.path().join("posts.tmp")).unwrap();
    let e = OutputPlan::new(&tmp_target)
        .unwrap()
        .check_inputs([("--posts", d.path().join("posts.tmp").as_path())]);
    assert!(collides(e), "the output's temporary file is an input");
    // An unrelated name is fine.
    let posts2 = d.path().join("posts.tmp");
    assert!(
        OutputPlan::new(&d.path().join("groups.json"))
            .unwrap()
            .check_inputs([("--posts", posts2.as_path())])
            .is_ok()
    );
}

#[test]
fn outputs_read_back_from_an_input_folder_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let crawl = d.path().join("crawl");
    std::fs::create_dir(&crawl).unwrap();
    let check = |name: &str| {
        OutputPlan::new(&crawl.join(name))
            .unwrap()
            .check_inputs([("--posts", crawl.as_path())])
    };
    // The next run's walk would read these as posts.
    assert!(collides(check("groups.jsonl")));
    assert!(collides(check("groups.csv")));
    assert!(collides(check("groups.info.json")));
    // A folder walk reads no other `.json`, nor labels.txt.
    assert!(check("groups.json").is_ok());
}

#[test]
fn out_named_like_a_side_output_or_a_folder_is_refused() {
    let d = tempfile::tempdir().unwrap();
    for name in ["labels.txt", "label_map.json"] {
        assert!(matches!(
            OutputPlan::new(&d.path().join(name)),
            Err(HashtagError::OutputCollision { .. })
        ));
    }
    assert!(
        config_err(
            OutputPlan::new(d.path()),
            "is a folder; name the groups file"
        ),
        "an existing folder"
    );
    assert!(config_err(OutputPlan::new(Path::new("")), "--out is empty"));
    assert!(config_err(
        OutputPlan::new(Path::new("out/")),
        "must name a file, not a folder"
    ));
}

#[test]
fn a_missing_input_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let plan = OutputPlan::new(&d.path().join("groups.json")).unwrap();
    let typo = d.path().join("postz.jsonl");
    let e = plan.check_inputs([("--posts", typo.as_path())]);
    assert!(
        matches!(&e, Err(HashtagError::MissingInput { .. })),
        "{e:?}"
    );
    let text = err_text(e);
    assert!(
        text.contains("--posts") && text.contains("postz.jsonl"),
        "{text}"
    );
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn parent_folders_are_created_and_no_tmp_is_left() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out/hashtags/groups.json");
    let sel = select(&["salsa dancing"], &[("salsa", 9_000_000)]);
    sel.write(&out).unwrap();
    let dir = d.path().join("out/hashtags");
    assert_eq!(
        listing(&dir),
        ["groups.json", "label_map.json", "labels.txt"]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("labels.txt")).unwrap(),
        "salsa\n"
    );
}

#[test]
fn a_failed_write_keeps_the_earlier_outputs_and_leaves_no_tmp() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("groups.json");
    select(&["salsa dancing"], &[("salsa", 9_000_000)])
        .write(&out)
        .unwrap();
    let before: Vec<Vec<u8>> = ["groups.json", "label_map.json", "labels.txt"]
        .iter()
        .map(|n| std::fs::read(d.path().join(n)).unwrap())
        .collect();
    // The label map's temporary file cannot be created.
    std::fs::create_dir(d.path().join("label_map.json.tmp")).unwrap();
    let other = select(&["tango dancing"], &[("tango", 9_000_000)]);
    let e = other.write(&out);
    assert!(
        matches!(&e, Err(HashtagError::Io { path, .. }) if path.ends_with("label_map.json.tmp")),
        "{e:?}"
    );
    let after: Vec<Vec<u8>> = ["groups.json", "label_map.json", "labels.txt"]
        .iter()
        .map(|n| std::fs::read(d.path().join(n)).unwrap())
        .collect();
    assert_eq!(before, after, "all three kept");
    assert_eq!(
        listing(d.path()),
        [
            "groups.json",
            "label_map.json",
            "label_map.json.tmp",
            "labels.txt"
        ],
        "the groups' temporary file was removed"
    );
    // A folder where labels.txt goes is refused before anything is written.
    std::fs::remove_dir(d.path().join("label_map.json.tmp")).unwrap();
    std::fs::remove_file(d.path().join("labels.txt")).unwrap();
    std::fs::create_dir(d.path().join("labels.txt")).unwrap();
    let e = other.write(&out);
    assert!(config_err(e, "labels.txt is a folder"));
    assert_eq!(std::fs::read(&out).unwrap(), before[0]);
}

// ---- item 13: no label vanishes ------------------------------------------

#[test]
fn labels_without_words_duplicates_and_short_ones_are_listed() {
    let names = [
        "💃🕺",
        "???",
        "salsa dancing",
        "salsa dancing",
        "(only a remark)",
        "Go",
        "knitting",
    ];
    let sel = select(&names, &[("salsa", 9_000_000)]);
    let without: Vec<(&str, UngroupedReason)> = sel
        .labels_without_group
        .iter()
        .map(|l| (l.label.name.as_str(), l.reason))
        .collect();
    use UngroupedReason::*;
    let mut expected = vec![
        ("(only a remark)", NoContentWords),
        ("???", NoContentWords),
        ("Go", NoCandidate),
        ("knitting", NoTagPassedGate),
        ("salsa dancing", Duplicate),
        ("💃🕺", NoContentWords),
    ];
    expected.sort();
    let mut got = without.clone();
    got.sort();
    assert_eq!(got, expected);
    // Every name is in a group or listed: none silently dropped.
    for n in names {
        let grouped = sel
            .groups
            .iter()
            .any(|g| g.seed_labels.iter().any(|l| l.name == n));
        let listed = without.iter().any(|(w, _)| *w == n);
        assert!(grouped || listed, "{n} vanished");
    }
    // And the reason reaches the JSON users read.
    let json = serde_json::to_string(&sel).unwrap();
    assert!(json.contains("\"reason\":\"no_content_words\""), "{json}");
}

#[test]
fn vocabulary_files_report_skipped_classes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("classes.txt");
    std::fs::write(&p, "1 salsa dancing\n2 🎉🎉\n\n   \n3 salsa dancing\n").unwrap();
    let v = Vocabulary::from_file(&p).unwrap();
    assert_eq!(v.labels.len(), 1);
    let skipped: Vec<(usize, UngroupedReason)> =
        v.skipped.iter().map(|s| (s.index, s.reason)).collect();
    assert_eq!(
        skipped,
        [
            (1, UngroupedReason::NoContentWords),
            (2, UngroupedReason::Duplicate)
        ]
    );
}

// ---- item 12: messages name file, line and field -------------------------

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn assert_clean(e: &str, must: &[&str]) {
    for m in must {
        assert!(e.contains(m), "{e:?} lacks {m:?}");
    }
    for leak in ["untagged", "variant", "Repr"] {
        assert!(!e.contains(leak), "{e:?} leaks {leak:?}");
    }
}

#[test]
fn views_json_errors_name_the_tag_and_line() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "v.json",
        "{\n  \"tango\": 3,\n  \"salsa\": 1e30\n}",
    );
    let e = err_text(TagViews::from_file(&p));
    assert_clean(
        &e,
        &["v.json:3:", "views of \"salsa\"", "whole number", "1e+30"],
    );
    let p = write(d.path(), "v.json", "{\"salsa\": -5}");
    assert_clean(&err_text(TagViews::from_file(&p)), &["\"salsa\"", "-5"]);
    let p = write(
        d.path(),
        "v.json",
        "[\n{\"tag\": \"a\", \"views\": 1},\n{\"tag\": \"b\", \"views\": \"many\"}\n]",
    );
    let e = err_text(TagViews::from_file(&p));
    assert_clean(&e, &["v.json:3:", "row 1", "\"b\"", "views", "many"]);
    let p = write(d.path(), "v.json", "[{\"views\": 1}]");
    assert_clean(
        &err_text(TagViews::from_file(&p)),
        &["row 0", "no tag field"],
    );
    let p = write(d.path(), "v.json", "\"salsa\"");
    assert_clean(
        &err_text(TagViews::from_file(&p)),
        &["v.json:1:", "expected an object"],
    );
    // Out of range in CSV: the column is named.
    let p = write(d.path(), "v.csv", "tag,views\nsalsa,99999999999999999999\n");
    assert_clean(
        &err_text(TagViews::from_file(&p)),
        &["v.csv:2:", "views", "whole number"],
    );
    let p = write(d.path(), "v.csv", "tag,views\nsalsa,-1\n");
    assert_clean(&err_text(TagViews::from_file(&p)), &["v.csv:2:", "\"-1\""]);
}

#[test]
fn vocabulary_json_errors_name_the_class_and_line() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.json", "[\n\"salsa\",\n3\n]");
    assert_clean(
        &err_text(Vocabulary::from_file(&p)),
        &["l.json:3:", "class 1", "3"],
    );
    let p = write(d.path(), "l.json", "{\n\"salsa\": 0,\n\"tango\": -1\n}");
    assert_clean(
        &err_text(Vocabulary::from_file(&p)),
        &["l.json:3:", "index of \"tango\"", "-1"],
    );
    let p = write(d.path(), "l.json", "{\"salsa\": 0, \"tango\": 1e99}");
    assert_clean(
        &err_text(Vocabulary::from_file(&p)),
        &["\"tango\"", "1e+99"],
    );
    let p = write(d.path(), "l.json", "{\"salsa\": 0, \"tango\": \"0\"}");
    assert_clean(&err_text(Vocabulary::from_file(&p)), &["index 0", "both"]);
    let p = write(d.path(), "l.json", "true");
    assert_clean(&err_text(Vocabulary::from_file(&p)), &["expected a list"]);
}

#[test]
fn table_errors_name_the_key_and_line() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "s.json",
        "{\n\"soccer\": [\"football\"],\n\"dance\": 3\n}",
    );
    assert_clean(
        &err_text(StyleTable::from_file(&p)),
        &["s.json:3:", "\"dance\"", "list of tags"],
    );
    let p = write(d.path(), "s.json", "{\"dance\": [\"salsa\", 7]}");
    assert_clean(&err_text(SynonymTable::from_file(&p)), &["\"dance\"", "7"]);
    let p = write(d.path(), "s.toml", "dance = 3\n");
    assert_clean(&err_text(SynonymTable::from_file(&p)), &["s.toml", "dance"]);
}

#[test]
fn non_utf8_files_name_the_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("l.txt");
    std::fs::write(&p, b"salsa\ntango\xff\n").unwrap();
    assert_clean(&err_text(Vocabulary::from_file(&p)), &["l.txt:2:", "UTF-8"]);
}

// ---- item 3: every numeric option is checked -----------------------------

fn config_error(r: Result<(), HashtagError>, field: &str) {
    match r {
        Err(HashtagError::Config(m)) => assert!(m.contains(field), "{m:?} lacks {field}"),
        other => panic!("{field}: expected a configuration error, got {other:?}"),
    }
}

#[test]
fn adaptive_config_fields_are_checked_by_name() {
    let base = AdaptiveConfig::default;
    type Setter = fn(&mut AdaptiveConfig, f64);
    let shares: [(&str, Setter); 4] = [
        ("promote_min_share", |c, x| c.promote_min_share = x),
        ("merge_overlap", |c, x| c.merge_overlap = x),
        ("drop_relative", |c, x| c.drop_relative = x),
        ("drop_below", |c, x| c.drop_below = x),
    ];
    for (name, set) in shares {
        for bad in [f64::NAN, f64::INFINITY, -0.1, 1.5] {
            let mut c = base();
            set(&mut c, bad);
            config_error(c.validate(), name);
        }
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.0, 1e12] {
        let c = AdaptiveConfig {
            prior: (1.0, bad),
            ..base()
        };
        config_error(c.validate(), "prior.1");
    }
    for (name, c) in [
        (
            "request_posts",
            AdaptiveConfig {
                request_posts: 0,
                ..base()
            },
        ),
        (
            "probe_posts",
            AdaptiveConfig {
                probe_posts: 0,
                ..base()
            },
        ),
        (
            "target_clips",
            AdaptiveConfig {
                target_clips: 0,
                ..base()
            },
        ),
        (
            "max_tags_per_group",
            AdaptiveConfig {
                max_tags_per_group: 0,
                ..base()
            },
        ),
    ] {
        config_error(c.validate(), name);
    }
    assert!(base().validate().is_ok());
}

#[test]
fn selection_and_stats_thresholds_are_checked() {
    let vocab = Vocabulary::from_names("v", &["salsa dancing"]);
    let rules = RuleConfig::default();
    let cands = CandidateSet::generate(&[vocab], &rules, &WordSplitter::new());
    let stats = TagStats::new(StatsConfig::default(), &["salsa"]);
    let mut bad = SelectConfig::default();
    bad.consolidation.jaccard = f64::NAN;
    let r = select_groups(&cands, &stats, &TagViews::default(), &rules.synonyms, &bad);
    config_error(r.map(|_| ()), "consolidation.jaccard");
    let mut bad = SelectConfig::default();
    bad.consolidation.npmi = 1.5;
    config_error(bad.validate(), "consolidation.npmi");
    let bad = SelectConfig {
        style_min_share: -0.5,
        ..SelectConfig::default()
    };
    config_error(bad.validate(), "style_min_share");
    let s = StatsConfig {
        max_tags: 0,
        ..StatsConfig::default()
    };
    config_error(s.validate(), "max_tags");
}

#[test]
fn simulator_knobs_are_checked_not_panicked_on() {
    // A bad loop configuration used to panic inside `run` ("valid
    // configuration").
    let nan = AdaptiveConfig {
        prior: (f64::NAN, 1.0),
        ..AdaptiveConfig::default()
    };
    let r = run(&PlatformConfig::default(), Method::Adaptive, 10, &nan);
    assert!(matches!(r, Err(HashtagError::Config(_))), "{r:?}");
    for (name, p) in [
        (
            "zipf",
            PlatformConfig {
                zipf: f64::NAN,
                ..PlatformConfig::default()
            },
        ),
        (
            "keep_on",
            PlatformConfig {
                keep_on: -0.1,
                ..PlatformConfig::default()
            },
        ),
        (
            "topics",
            PlatformConfig {
                topics: usize::MAX,
                ..PlatformConfig::default()
            },
        ),
    ] {
        config_error(p.validate(), name);
    }
    // Huge views per post cap instead of overflowing.
    let p = PlatformConfig {
        views_per_post: u64::MAX,
        topics: 2,
        ..PlatformConfig::default()
    };
    assert!(run(&p, Method::Static, 100, &AdaptiveConfig::default()).is_ok());
    // Huge request sizes are valid (at least 1) and must not overflow the
    // round size: the budget caps what is crawled.
    let huge = AdaptiveConfig {
        request_posts: u64::MAX,
        probe_posts: u64::MAX,
        ..AdaptiveConfig::default()
    };
    let r = run(&PlatformConfig::default(), Method::Adaptive, 500, &huge).unwrap();
    assert!(r.crawled > 0 && r.crawled <= 500, "{r:?}");
}

fn saved_loop(dir: &Path) -> (AdaptiveLoop, PathBuf) {
    let sel = select(&["salsa dancing"], &[("salsa", 9_000_000)]);
    let l = AdaptiveLoop::new(
        &sel,
        &BTreeMap::new(),
        TagViews::default(),
        AdaptiveConfig::default(),
    )
    .unwrap();
    let path = dir.join("state.json");
    l.save(&path).unwrap();
    (l, path)
}

#[test]
fn a_saved_state_with_a_bad_config_names_file_and_field() {
    let d = tempfile::tempdir().unwrap();
    let (_, path) = saved_loop(d.path());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"drop_below\": 0.1"));
    std::fs::write(
        &path,
        text.replace("\"drop_below\": 0.1", "\"drop_below\": 7.0"),
    )
    .unwrap();
    let e = err_text(AdaptiveLoop::load(&path));
    assert!(
        e.contains("state.json") && e.contains("config.drop_below"),
        "{e}"
    );
}

#[test]
fn huge_counts_in_a_state_saturate_instead_of_overflowing() {
    let d = tempfile::tempdir().unwrap();
    let (_, path) = saved_loop(d.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let big = u64::MAX - 1;
    let text = text
        .replace("\"clips\": 0", &format!("\"clips\": {big}"))
        .replace("\"crawled\": 0", &format!("\"crawled\": {big}"));
    std::fs::write(&path, text).unwrap();
    let mut l = AdaptiveLoop::load(&path).unwrap();
    let tag = l.tags().keys().next().unwrap().clone();
    // Used to panic with "attempt to add with overflow" in debug builds.
    l.observe(&[TagObservation {
        tag,
        crawled: 10,
        passed_filters: 10,
        accepted_clips: 10,
        ..Default::default()
    }])
    .unwrap();
    assert_eq!(l.groups()[0].clips, u64::MAX);
}

// ---- fuzzing: mutated and arbitrary bytes into every reader --------------

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// One byte-level edit of a valid file.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Cut(usize),
    Splice(usize, Vec<u8>),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        any::<usize>().prop_map(Edit::Cut),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(i, b)| Edit::Splice(i, b)),
        (any::<usize>(), 0usize..32).prop_map(|(i, n)| Edit::Delete(i, n)),
    ]
}

/// A valid file's bytes with edits applied, or arbitrary bytes.
fn hostile(valid: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let mutated =
        (0..valid.len(), prop::collection::vec(edit(), 0..6)).prop_map(move |(k, edits)| {
            let mut b = valid[k].as_bytes().to_vec();
            for e in edits {
                let at = |i: usize, b: &Vec<u8>| if b.is_empty() { 0 } else { i % (b.len() + 1) };
                match e {
                    Edit::Flip(i, x) if !b.is_empty() => {
                        let i = i % b.len();
                        b[i] ^= x;
                    }
                    Edit::Flip(..) => {}
                    Edit::Cut(i) => {
                        let i = at(i, &b);
                        b.truncate(i);
                    }
                    Edit::Splice(i, x) => {
                        let i = at(i, &b);
                        b.splice(i..i, x);
                    }
                    Edit::Delete(i, n) => {
                        let i = at(i, &b);
                        let j = (i + n).min(b.len());
                        b.drain(i..j);
                    }
                }
            }
            b
        });
    prop_oneof![
        4 => mutated,
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// An error from reading `path` must be typed and name the file.
fn check_error(path: &Path, r: Result<(), HashtagError>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        prop_assert!(
            matches!(e, HashtagError::Malformed { .. } | HashtagError::Io { .. }),
            "{e:?}"
        );
        prop_assert!(e.to_string().contains(&name), "{e} does not name {name}");
        let text = e.to_string();
        prop_assert!(!text.contains("untagged"), "{text}");
    }
    Ok(())
}

const VIEWS_CSV: &[&str] = &["tag,views\nsalsa,12000000\n#Tango,\"5,000\"\n"];
const VIEWS_JSON: &[&str] = &[
    "{\"salsa\": 12000000, \"tango\": 5}",
    "[{\"tag\": \"salsa\", \"views\": 1}, {\"hashtag\": \"tango\", \"view_count\": \"2\"}]",
];
const LABELS_TXT: &[&str] =
    &["# classes\n1 ApplyEyeMakeup\n2 playing basketball\n\nsalsa dancing\n"];
const LABELS_JSON: &[&str] = &[
    "[\"salsa dancing\", \"tango dancing\"]",
    "{\"Holding something\": \"0\", \"Pushing [something]\": 1}",
];
const LABELS_CSV: &[&str] = &["label,youtube_id\nsalsa dancing,abc\n\"tango, dancing\",def\n"];
const TABLES: &[&str] =
    &["{\"ballroomdance\": [\"salsa\", \"tango\"], \"soccer\": [\"football\"]}"];
const TABLES_TOML: &[&str] = &["ballroomdance = [\"salsa\", \"tango\"]\nsoccer = [\"football\"]\n"];
const POSTS_JSONL: &[&str] = &[
    "{\"id\": \"a\", \"hashtags\": [\"#Salsa\", \"fyp\"], \"views\": 9000}\n{\"id\": \"b\", \"description\": \"#tango night\", \"view_count\": 12}\n",
];
const POSTS_CSV: &[&str] = &["id,hashtags,views\na,#salsa #tango,100\nb,\"#fyp,#salsa\",7\n"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn views_reader_survives_hostile_bytes(
        csv in hostile(VIEWS_CSV),
        json in hostile(VIEWS_JSON),
    ) {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in [("v.csv", &csv), ("v.json", &json)] {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            check_error(&p, TagViews::from_file(&p).map(|_| ()))?;
        }
    }

    #[test]
    fn vocabulary_readers_survive_hostile_bytes(
        txt in hostile(LABELS_TXT),
        json in hostile(LABELS_JSON),
        csv in hostile(LABELS_CSV),
    ) {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in [("l.txt", &txt), ("l.json", &json), ("l.csv", &csv)] {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let r = Vocabulary::from_file(&p);
            if let Ok(v) = &r {
                // Nothing vanishes: every class read is a label or skipped,
                // and the rules run on whatever was read.
                let idx: Vec<usize> = v.labels.iter().map(|l| l.index)
                    .chain(v.skipped.iter().map(|s| s.index)).collect();
                let mut sorted = idx.clone();
                sorted.sort_unstable();
                prop_assert_eq!(sorted, (0..idx.len()).collect::<Vec<_>>());
                let _ = CandidateSet::generate(std::slice::from_ref(v), &RuleConfig::default(), &WordSplitter::new());
            }
            check_error(&p, r.map(|_| ()))?;
        }
    }

    #[test]
    fn table_readers_survive_hostile_bytes(
        json in hostile(TABLES),
        toml in hostile(TABLES_TOML),
    ) {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in [("t.json", &json), ("t.toml", &toml)] {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            check_error(&p, StyleTable::from_file(&p).map(|_| ()))?;
            check_error(&p, SynonymTable::from_file(&p).map(|_| ()))?;
        }
    }

    #[test]
    fn posts_reader_survives_hostile_bytes(
        jsonl in hostile(POSTS_JSONL),
        csv in hostile(POSTS_CSV),
        info in hostile(POSTS_JSONL),
    ) {
        use curation_core::ingest::{RecordBatches, discover_inputs};
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in [("p.jsonl", &jsonl), ("p.csv", &csv), ("p.info.json", &info)] {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let (files, errors) = discover_inputs(&[&p]);
            prop_assert!(errors.is_empty());
            let mut stats = TagStats::new(StatsConfig::default(), &["salsa"]);
            for batch in RecordBatches::new(files) {
                for r in &batch.records {
                    stats.add_record(r);
                }
                for e in &batch.errors {
                    // Errors name the file they came from.
                    prop_assert!(e.to_string().contains(name), "{e}");
                }
            }
            let _ = stats.neighbours("salsa", 5);
        }
    }

    #[test]
    fn state_loader_survives_hostile_bytes(
        edits in prop::collection::vec(edit(), 0..4),
        arbitrary in prop::collection::vec(any::<u8>(), 0..64),
        use_arbitrary in any::<bool>(),
    ) {
        let d = tempfile::tempdir().unwrap();
        let (_, path) = saved_loop(d.path());
        let mut b = std::fs::read(&path).unwrap();
        if use_arbitrary {
            b = arbitrary;
        } else {
            for e in edits {
                let len = b.len();
                match e {
                    Edit::Flip(i, x) => b[i % len] ^= x,
                    Edit::Cut(i) => b.truncate(i % (len + 1)),
                    Edit::Splice(i, x) => { let i = i % (len + 1); b.splice(i..i, x); }
                    Edit::Delete(i, n) => { let i = i % (len + 1); b.drain(i..(i + n).min(len)); }
                }
                if b.is_empty() { break; }
            }
        }
        std::fs::write(&path, &b).unwrap();
        match AdaptiveLoop::load(&path) {
            Ok(mut l) => {
                // A state that loads must also run.
                let plan = l.plan(500);
                let obs: Vec<TagObservation> = plan.iter().map(|r| TagObservation {
                    tag: r.tag.clone(),
                    crawled: r.posts,
                    passed_filters: r.posts / 2,
                    accepted_clips: r.posts / 4,
                    ..Default::default()
                }).collect();
                l.observe(&obs).unwrap();
            }
            Err(e) => {
                prop_assert!(e.to_string().contains("state.json"), "{e}");
            }
        }
    }
}

#[test]
fn crawled_view_sums_saturate() {
    // Two posts claiming u64::MAX views each: the old `+=` panicked with
    // "attempt to add with overflow" in debug builds (and wrapped in release).
    let mut stats = TagStats::new(StatsConfig::default(), &["salsa"]);
    stats.add_post(["salsa"], Some(u64::MAX));
    stats.add_post(["salsa", "salsa"], Some(u64::MAX));
    let c = stats.count("salsa").unwrap();
    assert_eq!((c.posts, c.views), (2, u64::MAX));
    // A post with thousands of tags counts each once.
    let tags: Vec<String> = (0..5000).map(|i| format!("t{}", i % 2500)).collect();
    stats.add_post(tags.iter().map(String::as_str), Some(1));
    assert_eq!(stats.count("t7").unwrap().posts, 1);
    assert_eq!(stats.posts(), 3);
}

#[test]
fn hashtag_style_class_names_are_not_comments() {
    // `#salsa` used to be skipped as a comment, silently.
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "tags.txt",
        "# my tags\n#salsa\n## section\n#\n#Tango\n",
    );
    let v = Vocabulary::from_file(&p).unwrap();
    let names: Vec<&str> = v.labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["#salsa", "#Tango"]);
}

#[test]
fn one_shot_checks_both_configs_before_reading_a_post() {
    let vocab = || vec![Vocabulary::from_names("v", &["salsa dancing"])];
    let r = hashtag_select::OneShot::new(
        vocab(),
        RuleConfig::default(),
        StatsConfig {
            max_tags: 0,
            ..StatsConfig::default()
        },
        SelectConfig::default(),
    );
    config_error(r.map(|_| ()), "max_tags");
    let r = hashtag_select::select_from_records(
        vocab(),
        [],
        &TagViews::default(),
        RuleConfig::default(),
        StatsConfig::default(),
        SelectConfig {
            style_min_share: f64::NAN,
            ..SelectConfig::default()
        },
    );
    config_error(r.map(|_| ()), "style_min_share");
}
