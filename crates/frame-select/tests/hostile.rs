//! Hostile and broken inputs (issue 10): truncated and corrupt videos are
//! reported as damaged, not analysed as if whole; non-finite and
//! out-of-range settings are refused naming the field; FIFOs and devices are
//! refused before FFmpeg opens them; odd videos give a result or a typed
//! error, never a panic; outputs never overwrite inputs. Inputs are made in
//! the test with the `ffmpeg` command line.

mod common;

use std::path::{Path, PathBuf};

use frame_select::detect::hog::{HogConfig, HogPeopleDetector};
#[cfg(feature = "yolo")]
use frame_select::detect::yolo::YoloConfig;
use frame_select::scene::{
    AdaptiveConfig, ComponentWeights, ContentConfig, DetectorConfig, detect_scenes,
};
use frame_select::select::{Reason, SelectionConfig, VideoInput, inputs_from_dir, select_videos};
use frame_select::video::{DecodeOptions, VideoError, VideoReader, probe};

/// A 4 s, 25 fps (100 frame) H.264 MP4 with its index first (`faststart`),
/// so that the first half of the file still opens and announces 100 frames.
fn h264_clip(path: &Path) {
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=duration=4:size=320x240:rate=25",
        "-c:v",
        "libx264",
        "-threads",
        "1",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        path.to_str().unwrap(),
    ]);
}

fn truncate_to_half(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn a_truncated_mp4_is_reported_as_damaged_with_decoded_and_announced_counts() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.mp4");
    let half = dir.path().join("half.mp4");
    h264_clip(&whole);
    truncate_to_half(&whole, &half);
    let config = DetectorConfig::default();

    let ok = detect_scenes(&whole, &config).unwrap();
    assert!(!ok.damage.damaged, "{:?}", ok.damage);
    assert_eq!(ok.damage.frames_decoded, 100);
    assert_eq!(ok.damage.frames_announced, Some(100));
    assert_eq!(ok.damage.missing_frames(), 0);

    // Before the fix: Ok with a 52-frame scene list and nothing else.
    let cut = detect_scenes(&half, &config).unwrap();
    let d = &cut.damage;
    assert!(d.damaged, "{d:?}");
    assert_eq!(d.frames_announced, Some(100));
    assert!(d.frames_decoded < 100 && d.frames_decoded > 20, "{d:?}");
    assert!(d.missing_frames() >= 100 - cut.frames, "{d:?}");
    assert!(
        d.summary().contains("of 100 frames decoded"),
        "{}",
        d.summary()
    );
    // The scene list covers what was decoded.
    assert_eq!(cut.scenes.last().map(|s| s.end), Some(cut.frames));

    // The same through the reader API.
    let mut reader = VideoReader::open(&half, &DecodeOptions::default()).unwrap();
    assert!(
        reader.damage().frames_announced.is_none(),
        "not at the end yet"
    );
    let mut n = 0;
    while let Some(_f) = reader.next_frame().unwrap() {
        n += 1;
    }
    let d = reader.damage();
    assert!(d.damaged && d.frames_decoded == n && d.frames_announced == Some(100));
}

/// A cut copied without re-encoding (`ffmpeg -ss 1.1 -i in.mp4 -c copy`)
/// starts at the keyframe before 1.1 s and hides the frames up to the cut
/// with an edit list: the container lists every stored sample (95), FFmpeg
/// shows 62. The file is whole; before packets marked for discarding were
/// counted it was reported as 33 frames short.
#[test]
fn an_edit_list_cut_is_not_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let gop = dir.path().join("gop.mp4");
    let cut = dir.path().join("cut.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=duration=6:size=320x240:rate=30",
        "-c:v",
        "libx264",
        "-threads",
        "1",
        "-g",
        "60",
        "-bf",
        "3",
        "-pix_fmt",
        "yuv420p",
        gop.to_str().unwrap(),
    ]);
    common::ffmpeg(&[
        "-ss",
        "1.1",
        "-i",
        gop.to_str().unwrap(),
        "-t",
        "2",
        "-c",
        "copy",
        cut.to_str().unwrap(),
    ]);
    let shown = common::ffprobe_frame_count(&cut);
    let d = detect_scenes(&cut, &DetectorConfig::default())
        .unwrap()
        .damage;
    assert_eq!(d.frames_decoded, shown);
    let stored = d.frames_announced.unwrap();
    assert!(stored > shown, "no edit list to test: {d:?}");
    assert_eq!(d.discarded_packets, stored - shown, "{d:?}");
    assert!(!d.damaged, "{d:?}");

    // Half of the same cut is still damaged.
    let half = dir.path().join("half.mp4");
    common::ffmpeg(&[
        "-i",
        cut.to_str().unwrap(),
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        dir.path().join("fast.mp4").to_str().unwrap(),
    ]);
    truncate_to_half(&dir.path().join("fast.mp4"), &half);
    let d = detect_scenes(&half, &DetectorConfig::default())
        .unwrap()
        .damage;
    assert!(d.damaged, "{d:?}");
}

