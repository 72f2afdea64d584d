//! The adaptive loop between crawl rounds, one command per step:
//!
//! ```text
//! cargo run -p hashtag-select --example hashtag_loop -- init --groups out/groups.json --state loop.json --seed 7
//! cargo run -p hashtag-select --example hashtag_loop -- plan --state loop.json --budget 10000 --out plan.json
//! #   crawl the tags in plan.json, run `curate` (manifest.jsonl) and `select` (selections.jsonl), then
//! cargo run -p hashtag-select --example hashtag_loop -- observe --state loop.json --plan plan.json \
//!     --crawled crawl/ --manifest curated/manifest.jsonl --selections selected/selections.jsonl
//! cargo run -p hashtag-select --example hashtag_loop -- status --state loop.json
//! ```
//!
//! `observe` closes a tag that returned fewer posts than planned; one that
//! returned none stays open unless named with `--exhausted TAG`.
//! Each plan is observed once: a second `observe` of it would count its
//! crawl twice and is refused (exit 1); `plan` the next round first.
//! The state file is read and replaced (atomically) by `plan` and
//! `observe`; every input is checked first, so a missing or bad input
//! (named with its line) leaves every file as it was (exit 1).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hashtag_select::adaptive::rounds::{init_state, observe_round, plan_round, tag_counts};
use hashtag_select::adaptive::{Event, GroupStatus};
use hashtag_select::{AdaptiveConfig, AdaptiveLoop, HashtagError};

