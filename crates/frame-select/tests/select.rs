//! The whole selection over a folder: real videos with and without people,
//! a re-upload at another bitrate, generated cuts, an empty and a damaged
//! file.

mod common;

use frame_select::detect::hog::HogPeopleDetector;
use frame_select::select::{Reason, SelectionConfig, inputs_from_dir, select_videos};
use frame_select::video::ClipMethod;

#[test]
fn shared_data_a_folder_becomes_clips_sidecars_and_a_report() {
    let (Some(vtest), Some(tree), Some(bugy)) = (
        common::shared_video("vtest.avi"),
        common::shared_video("tree.avi"),
        common::shared_video("Megamind_bugy.avi"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(&vtest, input.join("a_walk.avi")).unwrap();
    std::fs::copy(&tree, input.join("c_tree.avi")).unwrap();
    std::fs::copy(&bugy, input.join("e_bugy.avi")).unwrap();
    std::fs::write(input.join("d_empty.mp4"), b"").unwrap();
    // The first 40 s of the walk again, re-encoded at a low bitrate.
    common::ffmpeg(&[
        "-i",
        vtest.to_str().unwrap(),
        "-t",
        "40",
        "-c:v",
        "libx264",
        "-b:v",
        "250k",
        "-threads",
        "1",
        input.join("b_walk_reupload.mp4").to_str().unwrap(),
    ]);
    common::make_cut_clip(
        &input.join("f_bars.mkv"),
        &["testsrc2", "smptebars"],
        3,
        "320x240",
        &["-c:v", "ffv1"],
    );

    let inputs = inputs_from_dir(&input).unwrap();
    assert_eq!(inputs.len(), 6);
    let out = dir.path().join("out");
    let config = SelectionConfig::default();
    let detector = HogPeopleDetector::default();
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let run = select_videos(&inputs, &config, Some(&detector), &out, &|_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(seen.into_inner(), 6);
    let by_id = |id: &str| run.selections.iter().find(|s| s.id == id).unwrap();

    // The walk: people everywhere, no cut -> a 10 s clip from the middle.
    let walk = by_id("a_walk");
    assert!(walk.reasons.is_empty(), "{:?}", walk.details);
    let plan = walk.plan.unwrap();
    assert_eq!(plan.end_frame - plan.start_frame, 100);
    let kept = walk.kept.as_ref().unwrap();
    assert_eq!(kept.method, ClipMethod::Reencode); // msmpeg4v3 cannot go into MP4 as is
    assert_eq!(common::ffprobe_frame_count(&kept.path), 100);
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kept.sidecar).unwrap()).unwrap();
    assert_eq!(sidecar["id"], "a_walk");
    assert_eq!(
        sidecar["plan"]["start_frame"].as_u64(),
        Some(plan.start_frame)
    );
    assert!(walk.scores.as_ref().unwrap().person_share.unwrap() >= 0.95);

    // The re-upload is caught as a near-duplicate of the walk.
    let re = by_id("b_walk_reupload");
    assert_eq!(re.reasons, vec![Reason::NearDuplicate], "{:?}", re.details);
    assert!(re.details[0].contains("a_walk"));
    assert!(re.kept.is_none() && !out.join("clips/b_walk_reupload.mp4").exists());
    let near = walk.signature.distance(&re.signature).unwrap();
    let far = walk.signature.distance(&by_id("c_tree").signature).unwrap();
    assert!(
        near <= 6.0 && far >= 16.0,
        "re-upload {near}, other video {far}"
    );

    assert_eq!(by_id("c_tree").reasons[0], Reason::NoPerson);
    assert_eq!(by_id("d_empty").reasons, vec![Reason::DecodeFailed]);
    assert!(by_id("d_empty").details[0].contains("empty"));
    // The damaged file gets a decision, not a crash.
    assert!(by_id("e_bugy").frames > 0);
    let bars = by_id("f_bars");
    assert_eq!(bars.scenes.len(), 2);
    assert_eq!(bars.reasons[0], Reason::NoPerson);

    // Files: one line per video, report counts, config saved.
    let lines = std::fs::read_to_string(out.join("selections.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 6);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["videos_read"], 6);
    assert_eq!(
        report["kept"].as_u64().unwrap() + report["rejected"].as_u64().unwrap(),
        6
    );
    assert_eq!(report["reasons"]["near_duplicate"]["first"], 1);
    let saved: SelectionConfig =
        serde_json::from_str(&std::fs::read_to_string(out.join("selection_config.json")).unwrap())
            .unwrap();
    assert_eq!(saved, config);
}

#[test]
fn invalid_configs_are_refused() {
    let bad = SelectionConfig {
        clip_min_s: 5.0,
        clip_max_s: 2.0,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let err = select_videos(&[], &bad, None, dir.path(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("clip_max_s"), "{err}");
}
