//! Video I/O against FFmpeg's own tools and the shared real videos.

mod common;

use common::{ffprobe_frame_count, make_cut_clip, shared_video};
use frame_select::video::{
    ClipMethod, ClipRequest, DecodeOptions, Resize, VideoError, VideoReader, probe, sample_frames,
    sample_frames_lenient, write_clip,
};

fn decode_all(
    path: &std::path::Path,
    options: &DecodeOptions,
) -> (Vec<frame_select::video::DecodedFrame>, Option<VideoError>) {
    let mut reader = VideoReader::open(path, options).expect("opens");
    let mut frames = Vec::new();
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

#[test]
fn shared_data_probe_reports_stream_facts() {
    let Some(path) = shared_video("vtest.avi") else {
        return;
    };
    let info = probe(&path).unwrap();
    assert_eq!((info.width, info.height), (768, 576));
    assert_eq!(info.fps, 10.0);
    assert_eq!(info.frame_count, Some(795));
    assert_eq!(info.codec, "msmpeg4v3");
    assert_eq!(info.rotation_degrees, 0);
}

#[test]
fn shared_data_decodes_as_many_frames_as_ffmpeg() {
    for name in ["carphone_pristine.mp4", "vtest.avi", "box.mp4"] {
        let Some(path) = shared_video(name) else {
            return;
        };
        let (frames, err) = decode_all(&path, &DecodeOptions::default());
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(frames.len() as u64, ffprobe_frame_count(&path), "{name}");
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.index, i as u64);
        }
        // box.mp4's own timestamps step back once (FFmpeg warns about its
        // non-monotonic dts), so only the clean files are checked for order.
        assert!(
            name == "box.mp4" || frames.windows(2).all(|w| w[1].time_s >= w[0].time_s),
            "{name}: times do not go back"
        );
    }
}

#[test]
fn shared_data_downscale_inside_decoder_keeps_aspect() {
    let Some(path) = shared_video("vtest.avi") else {
        return;
    };
    let options = DecodeOptions {
        resize: Some(Resize::MaxWidth(256)),
        ..Default::default()
    };
    let frames = sample_frames(&path, &[3], &options).unwrap();
    assert_eq!(frames[0].rgb.dim(), (192, 256, 3));
    let bad = DecodeOptions {
        resize: Some(Resize::Exact {
            width: 0,
            height: 10,
        }),
        ..Default::default()
    };
    assert!(matches!(
        VideoReader::open(&path, &bad),
        Err(VideoError::BadRequest { .. })
    ));
}

#[test]
fn shared_data_seeking_and_sampling_give_the_sequential_frames() {
    let Some(path) = shared_video("vtest.avi") else {
        return;
    };
    let (all, _) = decode_all(&path, &DecodeOptions::default());
    // 400 and 790 are far enough apart that sampling seeks.
    let wanted = [790u64, 0, 400, 401, 400];
    let sampled = sample_frames(&path, &wanted, &DecodeOptions::default()).unwrap();
    assert_eq!(
        sampled.iter().map(|f| f.index).collect::<Vec<_>>(),
        vec![0, 400, 401, 790]
    );
    for f in &sampled {
        assert!(
            f.rgb == all[f.index as usize].rgb,
            "frame {} differs from sequential decode",
            f.index
        );
    }
    let err = sample_frames(&path, &[10, 5000], &DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, VideoError::BadRequest { .. }), "{err}");
    let (partial, err) = sample_frames_lenient(&path, &[10, 5000], &DecodeOptions::default());
    assert_eq!(partial.len(), 1);
    assert!(err.is_some());
}

#[test]
fn bad_files_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(probe(&empty), Err(VideoError::Empty { .. })));
    let text = dir.path().join("notes.mp4");
    std::fs::write(
        &text,
        b"this is not a video at all, just some text\n".repeat(50),
    )
    .unwrap();
    assert!(matches!(probe(&text), Err(VideoError::NotMedia { .. })));
    assert!(matches!(
        probe(dir.path().join("missing.mp4")),
        Err(VideoError::Io { .. })
    ));
    let audio = dir.path().join("tone.m4a");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        audio.to_str().unwrap(),
    ]);
    assert!(matches!(
        probe(&audio),
        Err(VideoError::NoVideoStream { .. })
    ));
}