/// Run the adaptive hashtag loop between crawl rounds.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a loop from a groups.json written by the `hashtags` example.
    Init {
        /// groups.json of the one-shot selection.
        #[arg(long)]
        groups: PathBuf,
        /// The loop state to create.
        #[arg(long)]
        state: PathBuf,
        /// Platform tag views (CSV `tag,views` or JSON) for the promotion gate.
        #[arg(long)]
        views: Option<PathBuf>,
        /// Loop knobs (JSON; any subset of the AdaptiveConfig fields).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seed of the sampling stream (overrides --config).
        #[arg(long)]
        seed: Option<u64>,
        /// Kept clips each group should reach (overrides --config).
        #[arg(long)]
        target_clips: Option<u64>,
        /// Replace an existing state (its progress is lost).
        #[arg(long)]
        force: bool,
    },
    /// Plan the next round: which tags to crawl and how many posts each.
    Plan {
        /// The loop state (read and replaced).
        #[arg(long)]
        state: PathBuf,
        /// Posts the round may crawl.
        #[arg(long)]
        budget: u64,
        /// Write the plan here (JSON; `observe` needs it).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Feed a crawled round's outcomes to the loop.
    Observe {
        /// The loop state (read and replaced).
        #[arg(long)]
        state: PathBuf,
        /// The plan `plan --out` wrote for this round.
        #[arg(long)]
        plan: PathBuf,
        /// Crawled post metadata: folders or files (info.json, jsonl, csv).
        #[arg(long, required = true)]
        crawled: Vec<PathBuf>,
        /// curation-core's manifest.jsonl (posts that passed the filters).
        #[arg(long)]
        manifest: PathBuf,
        /// frame-select's selections.jsonl (clips kept); without it every
        /// passing post counts as one clip.
        #[arg(long)]
        selections: Option<PathBuf>,
        /// A planned tag the platform had no posts for (repeatable): it is
        /// closed. Other tags without crawled posts are left open.
        #[arg(long)]
        exhausted: Vec<String>,
    },
    /// Print where the loop stands.
    Status {
        /// The loop state.
        #[arg(long)]
        state: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Args::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The default configuration with the fields of a JSON file over it.
fn read_config(path: &PathBuf) -> Result<AdaptiveConfig, HashtagError> {
    let malformed = |line: Option<u64>, message: String| HashtagError::Malformed {
        path: path.clone(),
        line,
        message,
    };
    if !path.exists() {
        return Err(HashtagError::MissingInput {
            what: "--config".into(),
            path: path.clone(),
        });
    }
    // Capped: a knobs file is a few hundred bytes, and `/dev/zero` given
    // by mistake must not be read until memory runs out.
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
        .map_err(|source| HashtagError::Io {
            path: path.clone(),
            source,
        })?;
    let over: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| malformed(Some(e.line() as u64).filter(|&l| l > 0), e.to_string()))?;
    let serde_json::Value::Object(over) = over else {
        return Err(malformed(
            None,
            "expected a JSON object of loop knobs".into(),
        ));
    };
    let mut base = serde_json::to_value(AdaptiveConfig::default()).expect("plain data");
    let fields = base.as_object_mut().expect("a struct");
    for (k, v) in over {
        if !fields.contains_key(&k) {
            return Err(malformed(None, format!("unknown knob {k:?}")));
        }
        fields.insert(k, v);
    }
    let config: AdaptiveConfig =
        serde_json::from_value(base).map_err(|e| malformed(None, e.to_string()))?;
    // Checked here too, so a bad knob names the file it came from.
    config
        .validate()
        .map_err(|e| malformed(None, e.to_string()))?;
    Ok(config)
}

fn run(command: Command) -> Result<(), HashtagError> {
    match command {
        Command::Init {
            groups,
            state,
            views,
            config,
            seed,
            target_clips,
            force,
        } => {
            // The state may not replace the knobs file it is made from.
            if let Some(p) = &config
                && let (Ok(a), Ok(b)) = (p.canonicalize(), state.canonicalize())
                && a == b
            {
                return Err(HashtagError::OutputCollision {
                    output: state,
                    what: "the --config input".into(),
                    input: p.clone(),
                });
            }
            let mut c = match &config {
                Some(p) => read_config(p)?,
                None => AdaptiveConfig::default(),
            };
            c.seed = seed.unwrap_or(c.seed);
            c.target_clips = target_clips.unwrap_or(c.target_clips);
            let l = init_state(&groups, views.as_deref(), &state, c, force)?;
            println!(
                "started a loop of {} groups, {} tags (seed {}, target {} clips per group); wrote {}",
                l.groups().len(),
                l.tags().len(),
                l.config().seed,
                l.config().target_clips,
                state.display()
            );
            print_status(&l);
        }
        Command::Plan { state, budget, out } => {
            let (_, plan) = plan_round(&state, budget, out.as_deref())?;
            let spent: u64 = plan.requests.iter().map(|r| r.posts).sum();
            println!(
                "round {}: {} requests, {spent} of {budget} posts",
                plan.round,
                plan.requests.len()
            );
            for r in &plan.requests {
                println!(
                    "  #{:<24} posts {:>6}  yield {:.3} (upper {:.3}, {} crawled)  group {} {}",
                    r.tag, r.posts, r.yield_mean, r.yield_upper, r.crawled, r.group, r.group_name
                );
            }
            match &out {
                Some(o) => println!("wrote {} and {}", o.display(), state.display()),
                None => println!(
                    "wrote {} (no --out: this plan cannot be observed)",
                    state.display()
                ),
            }
        }
        Command::Observe {
            state,
            plan,
            crawled,
            manifest,
            selections,
            exhausted,
        } => {
            let (l, report) = observe_round(
                &state,
                &plan,
                &crawled,
                &manifest,
                selections.as_deref(),
                &exhausted,
            )?;
            for o in &report.observations {
                println!(
                    "  #{:<24} crawled {:>6}  passed {:>6}  clips {:>6}{}",
                    o.tag,
                    o.crawled,
                    o.passed_filters,
                    o.accepted_clips,
                    if o.exhausted { "  (exhausted)" } else { "" }
                );
            }
            if !report.not_crawled.is_empty() {
                println!(
                    "  no crawled posts (left open; --exhausted closes them): {}",
                    report.not_crawled.join(", ")
                );
            }
            if report.unmatched_records + report.duplicate_records > 0 {
                println!(
                    "  not counted: {} records without a planned tag, {} repeated ids",
                    report.unmatched_records, report.duplicate_records
                );
            }
            for e in &report.events {
                println!("  {}", describe(&l, e));
            }
            print_status(&l);
            println!("wrote {}", state.display());
        }
        Command::Status { state } => {
            if !state.exists() {
                return Err(HashtagError::MissingInput {
                    what: "--state".into(),
                    path: state,
                });
            }
            let l = AdaptiveLoop::load(&state)?;
            print_status(&l);
            let selected = l.selected_tags();
            println!("selected tags ({}): {:?}", selected.len(), selected);
        }
    }
    Ok(())
}

fn describe(l: &AdaptiveLoop, e: &Event) -> String {
    let name = |g: usize| l.groups()[g].name.as_str();
    match e {
        Event::Dropped { tag, reason, .. } => format!("dropped #{tag} ({reason:?})"),
        Event::Promoted {
            tag, group, share, ..
        } => format!(
            "promoted #{tag} into {} ({:.0}% of its sightings)",
            name(*group),
            share * 100.0
        ),
        Event::Merged {
            kept,
            merged,
            overlap,
            ..
        } => format!(
            "merged {} into {} (overlap {overlap:.2})",
            name(*merged),
            name(*kept)
        ),
        Event::GroupDone { group, status, .. } => {
            format!("group {} done: {status:?}", name(*group))
        }
    }
}

fn print_status(l: &AdaptiveLoop) {
    let target = l.config().target_clips;
    println!(
        "round {}, {}",
        l.round(),
        if l.is_finished() {
            "finished"
        } else {
            "collecting"
        }
    );
    for g in l.groups() {
        let (cand, active, exhausted, dropped) = tag_counts(l, g.id);
        let status = match g.status {
            GroupStatus::MergedInto(h) => format!("merged into {}", l.groups()[h].name),
            s => format!("{s:?}"),
        };
        println!(
            "  {:>3} {:<24} clips {:>6}/{target} ({:>5.1}%)  crawled {:>7}  tags: {cand} new, {active} active, {exhausted} exhausted, {dropped} dropped  {status}",
            g.id,
            g.name,
            g.clips,
            100.0 * g.clips.min(target) as f64 / target as f64,
            g.crawled,
        );
    }
}
