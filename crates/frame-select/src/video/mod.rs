//! Video I/O over FFmpeg: probe, sequential decode (optionally downscaled
//! inside FFmpeg's scaler), seek, sampling of given frame indices, and clip
//! writing.
//!
//! This module is the one decoding API of tubelet: frame selection uses it
//! for its single decoding pass and the pretraining loader reuses it for
//! clip sampling (docs/ARCHITECTURE.md says why it lives here rather than in
//! `curation-core`).
//!
//! A damaged file still gives the frames before the damage; what was wrong
//! (frames decoded vs announced by the container, packets skipped, FFmpeg's
//! error messages) is reported as a [`Damage`] by
//! [`VideoReader::damage`], [`FrameStream::damage`] and the scene and
//! selection results, so a truncated file is never mistaken for a short one.
//! Only regular files are opened ([`VideoError::NotAFile`] for FIFOs,
//! devices, folders), and frame sizes above [`MAX_PIXELS`] are refused.
//!
//! Frames are `height x width x 3` RGB `u8` arrays ([`DecodedFrame::rgb`]);
//! [`DecodedFrame::to_image`] gives an `image::RgbImage`. Frame indices count
//! decoded frames from 0 in presentation order, as OpenCV's
//! `CAP_PROP_POS_FRAMES` and PySceneDetect do.
//!
//! ```no_run
//! use frame_select::video::{DecodeOptions, VideoReader};
//! let mut reader = VideoReader::open("walk.mp4", &DecodeOptions::default())?;
//! println!("{:?}", reader.info());
//! while let Some(frame) = reader.next_frame()? {
//!     println!("frame {} at {:.3} s: {:?}", frame.index, frame.time_s, frame.rgb.dim());
//! }
//! # Ok::<(), frame_select::video::VideoError>(())
//! ```

mod convert;
mod damage;
mod error;
mod log;
mod options;
mod probe;
mod reader;
mod sample;
mod stream;
mod write;

pub use damage::Damage;
pub use error::VideoError;
pub use options::{DecodeOptions, DecodedFrame, Resize};
pub(crate) use probe::file_kind;
pub use probe::{MAX_PIXELS, VideoInfo, probe};
pub use reader::VideoReader;
pub use sample::{sample_frames, sample_frames_from, sample_frames_lenient};
pub use stream::{FrameStream, with_frame_stream};
pub use write::{ClipMethod, ClipRequest, WrittenClip, write_clip};

use std::sync::Once;
use video_rs::ffmpeg;

/// Initialises FFmpeg once per process and routes its log away from stderr:
/// decode problems reach callers as [`VideoError`]s and [`Damage`], not as
/// stderr noise in the host program.
pub(crate) fn init_ffmpeg() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // `init` only registers devices on FFmpeg >= 5; it cannot fail there.
        let _ = ffmpeg::init();
        log::install();
    });
}
