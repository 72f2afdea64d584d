//! YOLOv8 (n/s/m) person detector in Burn.
//!
//! Architecture of Ultralytics YOLOv8 (Jocher, Chaurasia, Qiu, 2023,
//! <https://github.com/ultralytics/ultralytics>, `yolov8.yaml`): a CSP
//! backbone of `C2f` blocks with `SPPF`, a PAN neck, and the anchor-free
//! decoupled Detect head with DFL box regression at strides 8/16/32. The
//! SPEC's person check (SPEC 1c) keeps a clip when YOLOv8 finds class 0 at
//! confidence 0.25 (Ultralytics' default).
//!
//! Weights: Ultralytics checkpoints are AGPL-3.0 and not bundled. Fetch
//! `yolov8n.pt` yourself and convert it (the script executes no network
//! request and needs PyPI `ultralytics`):
//!
//! ```text
//! python tools/convert_yolov8.py yolov8n.pt yolov8n.safetensors
//! cargo run --release -p frame-select --example select -- \
//!     --input videos/ --out selected/ --detector yolov8 --yolo-weights yolov8n.safetensors
//! ```
//!
//! Inference follows Ultralytics' predict path: letterbox to 640x640 (grey
//! 114 padding, bilinear resize), RGB / 255, the network, confidence and
//! class filter, class-aware NMS (IoU 0.7, at most 300 boxes), boxes scaled
//! back to the frame.

mod model;
mod post;

use std::path::Path;
use std::sync::Arc;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use ndarray::ArrayView3;

use model::{C2f, ConvBnSilu, Sppf};
pub use model::{DetectHead, STRIDES};
pub use post::{Letterbox, RawBox, letterbox, non_max_suppression};

use super::{DetectError, Detection, PersonDetector};
use model::{Taker, upsample2};
use videomae::io::FileError;

/// Model size.
///
/// ```
/// use frame_select::detect::yolo::YoloVariant;
/// assert_eq!(YoloVariant::S.name(), "s");
/// assert_eq!(serde_json::to_string(&YoloVariant::M).unwrap(), r#""m""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YoloVariant {
    /// yolov8n: width 0.25, depth 0.33.
    N,
    /// yolov8s: width 0.50, depth 0.33.
    S,
    /// yolov8m: width 0.75, depth 0.67, at most 768 channels.
    M,
}

impl YoloVariant {
    /// Bottlenecks in the `C2f` blocks with 3 and 6 repeats in the yaml.
    fn repeats(self) -> (usize, usize) {
        match self {
            YoloVariant::N | YoloVariant::S => (1, 2),
            YoloVariant::M => (2, 4),
        }
    }

    /// Output channels of the five width levels (the yaml's 64, 128, 256,
    /// 512, 1024 times the width multiple, capped at the variant's
    /// `max_channels` first).
    fn widths(self) -> [usize; 5] {
        match self {
            YoloVariant::N => [16, 32, 64, 128, 256],
            YoloVariant::S => [32, 64, 128, 256, 512],
            YoloVariant::M => [48, 96, 192, 384, 576],
        }
    }

    /// The variant whose first layer has `channels` output channels.
    fn from_stem(channels: usize) -> Option<Self> {
        match channels {
            16 => Some(Self::N),
            32 => Some(Self::S),
            48 => Some(Self::M),
            _ => None,
        }
    }

    /// Lower-case name (`"n"`, `"s"`, `"m"`).
    pub fn name(self) -> &'static str {
        match self {
            YoloVariant::N => "n",
            YoloVariant::S => "s",
            YoloVariant::M => "m",
        }
    }
}

/// Inference settings; defaults are Ultralytics' predict defaults.
///
/// ```
/// use frame_select::detect::yolo::YoloConfig;
/// // A smaller input for speed, and every class instead of persons only.
/// let mut config = YoloConfig { image_size: 320, classes: vec![], ..YoloConfig::default() };
/// assert_eq!(config.confidence, 0.25);
/// assert!(config.validate().is_ok());
/// config.image_size = 300; // not a multiple of 32
/// assert!(config.validate().unwrap_err().starts_with("image_size"));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct YoloConfig {
    /// Square input size (640).
    pub image_size: usize,
    /// Minimum class confidence (0.25).
    pub confidence: f32,
    /// NMS IoU threshold (0.7).
    pub iou: f32,
    /// Boxes kept per image at most (300).
    pub max_detections: usize,
    /// Classes reported (`[0]`: person).
    pub classes: Vec<usize>,
}

