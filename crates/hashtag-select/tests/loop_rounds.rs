//! The loop between crawl rounds as files (`adaptive::rounds`, behind the
//! `hashtag_loop` example): init -> plan -> observe -> status, resuming
//! from the saved state, and refused inputs that leave every file as it was.

use std::path::{Path, PathBuf};

use hashtag_select::adaptive::rounds::{
    RoundPlan, init_state, observe_round, plan_round, read_plan,
};
use hashtag_select::adaptive::{DropReason, GroupStatus, Reserve, TagStatus};
use hashtag_select::{
    AdaptiveConfig, AdaptiveLoop, CandidateSet, HashtagError, RuleConfig, SelectConfig, Selection,
    StatsConfig, TagStats, TagViews, Vocabulary, select_groups, words::WordSplitter,
};

/// Two groups (basketball, salsa) from the crate's doc example.
fn selection() -> Selection {
    let vocab = Vocabulary::from_names("demo", &["playing basketball", "salsa dancing"]);
    let rules = RuleConfig::default();
    let cands = CandidateSet::generate(&[vocab], &rules, &WordSplitter::new());
    let focus: Vec<&String> = cands.candidates.keys().collect();
    let mut stats = TagStats::new(StatsConfig::default(), &focus);
    stats.add_post(["basketball", "nba"], Some(9_000_000));
    stats.add_post(["salsa"], Some(1_000));
    let mut views = TagViews::default();
    views.insert("salsa", 80_000_000);
    views.insert("basketball", 80_000_000);
    select_groups(
        &cands,
        &stats,
        &views,
        &rules.synonyms,
        &SelectConfig::default(),
    )
    .unwrap()
}

fn config() -> AdaptiveConfig {
    AdaptiveConfig {
        seed: 7,
        ..AdaptiveConfig::default()
    }
}

struct Files {
    _dir: tempfile::TempDir,
    groups: PathBuf,
    state: PathBuf,
    plan: PathBuf,
    crawl: PathBuf,
    manifest: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let f = Files {
        groups: p("groups.json"),
        state: p("state.json"),
        plan: p("plan.json"),
        crawl: p("crawl.jsonl"),
        manifest: p("manifest.jsonl"),
        _dir: dir,
    };
    selection().write(&f.groups).unwrap();
    f
}

/// A round's crawl: the first planned tag's posts all pass the filters and
/// carry `#bachata`; the second's all fail. Returns (good, bad) tags.
fn write_round(f: &Files, plan: &RoundPlan) -> (String, String) {
    let (good, bad) = (&plan.requests[0], &plan.requests[1]);
    let (mut crawl, mut manifest) = (String::new(), String::new());
    for i in 0..good.posts {
        let line = format!(
            "{{\"id\": \"g{i}\", \"hashtags\": [\"{}\", \"bachata\"]}}\n",
            good.tag
        );
        crawl.push_str(&line);
        manifest.push_str(&line);
    }
    for i in 0..bad.posts {
        crawl.push_str(&format!(
            "{{\"id\": \"b{i}\", \"hashtags\": [\"{}\"]}}\n",
            bad.tag
        ));
    }
    std::fs::write(&f.crawl, crawl).unwrap();
    std::fs::write(&f.manifest, manifest).unwrap();
    (good.tag.clone(), bad.tag.clone())
}

fn observe(f: &Files) -> Result<AdaptiveLoop, HashtagError> {
    observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.manifest,
        None,
        &[],
    )
    .map(|(l, _)| l)
}