/// yt-dlp merges video and audio into WebM/Matroska, which states no
/// video stream duration, only the file's: with 0.4 s more audio than its
/// 3 s of video, the file's duration announced 102 frames for 90 and the
/// intact file was reported damaged. The per-stream `DURATION` tag is the
/// video's own.
#[test]
fn a_webm_with_longer_audio_is_not_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let webm = dir.path().join("av.webm");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=duration=3:size=160x120:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=3.4",
        "-c:v",
        "libvpx-vp9",
        "-b:v",
        "100k",
        "-c:a",
        "libopus",
        webm.to_str().unwrap(),
    ]);
    let info = probe(&webm).unwrap();
    assert!((info.duration_s.unwrap() - 3.0).abs() < 0.05, "{info:?}");
    let d = detect_scenes(&webm, &DetectorConfig::default())
        .unwrap()
        .damage;
    assert_eq!(d.frames_decoded, 90);
    assert_eq!(d.announced_from.as_deref(), Some("duration"));
    assert!(!d.damaged, "{d:?}");
}

#[test]
fn a_truncated_video_is_flagged_in_the_selection_report() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    h264_clip(&input.join("a_whole.mp4"));
    truncate_to_half(&input.join("a_whole.mp4"), &input.join("b_half.mp4"));
    let config = SelectionConfig {
        person_detector: frame_select::select::PersonDetectorKind::None,
        clip_min_s: 1.0,
        write_clips: false,
        ..Default::default()
    };
    let inputs = inputs_from_dir(&input).unwrap();
    let out = dir.path().join("out");
    let run = select_videos(&inputs, &config, None, &out, &|_| {}).unwrap();
    let whole = &run.selections[0];
    let half = &run.selections[1];
    assert!(
        !whole.damage.damaged && whole.warnings.is_empty(),
        "{whole:?}"
    );
    assert!(half.damage.damaged, "{:?}", half.damage);
    assert!(half.damage.frames_decoded < 100);
    assert!(
        half.warnings.iter().any(|w| w.contains("frames missing")),
        "{:?}",
        half.warnings
    );
    assert_eq!(run.report.damaged, 1);
    assert_eq!(run.report.damaged_examples, vec!["b_half".to_string()]);
    assert!(run.report.frames_missing > 0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["damaged"], 1);
    let line = std::fs::read_to_string(out.join("selections.jsonl")).unwrap();
    let second: serde_json::Value = serde_json::from_str(line.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["damage"]["damaged"], true);
    assert_eq!(second["damage"]["frames_announced"], 100);
}

/// One refused setting: the field its error names, and the edit that sets it.
type Case<'a, C> = (&'a str, fn(&mut C));

