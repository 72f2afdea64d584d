//! Prints a video's scene list as JSON `[[start, end], ...]` (frames,
//! end exclusive), like PySceneDetect's `detect-content` / `detect-adaptive`
//! with their defaults.
//!
//! ```text
//! cargo run --release -p frame-select --example scenes -- ../shared/data/videos/vtest.avi
//! cargo run --release -p frame-select --example scenes -- clip.mp4 --adaptive
//! ```
//!
//! Only the JSON goes to stdout; errors go to stderr with a non-zero exit.

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
    /// Content threshold (content detector; PySceneDetect default 27).
    #[arg(long)]
    threshold: Option<f64>,
    /// Minimum scene length in frames (default 15).
    #[arg(long)]
    min_scene_len: Option<u64>,
    /// Score luma only.
    #[arg(long)]
    luma_only: bool,
}

fn main() {
    let args = Args::parse();
    let config = if args.adaptive {
        let mut c = AdaptiveConfig {
            luma_only: args.luma_only,
            ..Default::default()
        };
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
    match detect_scenes(&args.video, &config) {
        Ok(d) => {
            let pairs: Vec<[u64; 2]> = d.scenes.iter().map(|s| [s.start, s.end]).collect();
            println!(
                "{}",
                serde_json::to_string(&pairs).expect("numbers serialise")
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
