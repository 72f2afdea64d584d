//! Shot detection on clips with cuts made by FFmpeg (truth by
//! construction) and on the shared real videos.

mod common;

use common::{make_cut_clip, shared_video};
use frame_select::scene::{AdaptiveConfig, ContentConfig, DetectorConfig, Scene, detect_scenes};

fn content() -> DetectorConfig {
    DetectorConfig::Content(ContentConfig::default())
}

fn adaptive() -> DetectorConfig {
    DetectorConfig::Adaptive(AdaptiveConfig::default())
}

#[test]
fn generated_hard_cuts_are_found_at_their_frames() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("cuts.mkv");
    let cuts = make_cut_clip(
        &clip,
        &["testsrc2", "smptebars", "rgbtestsrc", "color=c=0x2060a0"],
        2,
        "320x240",
        &["-c:v", "ffv1"],
    );
    assert_eq!(cuts, vec![50, 100, 150]);
    for config in [content(), adaptive()] {
        let d = detect_scenes(&clip, &config).unwrap();
        assert_eq!(d.frames, 200);
        assert_eq!(d.cuts, cuts, "{config:?}");
        assert_eq!(d.scenes.first(), Some(&Scene { start: 0, end: 50 }));
        assert_eq!(
            d.scenes.last(),
            Some(&Scene {
                start: 150,
                end: 200
            })
        );
    }
}

#[test]
fn a_video_without_cuts_is_one_scene_and_downscaling_follows_pyscenedetect() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("one.mp4");
    make_cut_clip(
        &clip,
        &["testsrc2"],
        3,
        "1280x720",
        &["-c:v", "libx264", "-threads", "1"],
    );
    let d = detect_scenes(&clip, &content()).unwrap();
    assert_eq!(d.scenes, vec![Scene { start: 0, end: 75 }]);
    assert_eq!(d.detection_size, (256, 144));
}

#[test]
fn cuts_closer_than_min_scene_len_are_merged() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("flash.mkv");
    // 2 s, then a 0.4 s (10 frame) flash of another source, then 2 s more.
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=duration=2:size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "smptebars=duration=0.4:size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=320x240:rate=25",
        "-filter_complex",
        "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]",
        "-map",
        "[v]",
        "-c:v",
        "ffv1",
        clip.to_str().unwrap(),
    ]);
    let d = detect_scenes(&clip, &content()).unwrap();
    assert_eq!(d.frames, 110);
    // Cut at 50 (>= 15 frames after the start); the cut at 60 is only 10
    // frames later: merge mode arms (the first cut enabled merging) and
    // releases one cut at the last above-threshold frame, 60, once 15
    // quiet frames have passed and 60 - 60 >= 15 fails -> no release.
    assert_eq!(d.cuts, vec![50]);
    let loose = DetectorConfig::Content(ContentConfig {
        min_scene_len: 5,
        ..Default::default()
    });
    assert_eq!(detect_scenes(&clip, &loose).unwrap().cuts, vec![50, 60]);
}

#[test]
fn shared_data_the_damaged_video_is_reported_not_fatal() {
    let Some(path) = shared_video("Megamind_bugy.avi") else {
        return;
    };
    match detect_scenes(&path, &content()) {
        Ok(d) => {
            assert!(d.frames > 0 && !d.scenes.is_empty());
            // FFmpeg's own decoder gets every frame of it without an error
            // (`ffmpeg -v error -i Megamind_bugy.avi -f null -` is silent),
            // so no damage may be claimed either.
            assert_eq!(d.damage.frames_decoded, common::ffprobe_frame_count(&path));
            assert!(!d.damage.damaged, "{:?}", d.damage);
        }
        Err(e) => assert_eq!(e.kind(), "broken", "{e}"),
    }
}

#[test]
fn shared_data_an_edit_list_hidden_frame_is_not_damage() {
    let Some(path) = shared_video("box.mp4") else {
        return;
    };
    // The container lists 456 samples; its edit list hides the last one
    // (its packet carries FFmpeg's discard flag), so FFmpeg shows 455.
    // With `-ignore_editlist 1` all 456 decode: no frame is lost, although
    // FFmpeg logs "A non-intra slice in an IDR NAL unit" (from its worker
    // threads, not attributed).
    let d = detect_scenes(&path, &content()).unwrap();
    assert_eq!(d.damage.frames_announced, Some(456));
    assert_eq!(d.damage.frames_decoded, common::ffprobe_frame_count(&path));
    assert_eq!(d.damage.discarded_packets, 1);
    assert_eq!(d.damage.missing_frames(), 0);
    assert!(!d.damage.damaged, "{:?}", d.damage);
}
