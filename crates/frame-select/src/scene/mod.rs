//! Shot (scene) detection equivalent to PySceneDetect 0.7: the content
//! detector, the adaptive detector, PySceneDetect's automatic downscaling
//! with OpenCV's bilinear resize, and scene lists.

pub mod adaptive;
pub mod content;
pub mod hsv;
pub mod resize;

use std::path::Path;

use ndarray::ArrayView3;

pub use adaptive::{AdaptiveConfig, AdaptiveDetector};
pub use content::{ComponentWeights, ContentConfig, ContentDetector, FilterMode, FrameScore};
pub use hsv::HsvPlanes;

use crate::video::{Damage, DecodeOptions, VideoError, with_frame_stream};

/// A scene: frames `[start, end)`.
///
/// ```
/// use frame_select::scene::Scene;
/// let scene = Scene { start: 30, end: 100 };
/// assert_eq!(scene.len(), 70);
/// assert!(Scene { start: 5, end: 5 }.is_empty());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Scene {
    /// First frame.
    pub start: u64,
    /// One past the last frame.
    pub end: u64,
}

impl Scene {
    /// Frames in the scene.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True for an empty range.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Scenes between cuts: the first starts at frame 0, the last ends at
/// `total_frames`; no cuts gives one scene (as PySceneDetect with
/// `start_in_scene=True`). Cuts are sorted and deduplicated; cuts at 0 or at
/// or past the end are ignored.
///
/// ```
/// use frame_select::scene::{Scene, scenes_from_cuts};
/// // Unsorted, repeated and out-of-range cuts are cleaned up.
/// let scenes = scenes_from_cuts(&[7, 3, 3, 0, 12], 10);
/// assert_eq!(scenes, vec![
///     Scene { start: 0, end: 3 },
///     Scene { start: 3, end: 7 },
///     Scene { start: 7, end: 10 },
/// ]);
/// assert_eq!(scenes_from_cuts(&[], 10), vec![Scene { start: 0, end: 10 }]);
/// ```
pub fn scenes_from_cuts(cuts: &[u64], total_frames: u64) -> Vec<Scene> {
    let mut cuts: Vec<u64> = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < total_frames)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut scenes = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        scenes.push(Scene { start, end: c });
        start = c;
    }
    if total_frames > start {
        scenes.push(Scene {
            start,
            end: total_frames,
        });
    }
    scenes
}

/// The longest scene (the first of equals), if any.
///
/// ```
/// use frame_select::scene::{Scene, longest_scene, scenes_from_cuts};
/// let scenes = scenes_from_cuts(&[4, 9], 12); // 0..4, 4..9, 9..12
/// assert_eq!(longest_scene(&scenes), Some(Scene { start: 4, end: 9 }));
/// assert_eq!(longest_scene(&[]), None);
/// ```
pub fn longest_scene(scenes: &[Scene]) -> Option<Scene> {
    scenes
        .iter()
        .copied()
        .reduce(|best, s| if s.len() > best.len() { s } else { best })
}

/// Which detector to run.
///
/// ```
/// use frame_select::scene::{AdaptiveConfig, ContentConfig, DetectorConfig};
/// assert!(matches!(DetectorConfig::default(), DetectorConfig::Content(_)));
/// let adaptive = DetectorConfig::Adaptive(AdaptiveConfig { window_width: 3, ..Default::default() });
/// assert!(adaptive.validate().is_ok());
/// let bad = DetectorConfig::Content(ContentConfig { threshold: 0.0, ..Default::default() });
/// assert!(bad.validate().unwrap_err().starts_with("content.threshold"));
/// // Serialised with a `kind` tag, as in a saved selection config.
/// let json = serde_json::to_string(&adaptive).unwrap();
/// assert!(json.starts_with(r#"{"kind":"adaptive""#));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DetectorConfig {
    /// [`ContentDetector`].
    Content(ContentConfig),
    /// [`AdaptiveDetector`].
    Adaptive(AdaptiveConfig),
}

