//! frame-select's embedding APIs: clip ids that never collide, a shot
//! detector fed frames of any size, typed selection reasons and strict
//! selection configs.

use std::collections::HashSet;
use std::path::PathBuf;

use frame_select::ndarray::Array3;
use frame_select::scene::resize::ResizerCache;
use frame_select::scene::{
    AdaptiveConfig, ContentConfig, ContentDetector, DetectorConfig, HsvPlanes, ShotDetector,
};
use frame_select::select::{
    MAX_ID_CHARS, Reason, SelectError, SelectionConfig, SelectionReport, VideoInput,
    assign_unique_ids, inputs_from_dir, is_safe_id, safe_id, select_videos,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn inputs(ids: &[String]) -> Vec<VideoInput> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| VideoInput {
            id: id.clone(),
            path: PathBuf::from(format!("v{i}.mp4")),
        })
        .collect()
}

fn assigned(ids: &[String]) -> Vec<String> {
    let mut v = inputs(ids);
    assign_unique_ids(&mut v);
    v.into_iter().map(|i| i.id).collect()
}

/// The case the old `unique()` got wrong: `x, x, x-2` gave `x, x-2, x-2`.
#[test]
fn a_suffix_never_takes_another_inputs_id() {
    let ids: Vec<String> = ["x", "x", "x-2"].map(String::from).to_vec();
    assert_eq!(assigned(&ids), ["x", "x-3", "x-2"]);
}