#[test]
fn init_plan_observe_updates_the_state_as_the_loop_says() {
    let f = files();
    let l = init_state(&f.groups, None, &f.state, config(), false).unwrap();
    assert_eq!(l.groups().len(), 2);
    assert_eq!(l.round(), 0);

    let (_, plan) = plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    assert_eq!(plan.round, 1);
    // One 50-post probe per group, with the prior's yield 1 / (1 + 3).
    assert_eq!(plan.requests.len(), 2, "{plan:?}");
    for r in &plan.requests {
        assert_eq!((r.posts, r.crawled), (50, 0));
        assert!((r.yield_mean - 0.25).abs() < 1e-12, "{r:?}");
    }
    assert_ne!(plan.requests[0].group, plan.requests[1].group);
    assert_eq!(read_plan(&f.plan).unwrap(), plan);
    assert_eq!(AdaptiveLoop::load(&f.state).unwrap().round(), 1);

    let (good, bad) = write_round(&f, &plan);
    let (l, report) = observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.manifest,
        None,
        &[],
    )
    .unwrap();
    assert_eq!(report.unmatched_records, 0);
    let g = &l.tags()[&good];
    assert_eq!((g.crawled, g.passed_filters, g.accepted), (50, 50, 50));
    assert_eq!(g.status, TagStatus::Active);
    // 0 clips in 50 posts: Beta(1, 53) has upper bound ~0.055 < 0.1.
    let b = &l.tags()[&bad];
    assert_eq!((b.crawled, b.passed_filters, b.accepted), (50, 0, 0));
    // None of its posts passed the metadata filters, so they are to blame,
    // not frame selection (which never saw one).
    assert_eq!(b.status, TagStatus::Dropped(DropReason::MetadataFilters));
    // #bachata: all 50 sightings in the good tag's group, so promoted there.
    let good_group = l.tags()[&good].group;
    assert_eq!(l.tags()["bachata"].group, good_group);
    assert_eq!(l.groups()[good_group].clips, 50);
    assert_eq!(l.groups()[good_group].status, GroupStatus::Active);
    // The saved state is what observe returned.
    assert_eq!(AdaptiveLoop::load(&f.state).unwrap(), l);
    assert_eq!(l.selected_tags(), [good.as_str()]);
}