impl DetectorConfig {
    /// Checks every field is finite and in range; the message names the
    /// field (`content.threshold must be ...`).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            DetectorConfig::Content(c) => c.validate().map_err(|e| format!("content.{e}")),
            DetectorConfig::Adaptive(c) => c.validate().map_err(|e| format!("adaptive.{e}")),
        }
    }
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::Content(ContentConfig::default())
    }
}

/// A streaming shot detector of either kind. Feed it every decoded frame in
/// order, at the size it was decoded: it shrinks each frame to
/// [`resize::detection_size`] with OpenCV's bilinear resize before scoring,
/// as PySceneDetect's `SceneManager` does, so scores and cuts equal
/// PySceneDetect's whatever the frame size. Frames already at detection
/// size pass through unchanged.
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::scene::{DetectorConfig, ShotDetector};
///
/// let mut shots = ShotDetector::new(&DetectorConfig::default());
/// let mut cuts = Vec::new();
/// for i in 0..40u64 {
///     // A 1280x720 picture that turns from black to white at frame 20.
///     let value = if i < 20 { 0 } else { 255 };
///     let frame = Array3::from_elem((720, 1280, 3), value);
///     let (_score, cut) = shots.process(i, frame.view());
///     cuts.extend(cut);
/// }
/// assert_eq!(cuts, vec![20]);
/// assert_eq!(shots.detection_size(), Some((256, 144)));
/// ```
#[derive(Debug, Clone)]
pub struct ShotDetector {
    kind: DetectorKind,
    resizer: resize::ResizerCache,
    size: Option<(u32, u32)>,
}

#[derive(Debug, Clone)]
enum DetectorKind {
    Content(ContentDetector),
    Adaptive(AdaptiveDetector),
}

impl ShotDetector {
    /// A detector for `config` (check it first with
    /// [`DetectorConfig::validate`] when it comes from a user).
    pub fn new(config: &DetectorConfig) -> Self {
        let kind = match config {
            DetectorConfig::Content(c) => DetectorKind::Content(ContentDetector::new(c)),
            DetectorConfig::Adaptive(c) => DetectorKind::Adaptive(AdaptiveDetector::new(c)),
        };
        Self {
            kind,
            resizer: resize::ResizerCache::default(),
            size: None,
        }
    }

    /// Feeds frame number `frame` (sequential), an RGB frame
    /// `(height, width, 3)` of any size; returns the frame's score (if it
    /// had a predecessor of the same size) and a cut confirmed now.
    pub fn process(
        &mut self,
        frame: u64,
        rgb: ArrayView3<'_, u8>,
    ) -> (Option<FrameScore>, Option<u64>) {
        let (score, cut, ()) = self.process_inspect(frame, rgb, |_| ());
        (score, cut)
    }

