//! Time and peak memory of the streaming statistics over N synthetic posts
//! (default 10 million), with memory checked at 10% and 100% of the stream:
//! it must not grow with the posts once the counters are full.
//!
//! ```text
//! cargo run --release -p hashtag-select --example hashtag_stats -- --posts 10000000
//! # the same posts as a text file (`views<TAB>tag tag ...`), for a peer:
//! cargo run --release -p hashtag-select --example hashtag_stats -- --posts 1000000 --dump posts.tsv
//! cargo run --release -p hashtag-select --example hashtag_stats -- --input posts.tsv
//! ```

use std::time::Instant;

use clap::Parser;
use hashtag_select::simulate::SyntheticPosts;
use hashtag_select::{StatsConfig, TagStats};

/// Streaming tag statistics benchmark.
#[derive(Parser)]
struct Args {
    /// Posts.
    #[arg(long, default_value_t = 10_000_000)]
    posts: u64,
    /// Distinct tags in the synthetic vocabulary.
    #[arg(long, default_value_t = 1_000_000)]
    vocabulary: usize,
    /// Zipf exponent.
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// Focus tags (co-occurrence tracked): every 50th rank.
    #[arg(long, default_value_t = 2000)]
    focus: usize,
    /// Tag counters.
    #[arg(long, default_value_t = StatsConfig::default().max_tags)]
    max_tags: usize,
    /// Write the generated posts to this file and exit.
    #[arg(long)]
    dump: Option<std::path::PathBuf>,
    /// Read posts from a file written by --dump instead of generating them
    /// (the time then includes reading and splitting lines).
    #[arg(long)]
    input: Option<std::path::PathBuf>,
}

/// Focus tags (every 50th rank) and summary sizes.
fn setup(a: &Args) -> (Vec<String>, StatsConfig) {
    let focus = (0..a.focus)
        .map(|i| SyntheticPosts::tag_name(i * 50))
        .collect();
    let config = StatsConfig {
        max_tags: a.max_tags,
        ..StatsConfig::default()
    };
    (focus, config)
}

fn dump(a: &Args, path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut posts = SyntheticPosts::new(a.posts, a.vocabulary, a.zipf, 7);
    while let Some((tags, views)) = posts.next_post() {
        writeln!(out, "{views}\t{}", tags.join(" "))?;
    }
    out.flush()
}

fn from_file(a: &Args, path: &std::path::Path) -> std::io::Result<()> {
    use std::io::BufRead;
    let (focus, config) = setup(a);
    let start = Instant::now();
    let mut stats = TagStats::new(config, &focus);
    let mut line = String::new();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    while reader.read_line(&mut line)? > 0 {
        let (views, tags) = line.trim_end().split_once('\t').unwrap_or(("0", ""));
        stats.add_post(
            tags.split(' ').filter(|t| !t.is_empty()),
            views.parse().ok(),
        );
        line.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    let top = stats.top(3);
    println!(
        "rust: {} posts from {} in {secs:.2} s ({:.2} M posts/s), peak RSS {:.1} MB; top {:?}; tag0 neighbours {:?}",
        stats.posts(),
        path.display(),
        stats.posts() as f64 / secs / 1e6,
        rss_kb().0 as f64 / 1e3,
        top.iter().map(|t| (&t.tag, t.posts)).collect::<Vec<_>>(),
        stats
            .neighbours("tag0", 3)
            .unwrap_or_default()
            .iter()
            .map(|n| (&n.tag, n.posts))
            .collect::<Vec<_>>()
    );
    Ok(())
}

/// Peak and current resident set (kB) from /proc (Linux only).
fn rss_kb() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The options' ranges: a NaN or negative exponent or zero posts would give
/// meaningless figures rather than an error.
fn check(a: &Args) -> Result<(), String> {
    if !(0.0..=10.0).contains(&a.zipf) {
        return Err(format!("--zipf {}: must lie in [0, 10]", a.zipf));
    }
    if a.posts == 0 && a.input.is_none() {
        return Err("--posts 0: must be at least 1".into());
    }
    if a.vocabulary == 0 {
        return Err("--vocabulary 0: must be at least 1".into());
    }
    if a.focus > a.vocabulary {
        return Err(format!(
            "--focus {}: at most --vocabulary ({}) focus tags",
            a.focus, a.vocabulary
        ));
    }
    StatsConfig {
        max_tags: a.max_tags,
        ..StatsConfig::default()
    }
    .validate()
    .map_err(|e| format!("--max-tags: {e}"))
}

fn main() -> std::io::Result<()> {
    let a = Args::parse();
    if let Err(e) = check(&a) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    if let Some(p) = &a.dump {
        return dump(&a, p);
    }
    if let Some(p) = &a.input {
        return from_file(&a, p);
    }
    let (focus, config) = setup(&a);
    // The generator alone, to subtract its share of the time.
    let mut gen_only = SyntheticPosts::new(a.posts, a.vocabulary, a.zipf, 7);
    let start = Instant::now();
    let mut checksum = 0u64;
    while let Some((tags, views)) = gen_only.next_post() {
        checksum = checksum.wrapping_add(tags.len() as u64 + views);
    }
    let gen_secs = start.elapsed().as_secs_f64();
    drop(gen_only);
    let mut posts = SyntheticPosts::new(a.posts, a.vocabulary, a.zipf, 7);
    let (_, rss_before) = rss_kb();
    let mut stats = TagStats::new(config, &focus);
    let start = Instant::now();
    let mut occurrences = 0u64;
    let mut at_tenth = None;
    while let Some((tags, views)) = posts.next_post() {
        occurrences += tags.len() as u64;
        stats.add_post(tags, Some(views));
        if stats.posts() == a.posts / 10 {
            at_tenth = Some((stats.heap_bytes(), rss_kb().1));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let (peak, rss_after) = rss_kb();
    println!(
        "{} posts ({} tag occurrences), vocabulary {} (Zipf {}), {} focus tags, {} tag counters x {} neighbour slots",
        a.posts,
        occurrences,
        a.vocabulary,
        a.zipf,
        a.focus,
        config.max_tags,
        config.neighbour_slots
    );
    println!(
        "time {secs:.1} s with the generator; generator alone {gen_secs:.1} s (checksum {checksum}); statistics {:.1} s ({:.2} M posts/s)",
        secs - gen_secs,
        a.posts as f64 / (secs - gen_secs) / 1e6
    );
    if let Some((heap, rss)) = at_tenth {
        println!(
            "at 10% of posts: summaries {:.1} MB, process RSS {:.1} MB",
            heap as f64 / 1e6,
            rss as f64 / 1e3
        );
    }
    println!(
        "at 100%: summaries {:.1} MB, process RSS {:.1} MB (peak {:.1} MB; {:.1} MB before the stats existed)",
        stats.heap_bytes() as f64 / 1e6,
        rss_after as f64 / 1e3,
        peak as f64 / 1e3,
        rss_before as f64 / 1e3
    );
    let top = stats.top(3);
    let worst = stats.untracked_bound();
    println!(
        "top tags {:?}; an untracked tag has at most {} posts ({:.4}% of posts)",
        top.iter()
            .map(|t| (&t.tag, t.posts, t.error))
            .collect::<Vec<_>>(),
        worst,
        worst as f64 * 100.0 / a.posts as f64
    );
    Ok(())
}
