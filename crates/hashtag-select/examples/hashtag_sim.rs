//! Adaptive loop vs one-shot static selection on the synthetic platform
//! (`hashtag_select::simulate`), over several seeds and crawl budgets.
//! Prints the markdown table in docs/HASHTAG-SELECT.md.
//!
//! ```text
//! cargo run --release -p hashtag-select --example hashtag_sim -- --seeds 1,2,3,4,5 --budgets 20000,50000,100000
//! ```

use clap::Parser;
use hashtag_select::simulate::{Method, PlatformConfig, SimResult, run};
use hashtag_select::{AdaptiveConfig, HashtagError};

/// Compare the adaptive loop with static selection on a synthetic platform.
#[derive(Parser)]
struct Args {
    /// Platform seeds.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    seeds: Vec<u64>,
    /// Crawl budgets (posts).
    #[arg(long, value_delimiter = ',', default_value = "20000,50000,100000")]
    budgets: Vec<u64>,
    /// Clip target per group.
    #[arg(long, default_value_t = 400)]
    target: u64,
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (
        m,
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt(),
    )
}

fn main() -> std::process::ExitCode {
    match run_all(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_all(args: Args) -> Result<(), HashtagError> {
    if args.seeds.is_empty() || args.budgets.is_empty() {
        return Err(HashtagError::Config(
            "--seeds and --budgets need at least one value each".into(),
        ));
    }
    let platform = PlatformConfig::default();
    if args.target == 0 {
        return Err(HashtagError::Config(
            "--target 0: must be at least 1".into(),
        ));
    }
    println!(
        "platform: {} topics, <= {} synonyms and <= {} styles each, {:.0}% decoy-preferred, {} spam, {} off-topic tags, Zipf {}, clip target {} per group",
        platform.topics,
        platform.max_synonyms,
        platform.max_styles,
        platform.decoy_share * 100.0,
        platform.spam_tags,
        platform.off_topic_tags,
        platform.zipf,
        args.target
    );
    println!();
    println!(
        "| budget (posts) | method | tag precision | tag recall | posts crawled | clips | clips / 1k posts | groups at target |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for &budget in &args.budgets {
        for method in [Method::Static, Method::Adaptive] {
            let runs = args
                .seeds
                .iter()
                .map(|&seed| {
                    let p = PlatformConfig {
                        seed,
                        ..platform.clone()
                    };
                    let a = AdaptiveConfig {
                        seed,
                        target_clips: args.target,
                        ..AdaptiveConfig::default()
                    };
                    run(&p, method, budget, &a)
                })
                .collect::<Result<Vec<SimResult>, _>>()?;
            let col =
                |f: &dyn Fn(&SimResult) -> f64| mean_sd(&runs.iter().map(f).collect::<Vec<_>>());
            let (p, ps) = col(&|r| r.precision);
            let (r, rs) = col(&|r| r.recall);
            let (c, cs) = col(&|r| r.clips as f64);
            let (n, _) = col(&|r| r.crawled as f64);
            let (k, _) = col(&|r| r.clips as f64 * 1000.0 / r.crawled.max(1) as f64);
            let (g, _) = col(&|r| r.groups_at_target as f64);
            let groups = runs[0].groups;
            println!(
                "| {budget} | {method:?} | {p:.2} ± {ps:.2} | {r:.2} ± {rs:.2} | {n:.0} | {c:.0} ± {cs:.0} | {k:.0} | {g:.1} / {groups} |"
            );
        }
    }
    println!();
    println!("mean ± sd over seeds {:?}", args.seeds);
    Ok(())
}