/// Largest input size accepted: 4096 px squares already take seconds per
/// frame on CPU; larger ones are surely typos.
pub const MAX_IMAGE_SIZE: usize = 4096;

impl YoloConfig {
    /// Checks every field; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.image_size == 0
            || !self.image_size.is_multiple_of(32)
            || self.image_size > MAX_IMAGE_SIZE
        {
            return Err(format!(
                "image_size must be a multiple of 32 in [32, {MAX_IMAGE_SIZE}], got {}",
                self.image_size
            ));
        }
        for (name, v) in [("confidence", self.confidence), ("iou", self.iou)] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(format!("{name} must be a finite number in [0, 1], got {v}"));
            }
        }
        if self.max_detections == 0 {
            return Err("max_detections must be >= 1, got 0".into());
        }
        Ok(())
    }
}

impl Default for YoloConfig {
    fn default() -> Self {
        Self {
            image_size: 640,
            confidence: 0.25,
            iou: 0.7,
            max_detections: 300,
            classes: vec![0],
        }
    }
}

/// YOLOv8 with fused Conv+BN layers.
///
/// The example loads a randomly initialised yolov8n (the test fixture); use
/// weights converted with `tools/convert_yolov8.py` for real detections.
///
/// ```
/// # let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/yolov8/yolov8n_random.safetensors");
/// use frame_select::burn::backend::Flex;
/// use frame_select::burn::tensor::Tensor;
/// use frame_select::detect::yolo::{YoloV8, YoloVariant};
/// let device = Default::default();
/// let model = YoloV8::<Flex>::load(weights, &device)?;
/// assert_eq!((model.variant(), model.num_classes()), (YoloVariant::N, 80));
/// // A 32x32 input has 4x4 + 2x2 + 1x1 = 21 anchors at strides 8, 16, 32;
/// // each has 4 box values and 80 class probabilities.
/// let out = model.forward_raw(Tensor::<Flex, 4>::zeros([1, 3, 32, 32], &device));
/// assert_eq!(out.dims(), [1, 84, 21]);
/// # Ok::<(), frame_select::detect::DetectError>(())
/// ```
#[derive(Debug, Clone)]
pub struct YoloV8<B: Backend> {
    variant: YoloVariant,
    stem: [ConvBnSilu<B>; 2],
    c2f_2: C2f<B>,
    down_3: ConvBnSilu<B>,
    c2f_4: C2f<B>,
    down_5: ConvBnSilu<B>,
    c2f_6: C2f<B>,
    down_7: ConvBnSilu<B>,
    c2f_8: C2f<B>,
    sppf_9: Sppf<B>,
    c2f_12: C2f<B>,
    c2f_15: C2f<B>,
    down_16: ConvBnSilu<B>,
    c2f_18: C2f<B>,
    down_19: ConvBnSilu<B>,
    c2f_21: C2f<B>,
    head: DetectHead<B>,
}

