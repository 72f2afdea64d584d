//! Prints a video's scene list as JSON `[[start, end], ...]` (frames,
//! end exclusive), like PySceneDetect's `detect-content` / `detect-adaptive`
//! with their defaults.
//!
//! ```text
//! cargo run --release -p frame-select --example scenes -- ../shared/data/videos/vtest.avi
//! cargo run --release -p frame-select --example scenes -- clip.mp4 --adaptive
//! ```
//!
//! Only the JSON goes to stdout; errors and warnings go to stderr.
//!
//! A damaged file (truncated, corrupt packets, FFmpeg errors) still prints
//! the scene list of what could be decoded, and a warning on stderr says how
//! many frames were decoded of how many the container announces. Exit codes:
//! 0 success, 1 the file cannot be read or decoded, 2 invalid options,
//! 3 the file is damaged and `--strict` was given (the list is still
//! printed). `--report` prints `{"frames", "scenes", "damage"}` instead of
//! the bare list.

use clap::Parser;
use frame_select::scene::{AdaptiveConfig, ContentConfig, DetectorConfig, detect_scenes};

#[derive(Parser)]
#[command(about = "Scene list of a video as JSON [[start, end], ...] in frames")]
struct Args {
    /// The video file.
    video: std::path::PathBuf,
    /// Use the adaptive detector (default: content detector).
    #[arg(long)]
    adaptive: bool,
    /// Threshold: the content score for the content detector (default 27),
    /// the adaptive ratio for the adaptive detector (default 3), as
    /// PySceneDetect's `--threshold` of each. Finite, in (0, 255].
    #[arg(long)]
    threshold: Option<f64>,
    /// Minimum scene length in frames (default 15).
    #[arg(long)]
    min_scene_len: Option<u64>,
    /// Score luma only.
    #[arg(long)]
    luma_only: bool,
    /// Exit with status 3 when the file is damaged (the list is still
    /// printed).
    #[arg(long)]
    strict: bool,
    /// Print a JSON object with the scene list, the frame count and the
    /// damage report instead of the bare list.
    #[arg(long)]
    report: bool,
}

fn main() {
    let args = Args::parse();
    let config = if args.adaptive {
        let mut c = AdaptiveConfig {
            luma_only: args.luma_only,
            ..Default::default()
        };
        if let Some(t) = args.threshold {
            c.adaptive_threshold = t;
        }
        if let Some(m) = args.min_scene_len {
            c.min_scene_len = m;
        }
        DetectorConfig::Adaptive(c)
    } else {
        let mut c = ContentConfig {
            luma_only: args.luma_only,
            ..Default::default()
        };
        if let Some(t) = args.threshold {
            c.threshold = t;
        }
        if let Some(m) = args.min_scene_len {
            c.min_scene_len = m;
        }
        DetectorConfig::Content(c)
    };
    if let Err(e) = config.validate() {
        // Field names match the options: threshold, min_scene_len.
        eprintln!("error: invalid option: {e}");
        std::process::exit(2);
    }
    match detect_scenes(&args.video, &config) {
        Ok(d) => {
            let pairs: Vec<[u64; 2]> = d.scenes.iter().map(|s| [s.start, s.end]).collect();
            let text = if args.report {
                serde_json::json!({"frames": d.frames, "scenes": pairs, "damage": d.damage})
                    .to_string()
            } else {
                serde_json::to_string(&pairs).expect("numbers serialise")
            };
            println!("{text}");
            if d.damage.damaged {
                eprintln!(
                    "warning: {}: damaged, scenes cover only what was decoded: {}",
                    args.video.display(),
                    d.damage.summary()
                );
                if args.strict {
                    std::process::exit(3);
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
