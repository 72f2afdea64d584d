//! Clip decoding against videos whose frames carry their own number: a
//! lossless RGB H.264 file (made with the `ffmpeg` command line, which
//! `scripts/setup.sh` installs) where every pixel of frame `n` is `2n`.
//! The decoded clip must hold exactly the frames the reference's sampling
//! picks, from a file and from the same file inside a WebDataset shard;
//! unreadable clips in a list are skipped and counted, never fatal.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use curation_core::ShardLimits;
use curation_core::shard::{MemberData, ShardWriter};
use ssl_pretrain::data::{
    ClipEntry, ClipLoader, ClipLocation, LoaderConfig, MultiScaleCrop, SkipReport, clip_indices,
    decode_clip_frames, index_shards, read_pretrain_list,
};
use videomae::masking::MaskRng;

/// Writes a `frames`-frame 64x48 video at 25 fps whose frame `n` is the
/// grey level `2n`, losslessly (libx264rgb, qp 0).
fn numbered_video(dir: &Path, name: &str, frames: u32) -> PathBuf {
    let path = dir.join(name);
    let source = "color=c=black:s=64x48:r=25,format=rgb24,geq=r='2*N':g='2*N':b='2*N'";
    common::lavfi_video(
        source,
        frames,
        &["-c:v", "libx264rgb", "-qp", "0", "-g", "12", "-bf", "0"],
        &path,
    );
    path
}

fn config(num_frames: usize, sampling_rate: usize) -> LoaderConfig {
    LoaderConfig {
        num_frames,
        sampling_rate,
        num_sample: 2,
        batch_size: 1,
        workers: 2,
        crop: MultiScaleCrop {
            input_size: 32,
            ..MultiScaleCrop::default()
        },
        ..LoaderConfig::default()
    }
}

fn grey_levels(frames: &[ndarray::Array3<u8>]) -> Vec<u64> {
    frames
        .iter()
        .map(|f| {
            let v = f[[0, 0, 0]];
            assert!(f.iter().all(|&p| p == v), "a frame is not one grey level");
            u64::from(v)
        })
        .collect()
}

#[test]
fn decoded_frames_are_the_frames_the_reference_sampling_picks() {
    let dir = tempfile::tempdir().unwrap();
    let video = numbered_video(dir.path(), "count.mp4", 100);
    let entry = ClipEntry {
        id: "count".into(),
        location: ClipLocation::File(video),
    };
    for (frames, rate) in [(16, 4), (8, 2), (4, 30)] {
        for seed in 0..6 {
            let got = decode_clip_frames(&entry, &config(frames, rate), &mut MaskRng::seed(seed))
                .unwrap();
            let ids = clip_indices(100, frames, rate, &mut MaskRng::seed(seed));
            let want: Vec<u64> = ids.iter().map(|i| 2 * i).collect();
            assert_eq!(grey_levels(&got), want, "{frames}x{rate}, seed {seed}");
            assert_eq!(got[0].dim(), (48, 64, 3));
        }
    }
    // 100 frames at 4 x 30: shorter than the span, so 0, 30, 60, 90, then
    // the reference's rule stops at 90 (90 + 1 + 30 >= 100).
    let got = decode_clip_frames(&entry, &config(5, 30), &mut MaskRng::seed(0)).unwrap();
    assert_eq!(grey_levels(&got), [0, 60, 120, 180, 180]);
}

#[test]
fn a_shard_member_decodes_like_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let video = numbered_video(dir.path(), "count.mp4", 80);
    let shards = dir.path().join("shards");
    let mut writer = ShardWriter::open(&shards, ShardLimits::default()).unwrap();
    writer
        .write(
            "before",
            &[("json", MemberData::Bytes(b"{\"id\":\"x\"}".to_vec()))],
        )
        .unwrap();
    writer
        .write(
            "count",
            &[
                ("json", MemberData::Bytes(b"{}".to_vec())),
                ("mp4", MemberData::File(video.clone())),
            ],
        )
        .unwrap();
    writer.finish().unwrap();
    let (clips, without_video) = index_shards(&shards).unwrap();
    assert_eq!((clips.len(), without_video), (1, 1));
    assert!(matches!(clips[0].location, ClipLocation::Member { .. }));
    let file = ClipEntry {
        id: "count".into(),
        location: ClipLocation::File(video),
    };
    for seed in 0..4 {
        let a = decode_clip_frames(&clips[0], &config(16, 4), &mut MaskRng::seed(seed)).unwrap();
        let b = decode_clip_frames(&file, &config(16, 4), &mut MaskRng::seed(seed)).unwrap();
        assert_eq!(a, b, "seed {seed}");
    }
}

#[test]
fn unreadable_clips_in_a_list_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let good = numbered_video(dir.path(), "good.mp4", 40);
    std::fs::write(dir.path().join("junk.mp4"), b"this is not a video at all").unwrap();
    std::fs::write(dir.path().join("empty.mp4"), b"").unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "{} 0 -1\njunk.mp4 0 -1\nmissing.mp4 0 -1\nempty.mp4 0 -1\n",
            good.display()
        ),
    )
    .unwrap();
    let clips = read_pretrain_list(&list, None).unwrap();
    let loader = ClipLoader::new(Arc::new(clips), config(8, 2)).unwrap();
    let report = Arc::new(Mutex::new(SkipReport::default()));
    let batches: Vec<_> = loader.epoch(0, 0, report.clone()).collect();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].ids.len(), 1);
    assert!(batches[0].ids[0].ends_with("good.mp4"));
    assert_eq!(batches[0].dims, [2, 8, 3, 32, 32]);
    let report = report.lock().unwrap();
    assert_eq!(report.loaded, 1);
    assert_eq!(report.skipped_total(), 3);
    assert_eq!(report.skipped.get("io"), Some(&1), "{report:?}");
    assert_eq!(report.skipped.get("empty"), Some(&1), "{report:?}");
    assert_eq!(report.skipped.get("not_media"), Some(&1), "{report:?}");
}
