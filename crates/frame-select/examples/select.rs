//! Frame selection over a folder of videos or a curation-core manifest:
//! longest scene, person and quality checks, near-duplicates, clip writing.
//!
//! ```text
//! cargo run --release -p frame-select --example select -- \
//!     --input ../shared/data/videos --out /tmp/selected
//! cargo run --release -p frame-select --example select -- \
//!     --input curated/manifest.jsonl --out /tmp/selected --detector yolov8 --yolo-weights yolov8n.safetensors
//! ```
//!
//! Writes `clips/<id>.mp4` + `clips/<id>.json` per kept clip,
//! `selections.jsonl` (one decision per video), `report.json` and
//! `selection_config.json` into `--out`, and prints the report. `<id>` is
//! the file stem (or manifest id) when it is made of `[A-Za-z0-9_-]`, else
//! the same key curation's shards use (`my_clip-<16 hex digits>` for
//! `my.clip`); ids repeated (ignoring case) get `-2`, `-3`, ... so no two
//! clips share a file.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use frame_select::detect::PersonDetector;
use frame_select::select::{
    PersonDetectorKind, SelectionConfig, inputs_from_dir, inputs_from_manifest, select_videos,
};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(about = "Select clips from videos: longest scene, people, quality, near-duplicates")]
struct Args {
    /// A folder of videos (searched recursively) or a manifest.jsonl.
    #[arg(long)]
    input: PathBuf,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// A SelectionConfig JSON file (fields left out keep their defaults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Person detector: hog, yolov8 or none (overrides the config).
    #[arg(long)]
    detector: Option<String>,
    /// YOLOv8 weights (.safetensors from tools/convert_yolov8.py).
    #[arg(long)]
    yolo_weights: Option<PathBuf>,
    /// Decide and report without writing clips.
    #[arg(long)]
    dry_run: bool,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}

/// Both paths name one existing file.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn main() {
    let args = Args::parse();
    let mut config: SelectionConfig = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
            serde_json::from_str(&text).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())))
        }
        None => SelectionConfig::default(),
    };
    if let Some(d) = &args.detector {
        config.person_detector = match d.as_str() {
            "hog" => PersonDetectorKind::Hog,
            "yolov8" => PersonDetectorKind::Yolov8,
            "none" => PersonDetectorKind::None,
            other => fail(format!("unknown detector {other:?} (hog, yolov8, none)")),
        };
    }
    if args.yolo_weights.is_some() {
        config.yolo_weights = args.yolo_weights.clone();
    }
    if args.dry_run {
        config.write_clips = false;
    }
    if let Err(e) = config.validate() {
        fail(format!("invalid selection config: {e}"));
    }
    // The run writes these into --out; none may be an input file.
    for name in ["selections.jsonl", "report.json", "selection_config.json"] {
        let target = args.out.join(name);
        for input in std::iter::once(&args.input).chain(args.config.as_ref()) {
            if same_file(input, &target) {
                fail(format!(
                    "{}: the output would overwrite this input; choose another --out",
                    input.display()
                ));
            }
        }
    }
    let inputs = if args.input.is_dir() {
        inputs_from_dir(&args.input).unwrap_or_else(|e| fail(e))
    } else {
        let (inputs, skipped) = inputs_from_manifest(&args.input).unwrap_or_else(|e| fail(e));
        if skipped > 0 {
            eprintln!("note: {skipped} manifest records have no media_path and are skipped");
        }
        inputs
    };
    let detector: Option<Arc<dyn PersonDetector>> =
        frame_select::detect::from_config(&config).unwrap_or_else(|e| fail(e));
    eprintln!(
        "selecting from {} videos with {} threads | shots: {:?} | sample every {} s | detector: {} | person share >= {} | clip {}..{} s",
        inputs.len(),
        rayon::current_num_threads(),
        config.shots,
        config.sample_every_s,
        detector.as_ref().map_or("none", |d| d.name()),
        config.min_person_share,
        config.clip_min_s,
        config.clip_max_s
    );
    let bar = ProgressBar::new(inputs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} videos {elapsed} (eta {eta}) {msg}")
            .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let run = select_videos(&inputs, &config, detector.as_deref(), &args.out, &|s| {
        bar.set_message(format!(
            "{}: {}",
            s.id,
            if s.reasons.is_empty() {
                "pass"
            } else {
                s.reasons[0].name()
            }
        ));
        bar.inc(1);
    })
    .unwrap_or_else(|e| fail(e));
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    for s in &run.selections {
        if s.damage.damaged {
            eprintln!(
                "warning: {}: damaged, decided on what could be decoded: {}",
                s.id,
                s.damage.summary()
            );
        }
        match &s.kept {
            Some(k) => eprintln!(
                "kept     {:<24} {} ({:?})",
                s.id,
                k.path.display(),
                k.method
            ),
            None => eprintln!("rejected {:<24} {}", s.id, s.details.join("; ")),
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&run.report).expect("report serialises")
    );
    eprintln!(
        "{} videos, {} frames in {secs:.1} s ({:.0} frames/s); report in {}",
        run.report.videos_read,
        run.report.frames_decoded,
        run.report.frames_decoded as f64 / secs.max(1e-9),
        args.out.join("report.json").display()
    );
}