#[test]
fn shared_data_truncated_and_damaged_files_keep_the_frames_before_the_damage() {
    let Some(path) = shared_video("box.mp4") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // An MPEG-TS copy cut in half: the header survives, the stream stops.
    let ts = dir.path().join("box.ts");
    common::ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-c",
        "copy",
        ts.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&ts).unwrap();
    let cut = dir.path().join("half.ts");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (frames, _err) = decode_all(&cut, &DecodeOptions::default());
    let total = ffprobe_frame_count(&path) as usize;
    assert!(
        frames.len() > total / 4 && frames.len() < total,
        "{} of {total}",
        frames.len()
    );

    let Some(bugy) = shared_video("Megamind_bugy.avi") else {
        return;
    };
    let (frames, err) = decode_all(&bugy, &DecodeOptions::default());
    // Whatever the damage does, frames come out in order, and an error (if
    // any) is a typed one.
    assert!(!frames.is_empty());
    if let Some(e) = err {
        assert!(matches!(e, VideoError::Broken { .. }), "{e}");
    }
}

#[test]
fn clips_are_written_by_stream_copy_or_reencode() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.mp4");
    // Keyframe every 25 frames, no B-frames: frame 50 is a keyframe.
    make_cut_clip(
        &src,
        &["testsrc2", "smptebars"],
        3,
        "160x120",
        &["-c:v", "libx264", "-g", "25", "-bf", "0", "-threads", "1"],
    );
    let copy = write_clip(
        &src,
        &ClipRequest {
            start_frame: 50,
            end_frame: 100,
            method: ClipMethod::Auto,
        },
        dir.path().join("copy.mp4"),
    )
    .unwrap();
    assert_eq!(copy.method, ClipMethod::StreamCopy);
    assert_eq!(ffprobe_frame_count(&copy.path), 50);
    let re = write_clip(
        &src,
        &ClipRequest {
            start_frame: 13,
            end_frame: 40,
            method: ClipMethod::Auto,
        },
        dir.path().join("re.mp4"),
    )
    .unwrap();
    assert_eq!(re.method, ClipMethod::Reencode);
    assert_eq!(re.frames, 27);
    assert_eq!(ffprobe_frame_count(&re.path), 27);
    let first = sample_frames(&re.path, &[0], &DecodeOptions::default()).unwrap();
    let want = sample_frames(&src, &[13], &DecodeOptions::default()).unwrap();
    let mean_diff: f64 = first[0]
        .rgb
        .iter()
        .zip(want[0].rgb.iter())
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .sum::<f64>()
        / first[0].rgb.len() as f64;
    assert!(
        mean_diff < 6.0,
        "re-encoded first frame is source frame 13 (mean abs diff {mean_diff})"
    );
    assert!(matches!(
        write_clip(
            &src,
            &ClipRequest {
                start_frame: 13,
                end_frame: 40,
                method: ClipMethod::StreamCopy
            },
            dir.path().join("x.mp4")
        ),
        Err(VideoError::Write { .. })
    ));
    assert!(!dir.path().join("x.mp4").exists() && !dir.path().join(".x.mp4.partial.mp4").exists());
}

#[test]
fn shared_data_background_decoding_gives_the_same_frames_and_stops_early_cleanly() {
    let Some(path) = shared_video("carphone_pristine.mp4") else {
        return;
    };
    let (all, _) = decode_all(&path, &DecodeOptions::default());
    let streamed =
        frame_select::video::with_frame_stream(&path, &DecodeOptions::default(), |info, frames| {
            assert_eq!(info.codec, "h264");
            frames.map(|f| f.unwrap()).collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(streamed, all);
    // The consumer stops after 5 frames: the decoder thread must end too.
    let first =
        frame_select::video::with_frame_stream(&path, &DecodeOptions::default(), |_, frames| {
            frames.take(5).count()
        })
        .unwrap();
    assert_eq!(first, 5);
    let missing = frame_select::video::with_frame_stream(
        std::path::Path::new("/nonexistent.mp4"),
        &DecodeOptions::default(),
        |_, _| (),
    );
    assert!(matches!(missing, Err(VideoError::Io { .. })));
}
