//! [`SelectionConfig`]: every knob of the frame-selection stage, with the
//! defaults the published system implies (SPEC 1c) or curation practice
//! uses where it is silent.

use std::path::PathBuf;

use crate::scene::DetectorConfig;
use crate::video::ClipMethod;

/// Which person detector the selection runs.
///
/// ```
/// use frame_select::select::{PersonDetectorKind, SelectionConfig};
/// assert_eq!(PersonDetectorKind::default(), PersonDetectorKind::Hog);
/// // YOLOv8 needs its weights named in the same config.
/// let config = SelectionConfig { person_detector: PersonDetectorKind::Yolov8, ..Default::default() };
/// assert_eq!(config.validate().unwrap_err(), "person_detector = yolov8 needs yolo_weights");
/// assert_eq!(serde_json::to_string(&PersonDetectorKind::None).unwrap(), r#""none""#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonDetectorKind {
    /// HOG + linear SVM with OpenCV's default people detector (CPU, no
    /// download).
    #[default]
    Hog,
    /// YOLOv8 (the published system's choice); needs `yolo_weights`.
    Yolov8,
    /// No person check.
    None,
}

/// Settings of the selection stage. Serialisable, and written next to the
/// report of every run so a result says how it was produced.
///
/// ```
/// use frame_select::select::SelectionConfig;
/// let mut config = SelectionConfig { clip_max_s: 5.0, write_clips: false, ..Default::default() };
/// assert_eq!(config.clip_min_s, 2.0);
/// assert!(config.validate().is_ok());
/// config.clip_max_s = 1.0; // shorter than clip_min_s
/// assert!(config.validate().unwrap_err().starts_with("clip_max_s"));
/// // Saved configs leave out what they do not change.
/// let read: SelectionConfig = serde_json::from_str(r#"{"min_sharpness": 40.0}"#).unwrap();
/// assert_eq!(read.min_sharpness, 40.0);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionConfig {
    /// Shot detector (PySceneDetect's content detector by default).
    pub shots: DetectorConfig,
    /// Seconds between the frames sampled for quality, hashing and person
    /// detection.
    pub sample_every_s: f64,
    /// Person detector.
    pub person_detector: PersonDetectorKind,
    /// YOLOv8 weights (`.safetensors` from `tools/convert_yolov8.py`).
    pub yolo_weights: Option<PathBuf>,
    /// Minimum detector confidence for YOLOv8 (Ultralytics' default 0.25).
    pub person_confidence: f32,
    /// Minimum share of sampled clip frames with at least one person.
    pub min_person_share: f64,
    /// Person detection runs on at most this many of the clip's samples,
    /// spread evenly (0: all). Detection dominates the stage's time; eight
    /// frames measure a share against 0.5 to within one frame.
    pub person_samples: usize,
    /// Minimum median sharpness (variance of the Laplacian) of the clip.
    pub min_sharpness: f64,
    /// Maximum share of blank (uniform) sampled frames.
    pub max_blank_share: f64,
    /// Maximum mean share of clipped (dark or bright) pixels.
    pub max_clipped_share: f64,
    /// Minimum mean absolute grey difference between consecutive samples
    /// (0 = frozen picture).
    pub min_motion: f64,
    /// Shortest clip kept, seconds.
    pub clip_min_s: f64,
    /// Longest clip written, seconds (longer scenes are trimmed).
    pub clip_max_s: f64,
    /// How clips are written.
    pub clip_method: ClipMethod,
    /// Frames in the near-duplicate signature.
    pub signature_frames: usize,
    /// Hamming radius (bits of 64) under which two frame hashes match.
    pub duplicate_radius: u32,
    /// Share of signature frames that must match for a near-duplicate.
    pub duplicate_min_share: f64,
    /// Sampled frames wider than this are shrunk before person detection
    /// (and kept in memory at that size until the clip is planned).
    pub max_sample_width: u32,
    /// Write the kept clips and sidecars (`false`: decide and report only).
    pub write_clips: bool,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        Self {
            shots: DetectorConfig::default(),
            sample_every_s: 0.5,
            person_detector: PersonDetectorKind::Hog,
            yolo_weights: None,
            person_confidence: 0.25,
            min_person_share: 0.5,
            person_samples: 8,
            min_sharpness: 15.0,
            max_blank_share: 0.5,
            max_clipped_share: 0.8,
            min_motion: 0.3,
            clip_min_s: 2.0,
            clip_max_s: 10.0,
            clip_method: ClipMethod::Auto,
            signature_frames: 16,
            duplicate_radius: 10,
            duplicate_min_share: 0.5,
            max_sample_width: 960,
            write_clips: true,
        }
    }
}

impl SelectionConfig {
    /// Checks every field is finite and in range and that the values make
    /// sense together; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= MAX_SECONDS {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a finite number in (0, {MAX_SECONDS}], got {v}"
                ))
            }
        };
        let share = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number in [0, 1], got {v}"))
            }
        };
        let non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number >= 0, got {v}"))
            }
        };
        self.shots.validate().map_err(|e| format!("shots.{e}"))?;
        positive("sample_every_s", self.sample_every_s)?;
        positive("clip_min_s", self.clip_min_s)?;
        positive("clip_max_s", self.clip_max_s)?;
        if self.clip_max_s < self.clip_min_s {
            return Err(format!(
                "clip_max_s ({}) < clip_min_s ({})",
                self.clip_max_s, self.clip_min_s
            ));
        }
        share("person_confidence", f64::from(self.person_confidence))?;
        share("min_person_share", self.min_person_share)?;
        share("max_blank_share", self.max_blank_share)?;
        share("max_clipped_share", self.max_clipped_share)?;
        share("duplicate_min_share", self.duplicate_min_share)?;
        non_negative("min_sharpness", self.min_sharpness)?;
        non_negative("min_motion", self.min_motion)?;
        if self.person_detector == PersonDetectorKind::Yolov8 && self.yolo_weights.is_none() {
            return Err("person_detector = yolov8 needs yolo_weights".into());
        }
        if !(64..=MAX_SAMPLE_WIDTH).contains(&self.max_sample_width) {
            return Err(format!(
                "max_sample_width must be in [64, {MAX_SAMPLE_WIDTH}], got {}",
                self.max_sample_width
            ));
        }
        if !(1..=MAX_SIGNATURE_FRAMES).contains(&self.signature_frames) {
            return Err(format!(
                "signature_frames must be in [1, {MAX_SIGNATURE_FRAMES}], got {}",
                self.signature_frames
            ));
        }
        if self.duplicate_radius > 64 {
            return Err(format!(
                "duplicate_radius must be in [0, 64] (bits of a 64-bit hash), got {}",
                self.duplicate_radius
            ));
        }
        Ok(())
    }
}

/// Longest time setting accepted, seconds (a day): larger values are typos
/// and would overflow frame arithmetic.
const MAX_SECONDS: f64 = 86_400.0;
/// Widest sample kept in memory (8K).
const MAX_SAMPLE_WIDTH: u32 = 8192;
/// Most frames in a near-duplicate signature.
const MAX_SIGNATURE_FRAMES: usize = 4096;
