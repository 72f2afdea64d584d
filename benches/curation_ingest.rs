//! Ingest + filter throughput on 1M synthetic yt-dlp-style JSONL records.
//!
//! `cargo bench --features synthetic --bench curation_ingest` (see docs/BENCHMARKS.md). The data
//! file is generated once (deterministic, ~330 MB) under Cargo's target tmp
//! dir, or taken from `TUBELET_BENCH_JSONL`; the Python peer
//! (`tools/bench_ingest_peer.py`) reads the same file and the same
//! `benches/bench_filters.toml`.

use std::path::PathBuf;

// As in the curate example: glibc malloc is slow when records allocated on
// rayon workers are freed elsewhere (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tubelet::curation::ingest::{RecordBatches, discover_inputs};
use tubelet::curation::{Filter, FilterConfig, FilterReport};

const RECORDS: u64 = 1_000_000;
const SEED: u64 = 42;

fn data_file() -> PathBuf {
    if let Some(p) = std::env::var_os("TUBELET_BENCH_JSONL") {
        return p.into();
    }
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("synthetic_{RECORDS}_{SEED}.jsonl"));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(&tmp).expect("create bench data"));
        tubelet::curation::synthetic::write_jsonl(&mut out, RECORDS, SEED)
            .expect("write bench data");
        drop(out);
        std::fs::rename(&tmp, &path).expect("rename bench data");
    }
    path
}

fn ingest_filter(c: &mut Criterion) {
    let path = data_file();
    let config_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/bench_filters.toml");
    let config = FilterConfig::from_file(&config_path).expect("bench filters");
    let mut group = c.benchmark_group("curation");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS));
    // The Python peer keeps the same 92,143 records of the generated file.
    let expected = std::env::var_os("TUBELET_BENCH_JSONL")
        .is_none()
        .then_some(92_143);
    let run = |prefilter: bool| {
        let (files, errors) = discover_inputs(&[&path]);
        assert!(errors.is_empty());
        let mut filter = Filter::new(config.clone());
        let mut report = FilterReport::default();
        let mut batches = RecordBatches::new(files);
        if prefilter {
            batches = batches.with_prefilter(filter.rules());
        }
        let mut kept = 0usize;
        for batch in batches {
            assert!(batch.errors.is_empty());
            kept += filter.apply_batch(batch, &mut report).len();
        }
        assert_eq!(report.records_read, RECORDS);
        if let Some(n) = expected {
            assert_eq!(report.kept, n);
        }
        kept
    };
    // What `curate` does: filter on the parsed view, build only kept records.
    group.bench_function("ingest_filter_1m_jsonl", |b| b.iter(|| run(true)));
    // Every record built, then filtered.
    group.bench_function("ingest_all_then_filter_1m_jsonl", |b| b.iter(|| run(false)));
    group.bench_function("ingest_only_1m_jsonl", |b| {
        b.iter(|| {
            let (files, _) = discover_inputs(&[&path]);
            RecordBatches::new(files)
                .map(|b| b.records.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, ingest_filter);
criterion_main!(benches);