fn weights_err(path: &Path, reason: impl Into<String>) -> DetectError {
    DetectError::Weights {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl<B: Backend> YoloV8<B> {
    /// Loads a safetensors file written by `tools/convert_yolov8.py`
    /// (Ultralytics state-dict names). The variant is read from the
    /// first convolution's width; every other tensor is then checked
    /// against the shape that variant needs before any layer is built, and
    /// missing, unexpected or mis-shaped tensors are all reported in one
    /// error (the first few of each, and their count).
    pub fn load(path: impl AsRef<Path>, device: &B::Device) -> Result<Self, DetectError> {
        let path = path.as_ref();
        let mut t = Taker::read_safetensors(path).map_err(|e| match e {
            FileError::Io { source, .. } => weights_err(path, source.to_string()),
            FileError::Format { message, .. } => weights_err(path, message),
        })?;
        let shape_of = |key: &str| t.shape(key).map(<[usize]>::to_vec);
        let stem = shape_of("model.0.conv.weight")
            .ok_or_else(|| weights_err(path, "no model.0.conv.weight: not a YOLOv8 state dict"))?;
        let stem = match stem.as_slice() {
            [c, 3, 3, 3] => *c,
            other => {
                return Err(weights_err(
                    path,
                    format!(
                        "model.0.conv.weight has shape {other:?}, expected [16|32|48, 3, 3, 3]"
                    ),
                ));
            }
        };
        let variant = YoloVariant::from_stem(stem).ok_or_else(|| {
            weights_err(
                path,
                format!("first layer has {stem} channels; yolov8n/s/m have 16/32/48"),
            )
        })?;
        // The class count is the one free dimension; every other shape
        // follows from the variant.
        let num_classes = shape_of("model.22.cv3.0.2.bias")
            .and_then(|s| s.first().copied())
            .unwrap_or(80);
        if num_classes == 0 {
            return Err(weights_err(path, "model.22.cv3.0.2.bias: zero classes"));
        }
        let (r3, r6) = variant.repeats();
        let [c0, c1, c2, c3, c4] = variant.widths();
        let conv = |t: &mut Taker, i: usize, c_in: usize, c_out: usize| {
            ConvBnSilu::load(t, &format!("model.{i}"), [c_in, c_out, 3], 2, device)
        };
        let c2f = |t: &mut Taker, i: usize, io: [usize; 2], n: usize, sc: bool| {
            C2f::load(t, &format!("model.{i}"), io, n, sc, device)
        };
        let parts = (
            conv(&mut t, 0, 3, c0),
            conv(&mut t, 1, c0, c1),
            c2f(&mut t, 2, [c1, c1], r3, true),
            conv(&mut t, 3, c1, c2),
            c2f(&mut t, 4, [c2, c2], r6, true),
            conv(&mut t, 5, c2, c3),
            c2f(&mut t, 6, [c3, c3], r6, true),
            conv(&mut t, 7, c3, c4),
            c2f(&mut t, 8, [c4, c4], r3, true),
            Sppf::load(&mut t, "model.9", [c4, c4], device),
            c2f(&mut t, 12, [c4 + c3, c3], r3, false),
            c2f(&mut t, 15, [c3 + c2, c2], r3, false),
            conv(&mut t, 16, c2, c2),
            c2f(&mut t, 18, [c2 + c3, c3], r3, false),
            conv(&mut t, 19, c3, c3),
            c2f(&mut t, 21, [c3 + c4, c4], r3, false),
            DetectHead::load(&mut t, "model.22", [c2, c3, c4], num_classes, device),
        );
        t.finish(|k| k.to_owned())
            .map_err(|e| weights_err(path, format!("yolov8{}: {e}", variant.name())))?;
        // Every tensor was checked above, so none of these is absent; the
        // error only keeps this path free of `unwrap`.
        let bad = || weights_err(path, "inconsistent tensor shapes");
        let model = Self {
            variant,
            stem: [parts.0.ok_or_else(bad)?, parts.1.ok_or_else(bad)?],
            c2f_2: parts.2.ok_or_else(bad)?,
            down_3: parts.3.ok_or_else(bad)?,
            c2f_4: parts.4.ok_or_else(bad)?,
            down_5: parts.5.ok_or_else(bad)?,
            c2f_6: parts.6.ok_or_else(bad)?,
            down_7: parts.7.ok_or_else(bad)?,
            c2f_8: parts.8.ok_or_else(bad)?,
            sppf_9: parts.9.ok_or_else(bad)?,
            c2f_12: parts.10.ok_or_else(bad)?,
            c2f_15: parts.11.ok_or_else(bad)?,
            down_16: parts.12.ok_or_else(bad)?,
            c2f_18: parts.13.ok_or_else(bad)?,
            down_19: parts.14.ok_or_else(bad)?,
            c2f_21: parts.15.ok_or_else(bad)?,
            head: parts.16.ok_or_else(bad)?,
        };
        Ok(model)
    }

    /// The variant.
    pub fn variant(&self) -> YoloVariant {
        self.variant
    }

    /// Number of classes of the head.
    pub fn num_classes(&self) -> usize {
        self.head.num_classes
    }

    /// Ultralytics' eval-mode output for `(batch, 3, h, w)` RGB in [0, 1]
    /// (h, w multiples of 32): `(batch, 4 + classes, anchors)`, boxes as
    /// centre x, centre y, width, height in input pixels, then class
    /// probabilities.
    pub fn forward_raw(&self, x: Tensor<B, 4>) -> Tensor<B, 3> {
        let x = self.stem[1].forward(self.stem[0].forward(x));
        let x = self.c2f_2.forward(x);
        let p3 = self.c2f_4.forward(self.down_3.forward(x));
        let p4 = self.c2f_6.forward(self.down_5.forward(p3.clone()));
        let p5 = self
            .sppf_9
            .forward(self.c2f_8.forward(self.down_7.forward(p4.clone())));
        let h12 = self
            .c2f_12
            .forward(Tensor::cat(vec![upsample2(p5.clone()), p4], 1));
        let h15 = self
            .c2f_15
            .forward(Tensor::cat(vec![upsample2(h12.clone()), p3], 1));
        let h18 = self
            .c2f_18
            .forward(Tensor::cat(vec![self.down_16.forward(h15.clone()), h12], 1));
        let h21 = self
            .c2f_21
            .forward(Tensor::cat(vec![self.down_19.forward(h18.clone()), p5], 1));
        self.head.forward([h15, h18, h21])
    }

    /// Detections of `config.classes` in an RGB frame, in frame pixels.
    pub fn detect_frame(
        &self,
        frame: ArrayView3<'_, u8>,
        config: &YoloConfig,
        device: &B::Device,
    ) -> Result<Vec<Detection>, DetectError> {
        config.validate().map_err(DetectError::Config)?;
        let (h, w, c) = frame.dim();
        if c != 3 || h == 0 || w == 0 {
            return Err(DetectError::BadFrame {
                shape: vec![h, w, c],
                reason: "expected a non-empty RGB frame".into(),
            });
        }
        let lb = letterbox(frame, config.image_size);
        let size = config.image_size;
        let input =
            Tensor::<B, 4>::from_data(TensorData::new(lb.chw_unit(), [1, 3, size, size]), device);
        let raw = self.forward_raw(input);
        let values: Vec<f32> = raw
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 tensor data");
        // NaN coordinates next to a valid score would pass NMS as a box
        // (and count as a person): refuse the whole output instead.
        let count = values.iter().filter(|v| !v.is_finite()).count();
        if count > 0 {
            return Err(DetectError::NonFinite {
                count,
                total: values.len(),
            });
        }
        let boxes = non_max_suppression(&values, 4 + self.num_classes(), config);
        Ok(boxes.into_iter().map(|b| lb.to_frame(b, w, h)).collect())
    }
}

/// [`YoloV8`] on Burn's CPU backend as a [`PersonDetector`]. Burn's CPU
/// tensors are `Send + Sync`, so frames from parallel videos run
/// concurrently on the shared, read-only weights.
///
/// ```
/// # let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/yolov8/yolov8n_random.safetensors");
/// use frame_select::detect::PersonDetector;
/// use frame_select::detect::yolo::{YoloConfig, YoloPersonDetector};
/// use frame_select::ndarray::Array3;
/// let config = YoloConfig { image_size: 64, ..YoloConfig::default() };
/// let detector = YoloPersonDetector::load(weights, config)?;
/// assert_eq!(detector.name(), "yolov8n");
/// let frame = Array3::from_elem((48, 64, 3), 90u8);
/// for person in detector.detect(frame.view())? {
///     // Boxes come back in frame pixels.
///     assert!(person.x1 <= 64.0 && person.y1 <= 48.0);
/// }
/// # Ok::<(), frame_select::detect::DetectError>(())
/// ```
pub struct YoloPersonDetector {
    model: YoloV8<burn::backend::Flex>,
    config: YoloConfig,
    name: String,
}

impl YoloPersonDetector {
    /// Loads weights for the CPU backend with `config`.
    pub fn load(path: impl AsRef<Path>, config: YoloConfig) -> Result<Self, DetectError> {
        config.validate().map_err(DetectError::Config)?;
        let device = Default::default();
        let model = YoloV8::<burn::backend::Flex>::load(path.as_ref(), &device)?;
        let name = format!("yolov8{}", model.variant().name());
        Ok(Self {
            model,
            config,
            name,
        })
    }
}

impl PersonDetector for YoloPersonDetector {
    fn name(&self) -> &str {
        &self.name
    }

    fn detect(&self, frame: ArrayView3<'_, u8>) -> Result<Vec<Detection>, DetectError> {
        self.model
            .detect_frame(frame, &self.config, &Default::default())
    }
}

/// The selection stage's YOLOv8 person detector (`confidence` replaces
/// the default 0.25).
///
/// ```
/// use frame_select::detect::DetectError;
/// use frame_select::detect::yolo::load_person_detector;
/// let missing = std::env::temp_dir().join("frame-select-doc-no-such-weights.safetensors");
/// let err = load_person_detector(&missing, 0.4).err().expect("no weights there");
/// assert!(matches!(err, DetectError::Weights { ref path, .. } if path == &missing));
/// ```
pub fn load_person_detector(
    path: &Path,
    confidence: f32,
) -> Result<Arc<YoloPersonDetector>, DetectError> {
    let config = YoloConfig {
        confidence,
        ..YoloConfig::default()
    };
    YoloPersonDetector::load(path, config).map(Arc::new)
}
