//! The single decoding pass over a video: every frame feeds the shot
//! detector; sampled frames also feed quality, hashing and motion, and are
//! kept (shrunk) for person detection once the clip is planned.

use std::path::Path;

use ndarray::{Array2, Array3};

use super::SelectionConfig;
use crate::hash::{dhash, phash};
use crate::quality::{FrameQuality, QualityThresholds, gray, mean_abs_diff};
use crate::scene::resize::ResizerCache;
use crate::scene::{Scene, ShotDetector, scenes_from_cuts};
use crate::video::{Damage, DecodeOptions, FrameStream, VideoError, VideoInfo, with_frame_stream};

/// What the pass measured on one sampled frame.
///
/// ```no_run
/// use frame_select::select::{SelectionConfig, analyze::analyze_video};
/// let analysis = analyze_video("walk.mp4".as_ref(), &SelectionConfig::default(), 0)?;
/// // Samples every `sample_every_s` (0.5 s), in order.
/// let first = &analysis.samples[0];
/// assert_eq!(first.index, 0);
/// assert!(first.persons.is_none()); // detection runs later, on the clip's samples
/// println!("sharpness {:.1}, pHash {:016x}", first.quality.sharpness, first.phash);
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleRecord {
    /// Frame position (presentation-time frame number).
    pub index: u64,
    /// Time in seconds.
    pub time_s: f64,
    /// Quality measures (full-resolution grey).
    pub quality: FrameQuality,
    /// Perceptual hash.
    pub phash: u64,
    /// Difference hash.
    pub dhash: u64,
    /// Mean absolute grey difference to the previous sample (at detection
    /// size), `None` for the first.
    pub motion: Option<f64>,
    /// Persons found, once detection ran on this sample.
    pub persons: Option<usize>,
}

/// Everything the pass learnt about a video.
///
/// ```no_run
/// use frame_select::select::{SelectionConfig, analyze::analyze_video};
/// let analysis = analyze_video("walk.mp4".as_ref(), &SelectionConfig::default(), 0)?;
/// assert_eq!(analysis.scenes.len(), analysis.cuts.len() + 1);
/// assert_eq!(analysis.samples.len(), analysis.sample_pixels.len());
/// if let Some(err) = &analysis.decode_error {
///     eprintln!("analysed the first {} frames only: {err}", analysis.decoded);
/// }
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
#[derive(Debug)]
pub struct VideoAnalysis {
    /// Stream facts.
    pub info: VideoInfo,
    /// Frames decoded.
    pub decoded: u64,
    /// End of the frame timeline (last position + 1): scenes cover
    /// `0..frames`.
    pub frames: u64,
    /// Cut frames.
    pub cuts: Vec<u64>,
    /// Scenes over the decoded frames.
    pub scenes: Vec<Scene>,
    /// Keyframe indices.
    pub keyframes: Vec<u64>,
    /// Sampled frames' measures, in order.
    pub samples: Vec<SampleRecord>,
    /// Sampled frames' pixels (shrunk to `max_sample_width`), parallel to
    /// `samples`.
    pub sample_pixels: Vec<Array3<u8>>,
    /// The error that stopped decoding early, if any (the frames before it
    /// were analysed).
    pub decode_error: Option<VideoError>,
    /// Packets FFmpeg could not decode and skipped.
    pub failed_packets: u64,
    /// Everything the decoding pass saw wrong (frames decoded vs announced,
    /// FFmpeg errors).
    pub damage: Damage,
}

/// Decodes `path` once and measures it. Fails only if the file cannot be
/// opened at all; a stream that breaks part way is analysed up to the break.
///
/// A file that cannot be opened is an error (one that breaks part way is
/// analysed up to the break, see [`VideoAnalysis::decode_error`]):
///
/// ```
/// use frame_select::select::{SelectionConfig, analyze::analyze_video};
/// use frame_select::video::VideoError;
/// let missing = std::env::temp_dir().join("frame-select-doc-missing-video.mp4");
/// let err = analyze_video(&missing, &SelectionConfig::default(), 0).unwrap_err();
/// assert!(matches!(err, VideoError::Io { .. }));
/// assert_eq!(err.path(), missing);
/// ```
pub fn analyze_video(
    path: &Path,
    config: &SelectionConfig,
    decode_threads: usize,
) -> Result<VideoAnalysis, VideoError> {
    let options = DecodeOptions {
        threads: decode_threads,
        ..DecodeOptions::default()
    };
    with_frame_stream(path, &options, |info, frames| {
        analyze_frames(info, frames, config)
    })
}

fn analyze_frames(
    info: &VideoInfo,
    stream: &mut FrameStream<'_>,
    config: &SelectionConfig,
) -> VideoAnalysis {
    let info = info.clone();
    let fps = if info.fps > 0.0 { info.fps } else { 25.0 };
    let stride = ((config.sample_every_s * fps).round() as u64).max(1);
    let thresholds = QualityThresholds::default();
    let mut shots = ShotDetector::new(&config.shots);
    let mut sample_resizer = ResizerCache::default();
    let mut cuts = Vec::new();
    let mut keyframes = Vec::new();
    let mut samples = Vec::new();
    let mut sample_pixels = Vec::new();
    let mut last_small_gray: Option<Array2<u8>> = None;
    let mut frames = 0u64;
    let mut decoded = 0u64;
    let mut next_sample = 0u64;
    let mut decode_error = None;
    loop {
        let frame = match stream.next() {
            Some(Ok(f)) => f,
            None => break,
            Some(Err(e)) => {
                decode_error = Some(e);
                break;
            }
        };
        decoded += 1;
        // Scenes, keyframes and samples use the presentation-time frame
        // number (PySceneDetect's numbering), which clip writing also uses.
        frames = frames.max(frame.position + 1);
        if frame.key {
            keyframes.push(frame.position);
        }
        let (h, w, _) = frame.rgb.dim();
        // Samples every `stride` positions (by time, so variable-rate
        // files are sampled evenly too); hashes and motion use the frame
        // as the shot detector scored it (detection size).
        let sampled = frame.position >= next_sample;
        let (_, cut, small_gray) = shots.process_inspect(frame.position, frame.rgb.view(), |v| {
            sampled.then(|| gray(v))
        });
        cuts.extend(cut);

        if let Some(small_gray) = small_gray {
            next_sample = frame.position + stride;
            let full_gray = gray(frame.rgb.view());
            let motion = last_small_gray
                .as_ref()
                .and_then(|g| mean_abs_diff(g.view(), small_gray.view()));
            samples.push(SampleRecord {
                index: frame.position,
                time_s: frame.time_s,
                quality: FrameQuality::measure(full_gray.view(), &thresholds),
                phash: phash(small_gray.view()),
                dhash: dhash(small_gray.view()),
                motion,
                persons: None,
            });
            last_small_gray = Some(small_gray);
            let max_w = config.max_sample_width as usize;
            let th = ((h as f64 * max_w as f64 / w.max(1) as f64).round() as usize).max(1);
            // `None`: already narrow enough (or nothing to shrink).
            let pixels = match w > max_w {
                true => sample_resizer.resize(frame.rgb.view(), (max_w as u32, th as u32)),
                false => None,
            }
            .unwrap_or(frame.rgb);
            sample_pixels.push(pixels);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    keyframes.sort_unstable();
    keyframes.dedup();
    VideoAnalysis {
        scenes: scenes_from_cuts(&cuts, frames),
        info,
        frames,
        decoded,
        cuts,
        keyframes,
        samples,
        sample_pixels,
        decode_error,
        failed_packets: stream.failed_packets(),
        damage: stream.damage().clone(),
    }
}