#[test]
fn resuming_from_the_saved_state_plans_as_an_uninterrupted_run() {
    let f = files();
    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    let (_, plan1) = plan_round(&f.state, 300, Some(&f.plan)).unwrap();
    write_round(&f, &plan1);
    let report = observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.manifest,
        None,
        &[],
    )
    .unwrap()
    .1;
    let (resumed, plan2) = plan_round(&f.state, 300, None).unwrap();

    let mut l =
        AdaptiveLoop::new(&selection(), &Reserve::new(), TagViews::default(), config()).unwrap();
    let direct1 = l.plan(300);
    let asked: Vec<(&str, u64)> = plan1
        .requests
        .iter()
        .map(|r| (r.tag.as_str(), r.posts))
        .collect();
    let direct: Vec<(&str, u64)> = direct1.iter().map(|r| (r.tag.as_str(), r.posts)).collect();
    assert_eq!(asked, direct);
    l.observe(&report.observations).unwrap();
    let direct2 = l.plan(300);
    let resumed2: Vec<(String, u64)> = plan2
        .requests
        .iter()
        .map(|r| (r.tag.clone(), r.posts))
        .collect();
    let direct2: Vec<(String, u64)> = direct2.into_iter().map(|r| (r.tag, r.posts)).collect();
    assert!(!direct2.is_empty());
    assert_eq!(resumed2, direct2);
    assert_eq!(resumed, l);
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn refused_inputs_leave_every_file_as_it_was() {
    let f = files();
    let missing = f.groups.with_file_name("nope.json");
    let e = init_state(&missing, None, &f.state, config(), false).unwrap_err();
    assert!(matches!(e, HashtagError::MissingInput { .. }), "{e}");
    assert!(!f.state.exists());
    // The state may not be the groups file.
    let e = init_state(&f.groups, None, &f.groups, config(), true).unwrap_err();
    assert!(matches!(e, HashtagError::OutputCollision { .. }), "{e}");

    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    let state0 = bytes(&f.state);
    // An existing state holds progress: refused without `overwrite`.
    let e = init_state(&f.groups, None, &f.state, config(), false).unwrap_err();
    assert!(e.to_string().contains("existing loop state"), "{e}");
    let e = plan_round(&f.state, 100, Some(&f.state)).unwrap_err();
    assert!(matches!(e, HashtagError::OutputCollision { .. }), "{e}");
    let e = plan_round(&f.state, 0, Some(&f.plan)).unwrap_err();
    assert!(e.to_string().contains("budget = 0"), "{e}");
    assert_eq!(bytes(&f.state), state0);
    assert!(!f.plan.exists());

    let (_, plan) = plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    write_round(&f, &plan);
    let state1 = bytes(&f.state);
    let plan1 = bytes(&f.plan);

    // A missing manifest.
    let manifest = f.manifest.clone();
    std::fs::rename(&manifest, manifest.with_extension("moved")).unwrap();
    let e = observe(&f).unwrap_err();
    assert!(matches!(e, HashtagError::MissingInput { .. }), "{e}");
    std::fs::rename(manifest.with_extension("moved"), &manifest).unwrap();
    // A bad manifest line, named.
    let good = std::fs::read_to_string(&manifest).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines[1] = "{\"id\": ";
    std::fs::write(&manifest, lines.join("\n")).unwrap();
    let e = observe(&f).unwrap_err().to_string();
    assert!(e.contains("manifest.jsonl:2"), "{e}");
    std::fs::write(&manifest, &good).unwrap();
    // A bad crawl line, named.
    let crawl = std::fs::read_to_string(&f.crawl).unwrap();
    std::fs::write(&f.crawl, format!("{crawl}not json\n")).unwrap();
    let e = observe(&f).unwrap_err().to_string();
    assert!(e.contains("crawl.jsonl:101"), "{e}");
    std::fs::write(&f.crawl, &crawl).unwrap();
    // A plan naming a tag the loop does not have.
    let text = std::fs::read_to_string(&f.plan).unwrap();
    let tag = format!("\"tag\": \"{}\"", plan.requests[0].tag);
    std::fs::write(&f.plan, text.replace(&tag, "\"tag\": \"nosuchtag\"")).unwrap();
    let e = observe(&f).unwrap_err().to_string();
    assert!(e.contains("plan.json") && e.contains("nosuchtag"), "{e}");
    std::fs::write(&f.plan, &plan1).unwrap();
    // The state may not be an input.
    let e = observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.state,
        None,
        &[],
    )
    .unwrap_err();
    assert!(matches!(e, HashtagError::OutputCollision { .. }), "{e}");
    assert_eq!(bytes(&f.state), state1);

    // Planning again makes the old plan stale.
    let stale = f.plan.with_file_name("plan2.json");
    plan_round(&f.state, 100, Some(&stale)).unwrap();
    let state2 = bytes(&f.state);
    let e = observe(&f).unwrap_err().to_string();
    assert!(
        e.contains("plan.json") && e.contains("plan of round 1") && e.contains("round 2"),
        "{e}"
    );
    assert_eq!(bytes(&f.state), state2);
    // A malformed groups file names its line.
    std::fs::write(&f.groups, "{\n  \"groups\": 3\n}\n").unwrap();
    let fresh = f.state.with_file_name("fresh.json");
    let e = init_state(&f.groups, None, &fresh, config(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("groups.json:2"), "{e}");
    assert!(!fresh.exists());
}

#[test]
fn short_crawls_exhaust_and_empty_ones_stay_open_unless_named() {
    let f = files();
    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    let (_, plan) = plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    let (a, b) = (&plan.requests[0].tag, &plan.requests[1].tag);
    // 30 of 50 posts of `a`, none of `b`.
    let crawl: String = (0..30)
        .map(|i| format!("{{\"id\": \"a{i}\", \"hashtags\": [\"{a}\"]}}\n"))
        .collect();
    std::fs::write(&f.crawl, &crawl).unwrap();
    std::fs::write(&f.manifest, &crawl).unwrap();
    let saved = bytes(&f.state);
    let (l, report) = observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.manifest,
        None,
        &[],
    )
    .unwrap();
    assert_eq!(report.not_crawled, std::slice::from_ref(b));
    assert_eq!(report.observations.len(), 1);
    assert_eq!(l.tags()[a].status, TagStatus::Exhausted);
    assert_eq!(l.tags()[a].crawled, 30);
    assert_eq!(l.tags()[b].status, TagStatus::Candidate);

    // The same round again from the saved state, `b` named as empty.
    std::fs::write(&f.state, &saved).unwrap();
    let (l, report) = observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.manifest,
        None,
        std::slice::from_ref(b),
    )
    .unwrap();
    assert!(report.not_crawled.is_empty());
    assert_eq!(l.tags()[b].status, TagStatus::Exhausted);
    assert_eq!(l.tags()[b].crawled, 0);
    // A tag not in the plan cannot be named.
    std::fs::write(&f.state, &saved).unwrap();
    let e = observe_round(
        &f.state,
        &f.plan,
        std::slice::from_ref(&f.crawl),
        &f.manifest,
        None,
        &["nosuchtag".to_owned()],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("nosuchtag") && e.contains("plan.json"), "{e}");
    assert_eq!(bytes(&f.state), saved);
}

