//! Person detection behind one trait, so the selection pipeline does not care
//! which detector runs.
//!
//! Two detectors ship: [`hog::HogPeopleDetector`] (CPU, no download: HOG +
//! linear SVM with OpenCV's default people-detector coefficients) and
//! `yolo::YoloV8` (the published system's choice; Burn, weights converted
//! from an Ultralytics checkpoint by `tools/convert_yolov8.py`). YOLOv8 needs
//! the `yolo` feature (on by default); without it only HOG is built and
//! Burn is not linked.

pub mod hog;
#[cfg(feature = "yolo")]
#[cfg_attr(docsrs, doc(cfg(feature = "yolo")))]
pub mod yolo;

use ndarray::ArrayView3;

/// One detected person, in pixel coordinates of the frame given to
/// [`PersonDetector::detect`] (x to the right, y down, `x0 <= x1`,
/// `y0 <= y1`).
///
/// ```
/// use frame_select::detect::Detection;
/// let a = Detection { x0: 0.0, y0: 0.0, x1: 10.0, y1: 10.0, score: 0.9 };
/// let b = Detection { x0: 5.0, y0: 0.0, x1: 15.0, y1: 10.0, score: 0.8 };
/// assert_eq!(a.area(), 100.0);
/// // Overlap 50, union 150.
/// assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge (exclusive in the pixel sense: `x1 - x0` is the width).
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
    /// Detector confidence; its scale depends on the detector (SVM margin
    /// for HOG, class probability for YOLOv8).
    pub score: f32,
}

impl Detection {
    /// Box area (zero for degenerate boxes).
    pub fn area(&self) -> f32 {
        (self.x1 - self.x0).max(0.0) * (self.y1 - self.y0).max(0.0)
    }

    /// Intersection over union with another box (0 when both are empty).
    pub fn iou(&self, other: &Detection) -> f32 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// Why a detector could not run.
///
/// ```
/// use frame_select::detect::DetectError;
/// use frame_select::detect::hog::{HogConfig, HogPeopleDetector};
/// use frame_select::ndarray::Array3;
/// let bad = HogConfig { scale: 0.5, ..HogConfig::default() };
/// let err = HogPeopleDetector::try_new(bad).unwrap_err();
/// assert!(matches!(err, DetectError::Config(ref msg) if msg.starts_with("scale")));
/// let detector = HogPeopleDetector::default();
/// let grey = Array3::<u8>::zeros((200, 100, 1)); // one channel, not RGB
/// let err = frame_select::detect::PersonDetector::detect(&detector, grey.view()).unwrap_err();
/// assert!(matches!(err, DetectError::BadFrame { ref shape, .. } if shape == &[200, 100, 1]));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The frame is not `height x width x 3` RGB, or is too small for the
    /// detector's window.
    #[error("frame of shape {shape:?} cannot be used: {reason}")]
    BadFrame {
        /// The frame's shape as given.
        shape: Vec<usize>,
        /// What is wrong with it.
        reason: String,
    },
    /// A detector setting is out of range (the message names the field).
    #[error("invalid detector config: {0}")]
    Config(String),
    /// The model produced NaN or infinite outputs (damaged weights, or
    /// weights from another model): its boxes cannot be trusted.
    #[error("detector output has {count} non-finite values (NaN or inf) of {total}")]
    NonFinite {
        /// Non-finite values.
        count: usize,
        /// Values in the output.
        total: usize,
    },
    /// Detector weights could not be read or do not fit the model.
    #[error("detector weights {path}: {reason}")]
    Weights {
        /// The weights file.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// A person detector: RGB frame in, person boxes out.
///
/// Frames are `height x width x 3` `u8` arrays in RGB order, as
/// [`crate::video`] decodes them. Implementations must be usable from
/// several threads at once (the pipeline runs videos in parallel).
///
/// A detector of your own plugs in the same way (here: any frame brighter
/// than mid-grey is one person filling it):
///
/// ```
/// use frame_select::detect::{DetectError, Detection, PersonDetector};
/// use frame_select::ndarray::{Array3, ArrayView3};
///
/// struct Bright;
/// impl PersonDetector for Bright {
///     fn name(&self) -> &str { "bright" }
///     fn detect(&self, frame: ArrayView3<'_, u8>) -> Result<Vec<Detection>, DetectError> {
///         let (h, w, _) = frame.dim();
///         let mean = frame.iter().map(|&v| f64::from(v)).sum::<f64>() / frame.len().max(1) as f64;
///         Ok(if mean > 128.0 {
///             vec![Detection { x0: 0.0, y0: 0.0, x1: w as f32, y1: h as f32, score: 1.0 }]
///         } else {
///             vec![]
///         })
///     }
/// }
/// let found = Bright.detect(Array3::from_elem((32, 32, 3), 200u8).view())?;
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].area(), 1024.0);
/// # Ok::<(), DetectError>(())
/// ```
pub trait PersonDetector: Send + Sync {
    /// Short name for reports and sidecars (`"hog"`, `"yolov8n"`, ...).
    fn name(&self) -> &str;