/// For any ids (from a small alphabet, so that collisions, suffix-like ids
/// and case twins are common, and arbitrary strings): all outputs are safe
/// and distinct ignoring case, the result is deterministic, and an input id
/// that is safe and shared with no other input (ignoring case) is kept.
/// `PROPTEST_CASES` (256 by default) sets the number of cases.
#[test]
fn assigned_ids_are_distinct_safe_deterministic_and_keep_unique_ids() {
    let id = prop_oneof![
        4 => "[xXy]{1,2}(-[0-9]{1,2}){0,2}",
        1 => ".{0,12}",
        1 => "[a-z]{120,130}",
    ];
    let mut runner = TestRunner::new(Config {
        cases: cases(256),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(id, 0..24), |ids| {
            let out = assigned(&ids);
            prop_assert_eq!(out.len(), ids.len());
            prop_assert_eq!(&out, &assigned(&ids), "not deterministic");
            let mut seen = HashSet::new();
            for o in &out {
                prop_assert!(is_safe_id(o), "unsafe {:?}", o);
                prop_assert!(o.len() <= MAX_ID_CHARS);
                prop_assert!(seen.insert(o.to_ascii_lowercase()), "{:?} twice", o);
            }
            for (i, id) in ids.iter().enumerate() {
                let shared = ids.iter().filter(|j| j.eq_ignore_ascii_case(id)).count() > 1;
                if is_safe_id(id) && !shared {
                    prop_assert_eq!(&out[i], id);
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_id_sanitiser_is_curations_shard_key_and_file_name_safe() {
    for id in [
        "dQw4w9WgXcQ",
        "..",
        ".",
        "",
        "a/../b",
        "a\\b",
        "c:d",
        "x.mp4",
        "é",
    ] {
        let s = safe_id(id);
        assert_eq!(s, curation_core::shard::shard_key(id));
        assert!(is_safe_id(&s), "{id:?} -> {s:?}");
        assert!(!s.contains(".."));
    }
    let long = "a".repeat(500);
    assert!(safe_id(&long).len() <= 97);
    // Different ids that clean to the same characters stay apart.
    assert_ne!(safe_id("a b"), safe_id("a_b"));
    assert_ne!(safe_id("a.b"), safe_id("a/b"));
}

#[test]
fn folder_inputs_get_distinct_ids_even_with_case_twins_and_suffix_names() {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "a/x.mp4",
        "b/x.mp4",
        "c/x-2.mp4",
        "d/X.mkv",
        "e/my.clip.mp4",
    ] {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"not really a video").unwrap();
    }
    let ids: Vec<String> = inputs_from_dir(dir.path())
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(&ids[..4], ["x", "x-3", "x-2", "X-4"]);
    assert!(ids[4].starts_with("my_clip-"), "{ids:?}");
}

#[test]
fn select_videos_refuses_hand_made_ids_that_would_clobber_or_escape() {
    let dir = tempfile::tempdir().unwrap();
    let config = SelectionConfig::default();
    let run = |ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        select_videos(&inputs(&ids), &config, None, dir.path(), &|_| {})
    };
    let err = run(&["x", "X"]).unwrap_err();
    assert!(
        matches!(err, SelectError::InputIds { count: 1, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(r#"id "X" is used by both v0.mp4 and v1.mp4"#),
        "{text}"
    );
    let err = run(&["../escape", "ok"]).unwrap_err();
    assert!(
        err.to_string().contains(r#"id "../escape" (v0.mp4)"#),
        "{err}"
    );
    // Nothing was written for a refused run.
    assert!(!dir.path().join("selections.jsonl").exists());
}

/// Frames 640x360 with two cuts and some motion: a pattern that changes
/// between frames, then a different picture at 30 and at 60.
fn frame(i: u64, size: (usize, usize)) -> Array3<u8> {
    let (h, w) = size;
    let shot = i / 30;
    Array3::from_shape_fn((h, w, 3), |(y, x, c)| {
        let v = (x * (3 + shot as usize) + y * (5 + c) + i as usize * 2) % 256;
        if shot == 1 { 255 - v as u8 } else { v as u8 }
    })
}

/// The old path: each caller shrank frames to detection size itself.
fn downscaled_scores(config: &ContentConfig, frames: &[Array3<u8>]) -> Vec<Option<f64>> {
    let mut det = ContentDetector::new(config);
    let mut resizer = ResizerCache::default();
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let small = resizer.to_detection_size(f.view());
            let view = small.as_ref().map_or(f.view(), |s| s.view());
            det.process(i as u64, HsvPlanes::from_rgb(view))
                .0
                .map(|s| s.content_val)
        })
        .collect()
}

#[test]
fn full_size_frames_score_as_the_downscaled_path() {
    let frames: Vec<Array3<u8>> = (0..90).map(|i| frame(i, (360, 640))).collect();
    let config = ContentConfig::default();
    let want = downscaled_scores(&config, &frames);
    // The downscaled path found scores, and a cut-sized one at 30.
    assert!(want[30].unwrap() > 27.0, "{:?}", want[30]);
    let mut shots = ShotDetector::new(&DetectorConfig::Content(config));
    let mut cuts = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let (score, cut) = shots.process(i as u64, f.view());
        assert_eq!(score.map(|s| s.content_val), want[i], "frame {i}");
        cuts.extend(cut);
    }
    assert_eq!(cuts, vec![30, 60]);
    assert_eq!(shots.detection_size(), Some((256, 144)));

    // Frames already at detection size give the same again (no second
    // shrink), and so does the adaptive detector's cut list.
    let small: Vec<Array3<u8>> = frames
        .iter()
        .map(|f| ResizerCache::default().to_detection_size(f.view()).unwrap())
        .collect();
    let adaptive = DetectorConfig::Adaptive(AdaptiveConfig::default());
    let (mut full, mut pre) = (ShotDetector::new(&adaptive), ShotDetector::new(&adaptive));
    for i in 0..frames.len() {
        let a = full.process(i as u64, frames[i].view());
        let b = pre.process(i as u64, small[i].view());
        assert_eq!(a, b, "frame {i}");
    }
}

#[test]
fn a_frame_size_change_mid_stream_restarts_scoring_without_panicking() {
    let mut shots = ShotDetector::new(&DetectorConfig::default());
    assert!(shots.process(0, frame(0, (360, 640)).view()).0.is_none());
    assert!(shots.process(1, frame(1, (360, 640)).view()).0.is_some());
    // 480x640 shrinks to 192x256: no predecessor of that size, no score.
    assert!(shots.process(2, frame(2, (480, 640)).view()).0.is_none());
    assert_eq!(shots.detection_size(), Some((256, 192)));
    assert!(shots.process(3, frame(3, (480, 640)).view()).0.is_some());
    // Degenerate frames give no score rather than a panic.
    assert!(
        shots
            .process(4, Array3::zeros((0, 0, 3)).view())
            .0
            .is_none()
    );
    assert!(
        shots
            .process(5, Array3::zeros((1, 1000, 3)).view())
            .0
            .is_none()
    );
    assert!(
        shots
            .process(6, Array3::zeros((0, 1000, 3)).view())
            .0
            .is_none()
    );
    assert!(
        shots
            .process(7, Array3::zeros((600, 800, 4)).view())
            .0
            .is_none()
    );
}

#[test]
fn reasons_are_typed_and_serialise_as_their_report_names() {
    for r in Reason::ALL {
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, format!("\"{}\"", r.name()));
        assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), r);
        assert_eq!(r.name().parse::<Reason>(), Ok(r));
        assert_eq!(r.to_string(), r.name());
    }
    assert!("nope".parse::<Reason>().is_err());
    // report.json keys are the same names as before, typed in Rust.
    let mut report = SelectionReport::default();
    report
        .reasons
        .entry(Reason::NoPerson)
        .or_default()
        .record("v1", true);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["reasons"]["no_person"]["first"], 1);
    let back: SelectionReport = serde_json::from_value(json).unwrap();
    assert_eq!(back.reasons[&Reason::NoPerson].first, 1);
}

#[test]
fn selection_configs_refuse_unknown_keys_at_every_level() {
    let err = serde_json::from_str::<SelectionConfig>(r#"{"sample_every": 2}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `sample_every`"),
        "{err}"
    );
    let err = serde_json::from_str::<SelectionConfig>(
        r#"{"shots": {"kind": "content", "treshold": 30}}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown field `treshold`"),
        "{err}"
    );
    let ok: SelectionConfig =
        serde_json::from_str(r#"{"shots": {"kind": "adaptive"}, "sample_every_s": 2}"#).unwrap();
    assert_eq!(ok.sample_every_s, 2.0);
}
