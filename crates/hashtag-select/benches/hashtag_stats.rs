//! Streaming tag statistics (counts + focus co-occurrence) over synthetic
//! Zipf posts. The 10-million-post figure with peak memory comes from the
//! `hashtag_stats` example (one run, /proc peak RSS); this bench times 1M.
//!
//! ```text
//! cargo bench -p hashtag-select --bench hashtag_stats
//! ```

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hashtag_select::simulate::SyntheticPosts;
use hashtag_select::{StatsConfig, TagStats};

fn stats_1m(c: &mut Criterion) {
    let focus: Vec<String> = (0..2000)
        .map(|i| SyntheticPosts::tag_name(i * 50))
        .collect();
    let mut g = c.benchmark_group("tag_stats");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("1M posts, 1M-tag Zipf vocabulary, 2000 focus tags", |b| {
        b.iter(|| {
            let mut posts = SyntheticPosts::new(1_000_000, 1_000_000, 1.0, 7);
            let mut stats = TagStats::new(StatsConfig::default(), &focus);
            while let Some((tags, views)) = posts.next_post() {
                stats.add_post(tags, Some(views));
            }
            stats.posts()
        })
    });
    g.finish();
}

criterion_group!(benches, stats_1m);
criterion_main!(benches);
