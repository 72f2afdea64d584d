//! Test setup shared by the integration tests: synthetic clips made with
//! the `ffmpeg` command line (installed by `scripts/setup.sh`).

use std::path::Path;
use std::process::Command;

/// Encodes `frames` frames of the lavfi source `source` into `out` with the
/// encoder arguments `encode`, panicking with ffmpeg's message on failure
/// (test setup, not code under test).
pub fn lavfi_video(source: &str, frames: u32, encode: &[&str], out: &Path) {
    let output = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            source,
        ])
        .args(["-frames:v", &frames.to_string()])
        .args(encode)
        .arg(out)
        .output()
        .expect("ffmpeg is installed by scripts/setup.sh");
    assert!(
        output.status.success(),
        "ffmpeg {source}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
