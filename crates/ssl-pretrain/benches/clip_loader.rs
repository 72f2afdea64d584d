//! Clip-loader throughput: 16 frames at stride 4, 4 multi-scale views of
//! 224x224 per decoded clip, through `ClipLoader` with one worker per core
//! (the pretraining recipe's data path). `tools/bench_loader.sh` prepares
//! the clips (Kinetics-like: short side 256, 10 s, H.264) and runs the
//! Python peer (PyAV + Pillow + NumPy doing the same work) on the same list;
//! docs/BENCHMARKS.md has the figures.
//!
//! `TUBELET_BENCH_LIST=target/tmp/loader_clips/list.txt cargo bench -p ssl-pretrain --bench clip_loader`

use std::sync::{Arc, Mutex};

// Clips are large buffers (a 16x224 view is 9.6 MB): with glibc's malloc
// every one is a fresh mmap, and page faults took a third of the views'
// time. mimalloc reuses the memory. (Binaries choose the allocator; the
// library does not.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ssl_pretrain::data::{
    ClipLoader, LoaderConfig, SkipReport, decode_clip_frames, read_pretrain_list, repeated_views,
};
use videomae::masking::MaskRng;

fn bench(c: &mut Criterion) {
    let list = std::env::var("TUBELET_BENCH_LIST")
        .unwrap_or_else(|_| "target/tmp/loader_clips/list.txt".into());
    let Ok(clips) = read_pretrain_list(list.as_ref(), None) else {
        eprintln!("no clip list at {list}: run tools/bench_loader.sh");
        return;
    };
    let n = clips.len();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = LoaderConfig {
        batch_size: 1,
        workers,
        prefetch: 2 * workers,
        ..LoaderConfig::default()
    };
    // Where a clip's time goes, on one thread: decoding its 16 frames, and
    // cutting 4 views of them.
    let first = clips[0].clone();
    let mut group = c.benchmark_group("clip_parts");
    group.sample_size(20);
    let mut seed = 0;
    group.bench_function("decode_16_frames_1thread", |b| {
        b.iter(|| {
            seed += 1;
            decode_clip_frames(&first, &config, &mut MaskRng::seed(seed)).expect("decodes")
        })
    });
    let frames = decode_clip_frames(&first, &config, &mut MaskRng::seed(0)).expect("decodes");
    group.bench_function("views_4x16x224", |b| {
        b.iter(|| {
            seed += 1;
            repeated_views(&frames, &config.crop, 4, &mut MaskRng::seed(seed))
        })
    });
    group.finish();
    let loader = ClipLoader::new(Arc::new(clips), config).expect("a valid config");
    let mut group = c.benchmark_group("clip_loader");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    let mut epoch = 0;
    group.bench_function(format!("16x224_4views_{workers}workers"), |b| {
        b.iter(|| {
            epoch += 1;
            let report = Arc::new(Mutex::new(SkipReport::default()));
            let batches = loader.epoch(epoch, 0, report.clone()).count();
            assert_eq!(batches, n, "{:?}", report.lock().map(|r| r.clone()));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
