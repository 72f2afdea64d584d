//! The pretraining clip loader: sources, frame sampling, augmentation and
//! parallel decoding (shared with fine-tuning).
//!
//! ```text
//! list | manifest.jsonl | shards | clip folder ─► ClipSource ─► epoch order (seeded)
//!   ─► workers: sample 16 frame ids ─► seek + decode those frames (FFmpeg)
//!        ─► num_sample views: multi-scale crop ─► Pillow-exact bilinear 224 ─► ImageNet norm
//!   ─► Batch (views, T, 3, 224, 224), in order, bounded prefetch, damaged clips skipped and counted
//! ```
//!
//! Every step follows the VideoMAE V2 reference (`HybridVideoMAE`,
//! `GroupMultiScaleCrop`, `multiple_pretrain_samples_collate`); each module
//! says where and how.

mod crop;
mod decode;
mod loader;
mod resize;
mod sampling;
mod source;
mod views;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crop::{CropBox, MultiScaleCrop, fixed_offsets};
pub use decode::{decode_clip_frames, decode_views};
pub use loader::{Batch, Batches, ClipFn, ClipLoader, SKIP_EXAMPLES, SkipReport, epoch_order};
pub use resize::resize_bilinear;
pub use sampling::{clip_indices, clip_indices_from, start_choices};
pub use source::{
    ClipEntry, ClipLocation, ClipSource, VIDEO_EXTENSIONS, index_shards, read_manifest,
    read_pretrain_list, scan_clip_folder,
};
pub use views::{ClipView, IMAGENET_MEAN, IMAGENET_STD, normalised_view, repeated_views};

/// Loader settings. Defaults are VideoMAE V2's pretraining recipe.
///
/// ```
/// use ssl_pretrain::data::LoaderConfig;
/// let c = LoaderConfig::default();
/// assert_eq!((c.num_frames, c.sampling_rate, c.num_sample, c.crop.input_size), (16, 4, 4, 224));
/// assert!(c.validate().is_ok());
/// assert!(LoaderConfig { num_frames: 0, ..c }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoaderConfig {
    /// Frames per clip (16).
    pub num_frames: usize,
    /// Stride between sampled frames (4; 2 for Something-Something-style
    /// data).
    pub sampling_rate: usize,
    /// Multi-scale crop and output size.
    pub crop: MultiScaleCrop,
    /// Views per decoded clip (the reference's `num_sample`, 4).
    pub num_sample: usize,
    /// Clips per batch (each gives `num_sample` views).
    pub batch_size: usize,
    /// Decoding threads.
    pub workers: usize,
    /// Clips decoded ahead of the consumer at most (bounds memory).
    pub prefetch: usize,
    /// FFmpeg threads per decoder (1: the workers are the parallelism, as
    /// the reference's `num_threads=1`).
    pub decoder_threads: usize,
    /// Seed of the epoch order and of every clip's frame and crop draws.
    pub seed: u64,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            num_frames: 16,
            sampling_rate: 4,
            crop: MultiScaleCrop::default(),
            num_sample: 4,
            batch_size: 32,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            prefetch: 64,
            decoder_threads: 1,
            seed: 0,
        }
    }
}

impl LoaderConfig {
    /// Ok when every setting can work; otherwise the first problem.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |reason: &str| Err(DataError::Config(reason.to_string()));
        if self.num_frames == 0 || self.sampling_rate == 0 {
            return bad("num_frames and sampling_rate must be at least 1");
        }
        if self.num_sample == 0 || self.batch_size == 0 {
            return bad("num_sample and batch_size must be at least 1");
        }
        if self.crop.input_size == 0 || self.crop.scales.is_empty() {
            return bad("crop.input_size must be at least 1 and crop.scales not empty");
        }
        if self.crop.scales.iter().any(|s| !(*s > 0.0 && *s <= 1.0)) {
            return bad("crop.scales must lie in (0, 1]");
        }
        if self.workers == 0 || self.workers > 1024 {
            return bad("workers must be between 1 and 1024");
        }
        Ok(())
    }
}

/// A source or setting that cannot be used.
///
/// ```
/// use ssl_pretrain::data::{DataError, read_pretrain_list};
/// let err = read_pretrain_list("no/such/list.txt".as_ref(), None).unwrap_err();
/// assert!(matches!(err, DataError::Read { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A list, manifest, folder or shard could not be read.
    #[error("{}: {reason}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A line of a list or manifest is malformed.
    #[error("{}:{line}: {reason}", path.display())]
    ListLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A source names no clip.
    #[error("{}: no clips found", path.display())]
    NoClips {
        /// The source.
        path: PathBuf,
    },
    /// A loader setting is invalid.
    #[error("invalid loader config: {0}")]
    Config(String),
}

/// Why one clip was skipped (the run goes on).
///
/// ```
/// use ssl_pretrain::data::{ClipEntry, ClipFailure, ClipLocation, LoaderConfig, decode_clip_frames};
/// use videomae::masking::MaskRng;
/// let entry = ClipEntry { id: "gone".into(), location: ClipLocation::File("no/such/clip.mp4".into()) };
/// let err = decode_clip_frames(&entry, &LoaderConfig::default(), &mut MaskRng::seed(0)).unwrap_err();
/// assert!(matches!(err, ClipFailure::Video(_)));
/// assert_eq!(err.reason(), "io");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ClipFailure {
    /// The video could not be opened or decoded.
    #[error(transparent)]
    Video(#[from] frame_select::video::VideoError),
    /// Neither the container nor its duration gives a frame count.
    #[error("frame count unknown")]
    NoFrameCount,
    /// The video has no frame.
    #[error("no frames")]
    NoFrames,
    /// The stream ended before a frame the clip needs.
    #[error("ended after frame {last} of {announced}, frame {wanted} needed")]
    EndedEarly {
        /// Last frame decoded.
        last: u64,
        /// Frames the container announced.
        announced: u64,
        /// Frame the clip needed.
        wanted: u64,
    },
}

impl ClipFailure {
    /// A short reason for reports (`not_media`, `broken`, `ended_early`, ...).
    ///
    /// ```
    /// use ssl_pretrain::data::ClipFailure;
    /// assert_eq!(ClipFailure::NoFrameCount.reason(), "no_frame_count");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            ClipFailure::Video(e) => e.kind(),
            ClipFailure::NoFrameCount => "no_frame_count",
            ClipFailure::NoFrames => "no_frames",
            ClipFailure::EndedEarly { .. } => "ended_early",
        }
    }
}