#[test]
fn a_plan_can_be_observed_only_once() {
    let f = files();
    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    let (_, plan) = plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    let (good, _) = write_round(&f, &plan);
    let l = observe(&f).unwrap();
    let g = l.tags()[&good].group;
    // 50 posts planned and crawled for the good tag, counted once.
    assert_eq!((l.groups()[g].crawled, l.tags()[&good].crawled), (50, 50));
    let saved = bytes(&f.state);

    // The same plan again would count every crawl a second time.
    let e = observe(&f).unwrap_err();
    assert!(
        matches!(e, HashtagError::RoundAlreadyObserved { round: 1, .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("round 1 was already observed; plan the next round first"),
        "{msg}"
    );
    assert_eq!(bytes(&f.state), saved, "a refused observe writes nothing");
    let l = AdaptiveLoop::load(&f.state).unwrap();
    assert_eq!((l.groups()[g].crawled, l.tags()[&good].crawled), (50, 50));
}

#[test]
fn plan_observe_plan_observe_counts_each_round_once() {
    let f = files();
    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    let (_, plan1) = plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    let (good, _) = write_round(&f, &plan1);
    let l = observe(&f).unwrap();
    assert_eq!(l.observed_rounds().iter().copied().collect::<Vec<_>>(), [1]);
    let g = l.tags()[&good].group;
    let crawled1 = l.groups()[g].crawled;
    assert_eq!(crawled1, 50);

    // Round 2: the good tag is planned again (its group is still short of
    // its target); the same crawl file layout, new posts.
    let (_, plan2) = plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    assert_eq!(plan2.round, 2);
    let mine = plan2
        .requests
        .iter()
        .find(|r| r.group == g)
        .expect("the good group is still collecting");
    let crawl: String = (0..mine.posts)
        .map(|i| format!("{{\"id\": \"r2_{i}\", \"hashtags\": [\"{}\"]}}\n", mine.tag))
        .collect();
    std::fs::write(&f.crawl, &crawl).unwrap();
    std::fs::write(&f.manifest, &crawl).unwrap();
    let l = observe(&f).unwrap();
    // Each round counted once: 50 posts, then the round-2 request.
    assert_eq!(l.groups()[g].crawled, crawled1 + mine.posts);
    assert_eq!(
        l.observed_rounds().iter().copied().collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(AdaptiveLoop::load(&f.state).unwrap(), l);
    // And round 2 is refused a second time too.
    let e = observe(&f).unwrap_err();
    assert!(
        matches!(e, HashtagError::RoundAlreadyObserved { round: 2, .. }),
        "{e}"
    );
}

#[test]
fn a_state_saved_before_observed_rounds_existed_still_loads() {
    let f = files();
    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    plan_round(&f.state, 100, Some(&f.plan)).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f.state).unwrap()).unwrap();
    let removed = json.as_object_mut().unwrap().remove("observed_rounds");
    assert_eq!(removed, Some(serde_json::json!([])));
    std::fs::write(&f.state, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let l = AdaptiveLoop::load(&f.state).unwrap();
    assert_eq!((l.round(), l.observed_rounds().len()), (1, 0));
}

#[test]
fn a_state_observed_ahead_of_its_round_is_refused() {
    let f = files();
    init_state(&f.groups, None, &f.state, config(), false).unwrap();
    let text = std::fs::read_to_string(&f.state).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["observed_rounds"] = serde_json::json!([3]);
    std::fs::write(&f.state, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let e = AdaptiveLoop::load(&f.state).unwrap_err();
    assert!(matches!(e, HashtagError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("observed_rounds"), "{e}");
}