    /// Person boxes found in `frame`, best first.
    fn detect(&self, frame: ArrayView3<'_, u8>) -> Result<Vec<Detection>, DetectError>;
}

/// Builds the person detector a [`crate::select::SelectionConfig`] asks for
/// (`None` when detection is off).
///
/// ```
/// use frame_select::detect::from_config;
/// use frame_select::select::{PersonDetectorKind, SelectionConfig};
/// let config = SelectionConfig::default();
/// assert_eq!(from_config(&config)?.expect("detection is on").name(), "hog");
/// let off = SelectionConfig { person_detector: PersonDetectorKind::None, ..config };
/// assert!(from_config(&off)?.is_none());
/// # Ok::<(), frame_select::detect::DetectError>(())
/// ```
pub fn from_config(
    config: &crate::select::SelectionConfig,
) -> Result<Option<std::sync::Arc<dyn PersonDetector>>, DetectError> {
    use crate::select::PersonDetectorKind;
    match config.person_detector {
        PersonDetectorKind::None => Ok(None),
        PersonDetectorKind::Hog => Ok(Some(std::sync::Arc::new(hog::HogPeopleDetector::default()))),
        #[cfg(feature = "yolo")]
        PersonDetectorKind::Yolov8 => {
            let path = config.yolo_weights.clone().unwrap_or_default();
            yolo::load_person_detector(&path, config.person_confidence)
                .map(|d| Some(d as std::sync::Arc<dyn PersonDetector>))
        }
        // The variant stays in the config type so a saved config reads the
        // same with or without the feature; asking for it is then an error,
        // never a silent fall-back to no detection.
        #[cfg(not(feature = "yolo"))]
        PersonDetectorKind::Yolov8 => Err(DetectError::Config(
            "person_detector = yolov8 needs frame-select built with the `yolo` feature".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::{PersonDetectorKind, SelectionConfig};

    fn yolo_config(weights: &std::path::Path) -> SelectionConfig {
        SelectionConfig {
            person_detector: PersonDetectorKind::Yolov8,
            yolo_weights: Some(weights.to_path_buf()),
            ..SelectionConfig::default()
        }
    }

    /// Without the `yolo` feature a YOLOv8 config is an error that names the
    /// feature, never a silent run without person detection.
    #[cfg(not(feature = "yolo"))]
    #[test]
    fn yolov8_without_the_feature_is_refused_naming_it() {
        let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/yolov8/yolov8n_random.safetensors");
        let err = from_config(&yolo_config(&weights)).err().expect("refused");
        assert!(matches!(err, DetectError::Config(_)), "{err}");
        assert!(err.to_string().contains("`yolo` feature"), "{err}");
    }

    /// With the feature, the same config loads the detector.
    #[cfg(feature = "yolo")]
    #[test]
    fn yolov8_with_the_feature_loads() {
        let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/yolov8/yolov8n_random.safetensors");
        let detector = from_config(&yolo_config(&weights)).unwrap().unwrap();
        assert!(detector.name().starts_with("yolov8"), "{}", detector.name());
    }

    #[test]
    fn hog_and_none_need_no_feature() {
        let hog = SelectionConfig::default();
        assert_eq!(from_config(&hog).unwrap().unwrap().name(), "hog");
        let none = SelectionConfig {
            person_detector: PersonDetectorKind::None,
            ..SelectionConfig::default()
        };
        assert!(from_config(&none).unwrap().is_none());
    }
}
