//! Throughput of the frame-selection stage on a shared real video
//! (`../shared/data/videos/vtest.avi`, 795 frames of 768x576) and of its
//! per-frame kernels. Peers (PySceneDetect, `ffmpeg -f null`) are timed in
//! the same run by `tools/bench_frame_select.sh`; see docs/BENCHMARKS.md.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frame_select::scene::hsv::HsvPlanes;
use frame_select::scene::resize::LinearResizer;
use frame_select::scene::{ContentConfig, DetectorConfig, detect_scenes};
use frame_select::select::SelectionConfig;
use frame_select::select::analyze::analyze_video;
use ndarray::Array3;

fn video() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/videos/vtest.avi");
    p.exists().then_some(p)
}

fn kernels(c: &mut Criterion) {
    let frame = Array3::from_shape_fn((576, 768, 3), |(y, x, ch)| {
        ((x * 7 + y * 3 + ch * 50) % 256) as u8
    });
    let resizer = LinearResizer::new(768, 576, 256, 192);
    let small = resizer.resize(frame.view());
    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Elements(1));
    g.bench_function("resize_768x576_to_256x192", |b| {
        b.iter(|| resizer.resize(frame.view()))
    });
    g.bench_function("hsv_256x192", |b| {
        b.iter(|| HsvPlanes::from_rgb(small.view()))
    });
    g.finish();
}

fn whole_video(c: &mut Criterion) {
    let Some(path) = video() else {
        eprintln!("skipping: ../shared/data/videos/vtest.avi not found");
        return;
    };
    let mut g = c.benchmark_group("vtest_795_frames");
    g.sample_size(10);
    g.throughput(Throughput::Elements(795));
    let config = DetectorConfig::Content(ContentConfig::default());
    g.bench_function("decode_and_content_detection", |b| {
        b.iter(|| detect_scenes(&path, &config).unwrap())
    });
    let sel = SelectionConfig::default();
    g.bench_function("decode_once_analysis", |b| {
        b.iter(|| analyze_video(&path, &sel, 0).unwrap())
    });
    g.finish();
}

fn detectors(c: &mut Criterion) {
    use frame_select::detect::PersonDetector;
    use frame_select::detect::hog::HogPeopleDetector;
    #[cfg(feature = "yolo")]
    use frame_select::detect::yolo::{YoloConfig, YoloPersonDetector};
    let Some(path) = video() else { return };
    let frame = frame_select::video::sample_frames(&path, &[0], &Default::default())
        .unwrap()
        .remove(0);
    let mut g = c.benchmark_group("person_detectors_768x576");
    g.sample_size(10);
    let hog = HogPeopleDetector::default();
    g.bench_function("hog_opencv_defaults", |b| {
        b.iter(|| hog.detect(frame.rgb.view()).unwrap())
    });
    // Random weights run as fast as trained ones.
    #[cfg(feature = "yolo")]
    {
        let weights = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/yolov8/yolov8n_random.safetensors");
        let yolo = YoloPersonDetector::load(&weights, YoloConfig::default()).unwrap();
        g.bench_function("yolov8n_640_flex", |b| {
            b.iter(|| yolo.detect(frame.rgb.view()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, kernels, whole_video, detectors);
criterion_main!(benches);
