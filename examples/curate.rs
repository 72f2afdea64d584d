//! Curate crawled video metadata: ingest, filter, and write the manifest,
//! VideoMAE lists and (optionally) WebDataset shards.
//!
//! ```text
//! cargo run --release --example curate -- \
//!     --input tests/data/crawl --config tests/data/filters.toml \
//!     --label-map tests/data/label_map.json --out out/curated --shards
//! ```
//!
//! Writes `manifest.jsonl`, `manifest.provenance.json`, `pretrain_list.txt`,
//! `filter_report.json` (plus `train.csv`, `val.csv`, `label_map.json`,
//! `labels.txt` with `--label-map`, and `shards/` with `--shards`) and prints
//! the report table.
//!
//! Exit codes: 0 on success; 1 when no record could be read (the earlier
//! outputs in `--out` are left as they were); 2 for invalid options, a
//! missing or unusable input path, an unusable `--out`, or a write failure
//! (nothing is replaced and no `.tmp` file is left).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use tubelet::curation::{
    CurateOptions, CurationError, FilterConfig, LabelMap, Reason, ShardLimits, curate,
};

/// Curate crawled video metadata into a manifest, VideoMAE lists and shards.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Folder (searched recursively for *.info.json, *.jsonl, *.ndjson, *.csv)
    /// or file; repeat for several.
    #[arg(long, required = true)]
    input: Vec<PathBuf>,
    /// Filter config (TOML or JSON); default keeps all but repeated ids.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Also write WebDataset shards to <out>/shards (resumes if present).
    #[arg(long)]
    shards: bool,
    /// Samples per shard.
    #[arg(long, default_value_t = ShardLimits::default().max_samples)]
    shard_samples: usize,
    /// Bytes per shard.
    #[arg(long, default_value_t = ShardLimits::default().max_bytes)]
    shard_bytes: u64,
    /// Classes for fine-tuning lists (label_map.json or labels.txt).
    #[arg(long)]
    label_map: Option<PathBuf>,
    /// Share of labelled records written to val.csv, in [0, 1].
    #[arg(long, default_value_t = 0.1)]
    val_fraction: f64,
    /// Folder where media files may lie besides the input folders (repeat
    /// for several). Media paths in the metadata that lead elsewhere
    /// (symlinks and `..` resolved) are rejected as media_outside_roots.
    #[arg(long)]
    media_root: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            if let Some(CurationError::NothingRead { report, .. }) = e.downcast_ref() {
                // The unreadable files and lines say what went wrong.
                println!("{report}");
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let config = match &args.config {
        Some(p) => FilterConfig::from_file(p)?,
        None => FilterConfig::default(),
    };
    let label_map = args
        .label_map
        .as_deref()
        .map(LabelMap::from_file)
        .transpose()?;
    let opts = CurateOptions {
        inputs: args.input,
        config,
        out_dir: args.out.clone(),
        shards: args.shards.then_some(ShardLimits {
            max_samples: args.shard_samples,
            max_bytes: args.shard_bytes,
        }),
        label_map,
        val_fraction: args.val_fraction,
        media_roots: args.media_root,
    };

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .expect("valid template"),
    );
    let start = Instant::now();
    let summary = curate(&opts, &mut |p| {
        bar.set_length(p.bytes_total);
        bar.set_position(p.bytes_done);
        bar.set_message(format!("{} records, {} kept", p.records_read, p.kept));
    })?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();

    let r = &summary.report;
    println!("{r}");
    let o = &summary.outputs;
    println!(
        "wrote {}: manifest.jsonl ({} records), pretrain_list.txt ({} clips), filter_report.json",
        args.out.display(),
        o.manifest,
        o.pretrain_list
    );
    if o.unlistable_path > 0 {
        println!(
            "  {} kept records have a media path with whitespace, which VideoMAE lists cannot hold; they are in the manifest{}",
            o.unlistable_path,
            if o.shards.is_some() {
                " and the shards"
            } else {
                ""
            }
        );
    }
    if o.without_media > 0 {
        println!(
            "  {} kept records have no media file on disk and are not in the lists",
            o.without_media
        );
    }
    if let Some(outside) = r.reasons.get(&Reason::MediaOutsideRoots) {
        // Legitimate layouts meet this too: media in a sibling folder of a
        // CSV/JSONL crawl, a re-ingested manifest, symlinks into a blob store.
        eprintln!(
            "warning: {} records were rejected because their media file lies outside the \
             input folders (media_outside_roots); if those files are yours, allow their \
             folder with --media-root",
            outside.any
        );
    }
    if let Some(f) = &o.finetune {
        println!(
            "  train.csv {} / val.csv {} (unlabelled: {}), label_map.json, labels.txt",
            f.train, f.val, f.unlabeled
        );
    }
    if let Some(s) = &o.shards {
        println!(
            "  shards: {} written, {} samples written, {} already present",
            s.shards_written.len(),
            s.samples_written,
            s.samples_skipped
        );
    }
    println!(
        "{} records in {secs:.2} s ({:.0} records/s); config sha256 {}",
        r.records_read,
        r.records_read as f64 / secs.max(1e-9),
        &summary.provenance.config_sha256[..12]
    );
    Ok(ExitCode::SUCCESS)
}