/// Each `(field, edit)` applied to `C::default()` is refused by `check`
/// with an error naming the field.
fn each_refused<C: Default>(cases: &[Case<'_, C>], check: impl Fn(C) -> Result<(), String>) {
    for (field, edit) in cases {
        let mut c = C::default();
        edit(&mut c);
        let err = check(c).expect_err(field);
        assert!(err.contains(field), "{field}: {err}");
    }
}

#[test]
fn non_finite_and_out_of_range_detector_settings_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("c.mp4");
    h264_clip(&clip);
    for t in [f64::NAN, f64::INFINITY, -5.0, 0.0, 300.0] {
        let config = DetectorConfig::Content(ContentConfig {
            threshold: t,
            ..Default::default()
        });
        let err = detect_scenes(&clip, &config).unwrap_err();
        assert!(matches!(err, VideoError::BadRequest { .. }), "{err}");
        assert!(err.to_string().contains("content.threshold"), "{err}");
    }
    each_refused::<AdaptiveConfig>(
        &[
            ("adaptive_threshold", |c| c.adaptive_threshold = f64::NAN),
            ("min_content_val", |c| c.min_content_val = -1.0),
            ("window_width", |c| c.window_width = 0),
            ("window_width", |c| c.window_width = usize::MAX),
            ("weights.delta_hue", |c| c.weights.delta_hue = f64::NAN),
        ],
        |c| DetectorConfig::Adaptive(c).validate(),
    );
    let zero = ContentConfig {
        weights: ComponentWeights {
            delta_hue: 0.0,
            delta_sat: 0.0,
            delta_lum: 0.0,
        },
        ..Default::default()
    };
    assert!(zero.validate().unwrap_err().contains("weights"));
    // Luma-only ignores the weights, as the detector does.
    assert!(
        ContentConfig {
            luma_only: true,
            ..zero
        }
        .validate()
        .is_ok()
    );
    assert!(DetectorConfig::default().validate().is_ok());
}

