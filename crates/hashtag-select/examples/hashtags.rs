//! Action vocabularies + crawled posts -> action groups with provenance and
//! a label map.
//!
//! ```text
//! cargo run --release -p hashtag-select --example hashtags -- \
//!     --labels ../shared/data/labels/kinetics400.txt \
//!     --posts crates/hashtag-select/tests/data/posts.jsonl \
//!     --views crates/hashtag-select/tests/data/tag_views.csv --out out/groups.json
//! ```
//!
//! Posts are read with curation-core (yt-dlp `.info.json` folders, JSON
//! Lines, CSV). Writes `groups.json` (groups, rejected candidates, labels
//! without a group and why, the configuration) and `label_map.json` +
//! `labels.txt` beside it (parent folders created, the three replaced
//! together), and prints a summary.
//!
//! Refused before anything is written (exit 1, earlier outputs kept): a
//! missing input, an output path that is an input or lies in an input
//! folder under a name it would be read back from, `--max-tags 0`, and
//! posts inputs that hold no readable post.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use curation_core::ingest::{RecordBatches, discover_inputs};
use hashtag_select::output::OutputPlan;
use hashtag_select::{
    HashtagError, OneShot, RuleConfig, SelectConfig, StatsConfig, StyleTable, SynonymTable,
    TagViews, ViewsGate, Vocabulary,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Turn action labels and crawled posts into hashtag action groups.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Class list(s): .txt (one per line), .json, or Kinetics .csv.
    #[arg(long, required = true)]
    labels: Vec<PathBuf>,
    /// Crawled post metadata: folders or files (info.json, jsonl, csv).
    #[arg(long, required = true)]
    posts: Vec<PathBuf>,
    /// Platform tag views (CSV `tag,views` or JSON).
    #[arg(long)]
    views: Option<PathBuf>,
    /// Style table for specification (JSON/TOML); default: the paper's
    /// ballroomdance example.
    #[arg(long)]
    styles: Option<PathBuf>,
    /// Synonym table for variants (JSON/TOML); default: a few common ones.
    #[arg(long)]
    synonyms: Option<PathBuf>,
    /// The views gate.
    #[arg(long, default_value_t = ViewsGate::default().min_views)]
    min_views: u64,
    /// Tag counters (exact below this many distinct tags).
    #[arg(long, default_value_t = StatsConfig::default().max_tags)]
    max_tags: usize,
    /// Leave labels whose own tags all fail the gate without a group instead
    /// of giving them their umbrella verb's group (`skiing` for `skiing
    /// slalom`).
    #[arg(long)]
    no_umbrella_fallback: bool,
    /// Output groups JSON.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), HashtagError> {
    let start = Instant::now();
    let config = StatsConfig {
        max_tags: args.max_tags,
        ..StatsConfig::default()
    };
    config.validate()?;
    // Every check that can fail runs before the first byte is written.
    let plan = OutputPlan::new(&args.out)?;
    let inputs = (args.labels.iter().map(|p| ("--labels", p.as_path())))
        .chain(args.posts.iter().map(|p| ("--posts", p.as_path())))
        .chain(args.views.iter().map(|p| ("--views", p.as_path())))
        .chain(args.styles.iter().map(|p| ("--styles", p.as_path())))
        .chain(args.synonyms.iter().map(|p| ("--synonyms", p.as_path())));
    plan.check_inputs(inputs)?;
    let vocabs = args
        .labels
        .iter()
        .map(|p| Vocabulary::from_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rules = RuleConfig::default();
    if let Some(p) = &args.styles {
        rules.styles = StyleTable::from_file(p)?;
    }
    if let Some(p) = &args.synonyms {
        rules.synonyms = SynonymTable::from_file(p)?;
    }
    let views = match &args.views {
        Some(p) => TagViews::from_file(p)?,
        None => TagViews::default(),
    };
    let select = SelectConfig {
        gate: ViewsGate {
            min_views: args.min_views,
        },
        umbrella_fallback: !args.no_umbrella_fallback,
        ..SelectConfig::default()
    };
    let names: Vec<String> = vocabs.iter().map(|v| v.name.clone()).collect();
    let labels: usize = vocabs
        .iter()
        .map(|v| v.labels.len() + v.skipped.len())
        .sum();
    let mut run = OneShot::new(vocabs, rules, config, select)?;

    let (files, mut errors) = discover_inputs(&args.posts);
    let posts_args = || {
        args.posts
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if files.is_empty() {
        return Err(HashtagError::NothingRead(format!(
            "--posts {}: no post files (.info.json, .jsonl, .ndjson, .csv)",
            posts_args()
        )));
    }
    let total: u64 = files.iter().map(|f| f.bytes).sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {per_sec} {msg}")
            .expect("valid template"),
    );
    for batch in RecordBatches::new(files) {
        for r in &batch.records {
            run.add_record(r);
        }
        errors.extend(batch.errors);
        bar.inc(batch.bytes);
        bar.set_message(format!("{} posts", run.stats().posts()));
    }
    bar.finish_and_clear();
    for e in errors.iter().take(10) {
        eprintln!("warning: {e}");
    }
    if errors.len() > 10 {
        eprintln!(
            "warning: ... and {} more unreadable inputs",
            errors.len() - 10
        );
    }

    if run.stats().posts() == 0 {
        return Err(HashtagError::NothingRead(format!(
            "--posts {}: no readable post ({} unreadable inputs or lines)",
            posts_args(),
            errors.len()
        )));
    }

    let out = run.finish(&views)?;
    let (selection, candidates, stats) = (out.selection, out.candidates, out.stats);
    plan.write(&selection)?;

    println!(
        "labels {labels} ({}) -> candidates {} -> groups {} ({} tags); {} labels without a group",
        names.join(", "),
        candidates.candidates.len(),
        selection.groups.len(),
        selection.groups.iter().map(|g| g.tags.len()).sum::<usize>(),
        selection.labels_without_group.len(),
    );
    println!(
        "posts {} ({} unreadable inputs), distinct tags counted {}, views gate {} ({} platform figures), {:.1} s",
        stats.posts(),
        errors.len(),
        stats.iter().count(),
        args.min_views,
        views.0.len(),
        start.elapsed().as_secs_f64()
    );
    for g in selection.groups.iter().take(20) {
        let members: Vec<&str> = g.tags.iter().map(|m| m.tag.as_str()).collect();
        let labels: Vec<String> = g.seed_labels.iter().map(|l| l.name.clone()).collect();
        println!(
            "  {:>3} #{:<20} views {:>12}  tags {:?}  labels {:?}",
            g.id, g.name, g.views, members, labels
        );
    }
    for l in selection.labels_without_group.iter().take(10) {
        println!("  no group: {} ({})", l.label, l.reason);
    }
    if selection.labels_without_group.len() > 10 {
        println!(
            "  ... {} more labels without a group in {}",
            selection.labels_without_group.len() - 10,
            args.out.display()
        );
    }
    if selection.groups.len() > 20 {
        println!(
            "  ... {} more in {}",
            selection.groups.len() - 20,
            args.out.display()
        );
    }
    println!(
        "wrote {} and label_map.json, labels.txt beside it",
        args.out.display()
    );
    Ok(())
}