    /// As [`ShotDetector::process`], and also hands the frame as scored
    /// (shrunk to detection size) to `inspect`, so a caller measuring
    /// something at detection size does not resize it a second time.
    pub fn process_inspect<R>(
        &mut self,
        frame: u64,
        rgb: ArrayView3<'_, u8>,
        inspect: impl FnOnce(ArrayView3<'_, u8>) -> R,
    ) -> (Option<FrameScore>, Option<u64>, R) {
        let small = self.resizer.to_detection_size(rgb.view());
        let view = small.as_ref().map_or(rgb, |s| s.view());
        self.size = Some((view.dim().1 as u32, view.dim().0 as u32));
        let planes = HsvPlanes::from_rgb(view);
        let (score, cut) = match &mut self.kind {
            DetectorKind::Content(d) => d.process(frame, planes),
            DetectorKind::Adaptive(d) => {
                let step = d.process(frame, planes);
                (step.score, step.cut)
            }
        };
        (score, cut, inspect(view))
    }

    /// `(width, height)` the last frame was scored at; `None` before the
    /// first frame.
    pub fn detection_size(&self) -> Option<(u32, u32)> {
        self.size
    }
}

/// Result of [`detect_scenes`].
///
/// ```no_run
/// use frame_select::scene::{DetectorConfig, detect_scenes};
/// let found = detect_scenes("clip.mp4", &DetectorConfig::default())?;
/// // Scenes cover every frame, each cut starting one.
/// assert_eq!(found.scenes.len(), found.cuts.len() + 1);
/// assert_eq!(found.scenes.last().map(|s| s.end), Some(found.frames));
/// if found.damage.damaged {
///     eprintln!("only part of the file decoded: {}", found.damage.summary());
/// }
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SceneDetection {
    /// End of the last scene: the last frame's position + 1 (frames are
    /// numbered by presentation time, see [`crate::video::DecodedFrame::position`]).
    pub frames: u64,
    /// Cut frames (each starts a scene).
    pub cuts: Vec<u64>,
    /// Scenes covering all frames.
    pub scenes: Vec<Scene>,
    /// Size the frames were scored at, `(width, height)`.
    pub detection_size: (u32, u32),
    /// Damage seen while decoding (a truncated file, skipped packets,
    /// FFmpeg errors): when `damage.damaged`, the scenes cover only what
    /// could be decoded.
    #[serde(default)]
    pub damage: Damage,
}

/// Decodes `path` once and detects its scenes, downscaling as PySceneDetect
/// does by default. A stream that breaks part way returns the error; use the
/// selection pipeline for damaged files (it keeps what was decoded). A file
/// that ends early without an error (a truncated MP4) gives the scenes of
/// what was decoded, with [`SceneDetection::damage`] saying so. An invalid
/// `config` is a [`VideoError::BadRequest`] naming the field.
///
/// With a real file it returns the cuts and scenes (see
/// [`SceneDetection`]); a bad config or an unreadable file is a typed error:
///
/// ```
/// use frame_select::scene::{ContentConfig, DetectorConfig, detect_scenes};
/// use frame_select::video::VideoError;
/// let bad = DetectorConfig::Content(ContentConfig { threshold: 300.0, ..Default::default() });
/// let err = detect_scenes("clip.mp4", &bad).unwrap_err();
/// assert!(matches!(err, VideoError::BadRequest { .. }));
/// let missing = std::env::temp_dir().join("frame-select-doc-no-such-video.mp4");
/// let err = detect_scenes(&missing, &DetectorConfig::default()).unwrap_err();
/// assert!(matches!(err, VideoError::Io { .. }));
/// ```
pub fn detect_scenes(
    path: impl AsRef<Path>,
    config: &DetectorConfig,
) -> Result<SceneDetection, VideoError> {
    config.validate().map_err(|reason| VideoError::BadRequest {
        path: path.as_ref().to_path_buf(),
        reason: format!("invalid detector config: {reason}"),
    })?;
    with_frame_stream(path.as_ref(), &DecodeOptions::default(), |info, frames| {
        let mut detector = ShotDetector::new(config);
        let mut cuts = Vec::new();
        let mut count = 0;
        for frame in &mut *frames {
            let frame = frame?;
            let (_, cut) = detector.process(frame.position, frame.rgb.view());
            cuts.extend(cut);
            count = count.max(frame.position + 1);
        }
        cuts.sort_unstable();
        cuts.dedup();
        Ok(SceneDetection {
            frames: count,
            scenes: scenes_from_cuts(&cuts, count),
            cuts,
            detection_size: detector
                .detection_size()
                .unwrap_or_else(|| resize::detection_size(info.width, info.height)),
            damage: frames.damage().clone(),
        })
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_lists() {
        assert_eq!(scenes_from_cuts(&[], 10), vec![Scene { start: 0, end: 10 }]);
        assert_eq!(
            scenes_from_cuts(&[7, 3, 3, 0, 12], 10),
            vec![
                Scene { start: 0, end: 3 },
                Scene { start: 3, end: 7 },
                Scene { start: 7, end: 10 }
            ]
        );
        assert_eq!(scenes_from_cuts(&[], 0), vec![]);
        let s = scenes_from_cuts(&[4, 9], 12);
        assert_eq!(longest_scene(&s), Some(Scene { start: 4, end: 9 }));
    }
}
