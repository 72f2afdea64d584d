//! Shared helpers of the frame-select integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared data folder (`../shared/data` beside the repository, or
/// `$TUBELET_SHARED_DATA`), or `None` when it is absent. Setting
/// `TUBELET_SHARED_DATA` to a folder that does not exist hides it, which is
/// how `scripts/test.sh` checks the skip path of these tests.
pub fn shared_data() -> Option<PathBuf> {
    let dir = match std::env::var_os("TUBELET_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    dir.is_dir().then_some(dir)
}

/// `<shared data>/videos/<name>`, or `None` (with a message saying the test
/// skips) when the shared data folder or that video is absent. Tests whose
/// whole subject is shared data are named `shared_data_*`, so that
/// `scripts/test.sh` reports them as skipped rather than passed when the
/// folder is absent (nextest profile `no-shared-data`).
pub fn shared_video(name: &str) -> Option<PathBuf> {
    let path = shared_data().map(|d| d.join("videos").join(name));
    match path {
        Some(p) if p.exists() => Some(p),
        _ => {
            eprintln!("SKIP: shared test video {name} not found (../shared/data absent)");
            None
        }
    }
}

/// Runs the `ffmpeg` command line with `args` (quietly), panicking with its
/// stderr on failure: test setup, not code under test.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Frames FFmpeg's own decoder produces for `path` (`ffprobe -count_frames`).
pub fn ffprobe_frame_count(path: &Path) -> u64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed by scripts/setup.sh");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("ffprobe printed a count")
}

/// Writes a clip of `sources` (lavfi source specs, `seconds` each) joined
/// with hard cuts, 25 fps, `size`, encoded with `codec_args`; returns the
/// frame index of each cut.
pub fn make_cut_clip(
    out: &Path,
    sources: &[&str],
    seconds: u32,
    size: &str,
    codec_args: &[&str],
) -> Vec<u64> {
    let mut args: Vec<String> = Vec::new();
    for s in sources {
        args.extend([
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            format!(
                "{s}{}duration={seconds}:size={size}:rate=25",
                if s.contains('=') { ':' } else { '=' }
            ),
        ]);
    }
    let inputs: String = (0..sources.len()).map(|i| format!("[{i}:v]")).collect();
    args.extend([
        "-filter_complex".into(),
        format!(
            "{inputs}concat=n={}:v=1:a=0,format=yuv420p[v]",
            sources.len()
        ),
        "-map".into(),
        "[v]".into(),
    ]);
    args.extend(codec_args.iter().map(|s| s.to_string()));
    args.push(out.to_string_lossy().into_owned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&refs);
    (1..sources.len() as u64)
        .map(|i| i * u64::from(seconds) * 25)
        .collect()
}