#[test]
fn every_numeric_selection_field_is_checked_and_named() {
    type Edit = fn(&mut SelectionConfig);
    let cases: Vec<(&str, Edit)> = vec![
        ("sample_every_s", |c| c.sample_every_s = f64::NAN),
        ("sample_every_s", |c| c.sample_every_s = -1.0),
        ("clip_min_s", |c| c.clip_min_s = f64::INFINITY),
        ("clip_max_s", |c| c.clip_max_s = 1e12),
        ("person_confidence", |c| c.person_confidence = f32::NAN),
        ("person_confidence", |c| c.person_confidence = 2.0),
        ("min_person_share", |c| c.min_person_share = f64::NAN),
        ("max_blank_share", |c| c.max_blank_share = -0.1),
        ("max_clipped_share", |c| c.max_clipped_share = 1.5),
        ("duplicate_min_share", |c| c.duplicate_min_share = f64::NAN),
        ("min_sharpness", |c| c.min_sharpness = f64::NAN),
        ("min_sharpness", |c| c.min_sharpness = -3.0),
        ("min_motion", |c| c.min_motion = f64::NEG_INFINITY),
        ("max_sample_width", |c| c.max_sample_width = 10),
        ("max_sample_width", |c| c.max_sample_width = u32::MAX),
        ("signature_frames", |c| c.signature_frames = 0),
        ("duplicate_radius", |c| c.duplicate_radius = 65),
        ("shots.content.threshold", |c| {
            c.shots = DetectorConfig::Content(ContentConfig {
                threshold: f64::NAN,
                ..Default::default()
            })
        }),
    ];
    for (field, edit) in cases {
        let mut c = SelectionConfig::default();
        edit(&mut c);
        let err = c.validate().unwrap_err();
        assert!(err.starts_with(field), "{field}: {err}");
    }
    assert!(SelectionConfig::default().validate().is_ok());
    // A typo in a config file is an error, not a silently ignored field.
    let err = serde_json::from_str::<SelectionConfig>(r#"{"min_sharpnes": 100}"#).unwrap_err();
    assert!(err.to_string().contains("min_sharpnes"), "{err}");
    let err = serde_json::from_str::<SelectionConfig>(
        r#"{"shots": {"kind": "content", "treshold": 10}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("treshold"), "{err}");
    // A saved config still reads back.
    let saved = serde_json::to_string(&SelectionConfig::default()).unwrap();
    let back: SelectionConfig = serde_json::from_str(&saved).unwrap();
    assert_eq!(back, SelectionConfig::default());
}

#[test]
fn detector_configs_are_checked() {
    each_refused::<HogConfig>(
        &[
            ("scale", |c| c.scale = f64::NAN),
            ("scale", |c| c.scale = 0.5),
            ("hit_threshold", |c| c.hit_threshold = f32::INFINITY),
            ("max_levels", |c| c.max_levels = 0),
            ("max_width", |c| c.max_width = Some(0)),
        ],
        |c| {
            HogPeopleDetector::try_new(c)
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
    // Unchecked, a NaN scale scans one level instead of looping or
    // panicking.
    let d = HogPeopleDetector::new(HogConfig {
        scale: f64::NAN,
        ..Default::default()
    });
    let frame = ndarray::Array3::<u8>::from_elem((200, 100, 3), 128);
    assert!(
        frame_select::detect::PersonDetector::detect(&d, frame.view())
            .unwrap()
            .is_empty()
    );
    #[cfg(feature = "yolo")]
    {
        each_refused::<YoloConfig>(
            &[
                ("confidence", |c| c.confidence = f32::NAN),
                ("iou", |c| c.iou = -0.5),
                ("image_size", |c| c.image_size = 641),
                ("max_detections", |c| c.max_detections = 0),
            ],
            |c| c.validate(),
        );
        assert!(YoloConfig::default().validate().is_ok());
    }
    assert!(HogConfig::default().validate().is_ok());
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_folders_are_not_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.mp4");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    // Before the fix: "file is empty (0 bytes)"; opening a FIFO in FFmpeg
    // would block until a writer appears.
    // Run on a thread so a regression (FFmpeg blocking on the FIFO) fails
    // the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(probe(&path).map(|_| ()));
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("probing a FIFO blocked");
    assert!(matches!(first, Err(VideoError::NotAFile { .. })));
    for (path, kind) in [
        (fifo.clone(), "FIFO"),
        (PathBuf::from("/dev/urandom"), "character device"),
        (dir.path().to_path_buf(), "directory"),
    ] {
        let err = probe(&path).unwrap_err();
        assert!(matches!(err, VideoError::NotAFile { .. }), "{err}");
        assert!(err.to_string().contains(kind), "{err}");
        assert!(!err.to_string().contains("empty"), "{err}");
        let err = detect_scenes(&path, &DetectorConfig::default()).unwrap_err();
        assert_eq!(err.kind(), "not_a_file");
    }
}

/// Odd inputs: each gives a result or a typed error, never a panic.
#[test]
fn odd_videos_and_non_videos_give_a_result_or_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let lavfi = |src: &str, out: &Path, extra: &[&str]| {
        let mut args = vec!["-f", "lavfi", "-i", src];
        args.extend_from_slice(extra);
        args.push(out.to_str().unwrap());
        common::ffmpeg(&args);
    };
    lavfi(
        "testsrc2=size=320x240:rate=25",
        &p("one_frame.mkv"),
        &["-frames:v", "1", "-c:v", "ffv1"],
    );
    lavfi(
        "testsrc2=duration=1:size=33x17:rate=25",
        &p("odd_size.mkv"),
        &["-c:v", "ffv1"],
    );
    lavfi(
        "testsrc2=duration=1:size=2x2:rate=25",
        &p("tiny.mkv"),
        &["-c:v", "ffv1"],
    );
    lavfi("sine=duration=1", &p("audio_only.mkv"), &[]);
    lavfi(
        "testsrc2=size=64x48:rate=25",
        &p("zero_frames.mp4"),
        &["-frames:v", "0", "-c:v", "libx264"],
    );
    // Only the index of a faststart MP4: 100 frames announced, none there.
    h264_clip(&p("whole.mp4"));
    let whole = std::fs::read(p("whole.mp4")).unwrap();
    let mdat = whole.windows(4).position(|w| w == b"mdat").unwrap();
    std::fs::write(p("index_only.mp4"), &whole[..mdat + 4]).unwrap();
    std::fs::write(p("notes.mp4"), b"just text, not a video\n".repeat(40)).unwrap();
    // The start of a zip archive, as a `.pth` checkpoint begins.
    let mut pth = b"PK\x03\x04\x14\x00\x00\x00\x00\x00".to_vec();
    pth.extend(std::iter::repeat_n(0u8, 2000));
    std::fs::write(p("model.pth"), &pth).unwrap();
    std::fs::write(p("empty.mp4"), b"").unwrap();

    let expect_frames = [("one_frame.mkv", 1), ("odd_size.mkv", 25), ("tiny.mkv", 25)];
    for (name, frames) in expect_frames {
        let d = detect_scenes(p(name), &DetectorConfig::default()).unwrap();
        assert_eq!(d.frames, frames, "{name}");
        assert!(!d.damage.damaged, "{name}: {:?}", d.damage);
    }
    let d = detect_scenes(p("index_only.mp4"), &DetectorConfig::default()).unwrap();
    assert_eq!((d.frames, d.scenes.len()), (0, 0));
    assert!(
        d.damage.damaged && d.damage.missing_frames() == 100,
        "{:?}",
        d.damage
    );
    for (name, kind) in [
        ("zero_frames.mp4", "no_video_stream"),
        ("audio_only.mkv", "no_video_stream"),
        ("notes.mp4", "not_media"),
        ("model.pth", "not_media"),
        ("empty.mp4", "empty"),
    ] {
        let err = detect_scenes(p(name), &DetectorConfig::default()).unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }

    // The whole selection over them: one decision each, clips written for
    // the odd sizes (re-encode needs even sizes), no panic.
    let inputs: Vec<VideoInput> = [
        "one_frame.mkv",
        "odd_size.mkv",
        "tiny.mkv",
        "audio_only.mkv",
        "notes.mp4",
        "model.pth",
    ]
    .iter()
    .map(|n| VideoInput {
        id: n.replace('.', "_"),
        path: p(n),
    })
    .collect();
    let config = SelectionConfig {
        person_detector: frame_select::select::PersonDetectorKind::None,
        clip_min_s: 0.5,
        min_sharpness: 0.0,
        min_motion: 0.0,
        ..Default::default()
    };
    let out = p("out");
    let run = select_videos(&inputs, &config, None, &out, &|_| {}).unwrap();
    assert_eq!(run.selections.len(), 6);
    assert_eq!(run.selections[0].reasons, vec![Reason::SceneTooShort]);
    for s in &run.selections[3..] {
        assert_eq!(s.reasons, vec![Reason::DecodeFailed], "{s:?}");
    }
    // No partial files left in the clips folder.
    for e in std::fs::read_dir(out.join("clips")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains("partial"), "{name}");
    }
}

#[test]
fn clips_never_overwrite_their_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let clips = out.join("clips");
    std::fs::create_dir_all(&clips).unwrap();
    // An input folder that is the clips folder of the output: the clip of
    // `walk.mp4` would be `clips/walk.mp4`, the input itself.
    let video = clips.join("walk.mp4");
    h264_clip(&video);
    let before = std::fs::read(&video).unwrap();
    let inputs = inputs_from_dir(&clips).unwrap();
    let config = SelectionConfig {
        person_detector: frame_select::select::PersonDetectorKind::None,
        min_sharpness: 0.0,
        ..Default::default()
    };
    let run = select_videos(&inputs, &config, None, &out, &|_| {}).unwrap();
    let s = &run.selections[0];
    assert_eq!(s.reasons, vec![Reason::WriteFailed], "{:?}", s.details);
    assert!(s.details[0].contains("overwrite"), "{:?}", s.details);
    assert_eq!(std::fs::read(&video).unwrap(), before);

    // The same guard in the clip writer.
    let err = frame_select::video::write_clip(
        &video,
        &frame_select::video::ClipRequest {
            start_frame: 0,
            end_frame: 10,
            method: frame_select::video::ClipMethod::Auto,
        },
        &video,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "write");
    assert_eq!(std::fs::read(&video).unwrap(), before);

    // A report file named like an input video is refused before any work.
    let sneaky = out.join("report.json");
    std::fs::copy(&video, &sneaky).unwrap();
    let inputs = vec![VideoInput {
        id: "r".into(),
        path: sneaky.clone(),
    }];
    let err = select_videos(&inputs, &config, None, &out, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("report.json"), "{err}");
    assert_eq!(std::fs::read(&sneaky).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn a_fifo_as_manifest_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("manifest.jsonl");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    // Before the fix this read blocked forever: run it on a thread so a
    // regression fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(frame_select::select::inputs_from_manifest(&path).map(|_| ()));
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("reading a FIFO manifest blocked");
    let err = result.unwrap_err();
    assert!(err.to_string().contains("FIFO"), "{err}");
}

/// Byte-level fuzzing of the container and stream parsers through FFmpeg:
/// flips, cuts and splices of a tiny valid clip, and arbitrary bytes. Every
/// case must give scenes or a typed error, never a panic, and a result
/// short of the frames its container announces must say it is damaged.
/// Runs `PROPTEST_CASES` cases (24 by default); a longer run:
/// `PROPTEST_CASES=2000 cargo test -p frame-select --test hostile fuzz`.
#[test]
fn fuzz_mutated_video_bytes_give_a_result_or_a_typed_error() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let dir = tempfile::tempdir().unwrap();
    let mut seeds = Vec::new();
    for (name, codec) in [("seed.mp4", "libx264"), ("seed.avi", "mpeg4")] {
        let path = dir.path().join(name);
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=duration=0.4:size=64x48:rate=25",
            "-c:v",
            codec,
            "-threads",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            path.to_str().unwrap(),
        ]);
        seeds.push((name, std::fs::read(&path).unwrap()));
    }
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    #[derive(Debug, Clone)]
    enum Mutation {
        Flip(Vec<(usize, u8)>),
        Cut(usize),
        Splice(usize, usize, usize),
        Arbitrary(Vec<u8>),
    }
    let mutation = prop_oneof![
        3 => prop::collection::vec((any::<usize>(), any::<u8>()), 1..16).prop_map(Mutation::Flip),
        2 => any::<usize>().prop_map(Mutation::Cut),
        1 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(a, b, c)| Mutation::Splice(a, b, c)),
        1 => prop::collection::vec(any::<u8>(), 1..4096).prop_map(Mutation::Arbitrary),
    ];
    let strategy = (0..seeds.len(), mutation);
    let case_path = dir.path().join("case.bin");
    runner
        .run(&strategy, |(seed, m)| {
            let (name, base) = &seeds[seed];
            let mut bytes = base.clone();
            let n = bytes.len();
            match &m {
                Mutation::Flip(flips) => {
                    for &(at, v) in flips {
                        bytes[at % n] ^= v | 1;
                    }
                }
                Mutation::Cut(at) => bytes.truncate(at % n),
                Mutation::Splice(a, b, c) => {
                    // Copy a run of the file over another place in it.
                    let (a, c) = (a % n, c % n);
                    let len = (b % 512).min(n - a).min(n - c);
                    let run = bytes[a..a + len].to_vec();
                    bytes[c..c + len].copy_from_slice(&run);
                }
                Mutation::Arbitrary(any) => bytes = any.clone(),
            }
            let path = case_path.with_extension(name.rsplit('.').next().unwrap());
            std::fs::write(&path, &bytes).unwrap();
            match detect_scenes(&path, &DetectorConfig::default()) {
                Ok(d) => {
                    prop_assert_eq!(d.scenes.last().map_or(0, |s| s.end), d.frames);
                    if d.damage.missing_frames() > 0 {
                        prop_assert!(d.damage.damaged);
                    }
                }
                Err(e) => {
                    let known = [
                        "empty",
                        "not_media",
                        "no_video_stream",
                        "unsupported",
                        "broken",
                        "bad_request",
                    ];
                    prop_assert!(known.contains(&e.kind()), "{}", e);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// YOLOv8 weights with NaNs (a damaged download) give NaN outputs; before
/// the fix, NaN box coordinates next to a finite score passed NMS as a
/// "person". Now the frame's detection is an error.
#[cfg(feature = "yolo")]
#[test]
fn nan_detector_outputs_are_an_error_not_boxes() {
    use burn::backend::Flex;
    use frame_select::detect::DetectError;
    use frame_select::detect::yolo::YoloV8;

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/yolov8/yolov8n_random.safetensors");
    let mut bytes = std::fs::read(&fixture).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    // The box-regression branch's last bias: every box coordinate becomes
    // NaN while the class scores stay finite.
    let entry = header
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("model.22.cv2.") && k.ends_with(".2.bias"))
        .map(|(_, v)| v.clone())
        .expect("a box-branch bias");
    assert_eq!(entry["dtype"], "F16");
    let (a, b) = (
        entry["data_offsets"][0].as_u64().unwrap() as usize,
        entry["data_offsets"][1].as_u64().unwrap() as usize,
    );
    let data = 8 + header_len;
    for pair in bytes[data + a..data + b].chunks_exact_mut(2) {
        pair.copy_from_slice(&0x7E00u16.to_le_bytes()); // f16 NaN
    }
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("nan.safetensors");
    std::fs::write(&damaged, &bytes).unwrap();
    let device = Default::default();
    let model = YoloV8::<Flex>::load(&damaged, &device).unwrap();
    let config = YoloConfig {
        image_size: 64,
        confidence: 0.0,
        ..Default::default()
    };
    let frame = ndarray::Array3::<u8>::from_elem((48, 64, 3), 100);
    let err = model
        .detect_frame(frame.view(), &config, &device)
        .unwrap_err();
    assert!(matches!(err, DetectError::NonFinite { .. }), "{err}");
    // The intact weights give finite boxes on the same frame.
    let model = YoloV8::<Flex>::load(&fixture, &device).unwrap();
    let found = model.detect_frame(frame.view(), &config, &device).unwrap();
    assert!(found.iter().all(|d| d.x0.is_finite() && d.y1.is_finite()));
}

/// A header that declares a huge frame is refused before any frame is
/// decoded and converted (each would be a 430 MB RGB array here).
#[test]
fn huge_declared_frame_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let y4m = dir.path().join("huge.y4m");
    let mut bytes = b"YUV4MPEG2 W12000 H12000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    bytes.extend(std::iter::repeat_n(0x80u8, 4096));
    std::fs::write(&y4m, &bytes).unwrap();
    let err = probe(&y4m).unwrap_err();
    assert!(matches!(err, VideoError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("12000x12000"), "{err}");
    // A real 8K-sized header is still fine.
    let ok = dir.path().join("uhd.y4m");
    let mut bytes = b"YUV4MPEG2 W7680 H4320 F25:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    bytes.extend(std::iter::repeat_n(0x80u8, 4096));
    std::fs::write(&ok, &bytes).unwrap();
    assert_eq!(probe(&ok).unwrap().width, 7680);
}

#[test]
fn an_output_path_that_is_a_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("taken");
    std::fs::write(&out, b"keep me").unwrap();
    let err = select_videos(&[], &SelectionConfig::default(), None, &out, &|_| {}).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("taken") && msg.contains("existing file"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
}

/// Matroska announces a duration, AVI a frame count: a file cut in half is
/// damaged in both. (MPEG-TS announces neither; a cut there cannot be told
/// from a short file.)
#[test]
fn truncated_matroska_and_avi_are_damaged_too() {
    let dir = tempfile::tempdir().unwrap();
    for (ext, codec, from) in [
        ("mkv", "libx264", "duration"),
        ("avi", "mpeg4", "frame_count"),
    ] {
        let whole = dir.path().join(format!("w.{ext}"));
        let half = dir.path().join(format!("h.{ext}"));
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=duration=4:size=320x240:rate=25",
            "-c:v",
            codec,
            "-threads",
            "1",
            "-pix_fmt",
            "yuv420p",
            whole.to_str().unwrap(),
        ]);
        truncate_to_half(&whole, &half);
        let ok = detect_scenes(&whole, &DetectorConfig::default()).unwrap();
        assert!(!ok.damage.damaged, "{ext}: {:?}", ok.damage);
        let d = detect_scenes(&half, &DetectorConfig::default())
            .unwrap()
            .damage;
        assert!(d.damaged, "{ext}: {d:?}");
        assert_eq!(d.frames_announced, Some(100), "{ext}");
        assert_eq!(d.announced_from.as_deref(), Some(from), "{ext}");
        assert!(d.frames_decoded < 70, "{ext}: {d:?}");
    }
}
