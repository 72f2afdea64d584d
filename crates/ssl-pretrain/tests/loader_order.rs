//! The loader's order and contents are a pure function of (seed, epoch,
//! dataset): whatever the worker count and prefetch depth, the same batches
//! come out; failed clips are skipped, counted and replaced; a run resumed
//! from a batch's `next_position` continues with the same batches.
//! A synthetic clip function stands in for FFmpeg (the clip's "pixels"
//! encode its index and its random draws), so these tests need no video.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use ssl_pretrain::data::{
    ClipEntry, ClipFailure, ClipFn, ClipLoader, ClipLocation, ClipView, CropBox, LoaderConfig,
    SkipReport,
};

fn entries(n: usize) -> Vec<ClipEntry> {
    (0..n)
        .map(|i| ClipEntry {
            id: format!("clip{i}"),
            location: ClipLocation::File(format!("clip{i}.mp4").into()),
        })
        .collect()
}

/// One view per `num_sample` whose single value is the clip index plus a
/// draw from the clip's generator; ids ending in 7 fail.
fn synthetic() -> Arc<ClipFn> {
    Arc::new(|entry: &ClipEntry, config: &LoaderConfig, rng| {
        let index: f32 = entry.id[4..].parse().unwrap();
        if entry.id.ends_with('7') {
            return Err(ClipFailure::NoFrames);
        }
        // Uneven work, so workers finish out of order.
        std::thread::sleep(std::time::Duration::from_micros((index as u64 * 37) % 300));
        Ok((0..config.num_sample)
            .map(|_| ClipView {
                pixels: vec![index * 1000.0 + rng.below(1000) as f32],
                crop: CropBox {
                    x: 0,
                    y: 0,
                    w: 1,
                    h: 1,
                },
            })
            .collect())
    })
}

fn config(workers: usize, prefetch: usize) -> LoaderConfig {
    LoaderConfig {
        batch_size: 3,
        num_sample: 2,
        num_frames: 1,
        workers,
        prefetch,
        seed: 11,
        crop: ssl_pretrain::data::MultiScaleCrop {
            input_size: 1,
            ..Default::default()
        },
        ..LoaderConfig::default()
    }
}

/// A batch reduced to what the tests compare: ids, pixels, next position.
type Seen = (Vec<String>, Vec<f32>, usize);

fn run(
    n: usize,
    workers: usize,
    prefetch: usize,
    epoch: u64,
    start: usize,
) -> (Vec<Seen>, SkipReport) {
    let loader = ClipLoader::with_fn(Arc::new(entries(n)), config(workers, prefetch), synthetic());
    let report = Arc::new(Mutex::new(SkipReport::default()));
    let batches = loader
        .epoch(epoch, start, report.clone())
        .map(|b| {
            assert_eq!(b.dims, [6, 1, 3, 1, 1]);
            (b.ids, b.pixels, b.next_position)
        })
        .collect();
    let report = report.lock().unwrap().clone();
    (batches, report)
}

#[test]
fn failed_clips_are_skipped_counted_and_replaced() {
    let (batches, report) = run(40, 3, 8, 0, 0);
    // 40 clips, 4 fail (7, 17, 27, 37): 36 load, 12 full batches.
    assert_eq!(batches.len(), 12);
    assert_eq!(report.loaded, 36);
    assert_eq!(report.skipped["no_frames"], 4);
    assert_eq!(report.examples["no_frames"].len(), 4);
    for (ids, pixels, _) in &batches {
        assert_eq!(ids.len(), 3);
        assert!(ids.iter().all(|id| !id.ends_with('7')));
        // Views of one clip sit together (video-major), from its index.
        for (k, id) in ids.iter().enumerate() {
            let index: f32 = id[4..].parse().unwrap();
            for v in &pixels[k * 2..k * 2 + 2] {
                assert_eq!((v / 1000.0).floor(), index);
            }
        }
    }
    // Every clip that loads appears once.
    let mut seen: Vec<String> = batches.iter().flat_map(|b| b.0.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 36);
}

#[test]
fn epochs_differ_and_an_incomplete_last_batch_is_dropped() {
    let (a, _) = run(20, 2, 4, 0, 0);
    let (b, _) = run(20, 2, 4, 1, 0);
    assert_ne!(a, b);
    // 20 clips, 2 fail: 18 load = 6 batches exactly; with 19 clips (1 fails
    // or 2) the remainder is dropped.
    assert_eq!(a.len(), 6);
    let (c, report) = run(19, 2, 4, 0, 0);
    assert_eq!(c.len(), report.loaded as usize / 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn batches_do_not_depend_on_workers_or_prefetch(
        n in 4usize..60,
        workers in 1usize..6,
        prefetch in 1usize..20,
        epoch in 0u64..3,
    ) {
        let (want, want_report) = run(n, 1, 1, epoch, 0);
        let (got, got_report) = run(n, workers, prefetch, epoch, 0);
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(got_report, want_report);
        // Resuming after any batch gives the rest unchanged.
        if want.len() > 1 {
            let cut = want.len() / 2;
            let (rest, _) = run(n, workers, prefetch, epoch, want[cut - 1].2);
            prop_assert_eq!(&rest[..], &want[cut..]);
        }
    }
}

/// Dropping an epoch's batches stops the workers after their current clip:
/// clips already queued (up to `prefetch`) are not decoded for nothing.
#[test]
fn dropped_batches_decode_no_queued_clips() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let load: Arc<ClipFn> = Arc::new(move |_: &ClipEntry, config: &LoaderConfig, _: &mut _| {
        counted.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        Ok(vec![
            ClipView {
                pixels: vec![0.0],
                crop: CropBox {
                    x: 0,
                    y: 0,
                    w: 1,
                    h: 1
                },
            };
            config.num_sample
        ])
    });
    let loader = ClipLoader::with_fn(Arc::new(entries(100)), config(1, 30), load);
    let report = Arc::new(Mutex::new(SkipReport::default()));
    let mut batches = loader.epoch(0, 0, report);
    assert!(batches.next().is_some());
    drop(batches);
    // One batch of 3, plus the clip the single worker was decoding.
    let n = calls.load(Ordering::SeqCst);
    assert!(n <= 4, "{n} clips decoded for a batch of 3");
}
