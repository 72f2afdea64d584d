//! YOLOv8 layers on Burn tensors: Conv (convolution with its BatchNorm
//! folded in, SiLU), Bottleneck, C2f, SPPF, and the anchor-free Detect head
//! with its distribution focal loss (DFL) box decoding.

use burn::tensor::activation::{silu, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};

/// Tensors by Ultralytics state-dict name, taken with the exact shape each
/// layer needs: the strict loader shared with `videomae`, so that no layer
/// is built from (and no forward pass indexes) a tensor of the wrong size.
pub(crate) use videomae::tensors::NamedTensors as Taker;

/// Ultralytics `Conv`: Conv2d (no bias) + BatchNorm2d (eps 1e-3) + SiLU,
/// stored with the BatchNorm folded into the convolution's weight and bias
/// (what Ultralytics' own `fuse()` does for inference).
#[derive(Debug, Clone)]
pub(crate) struct ConvBnSilu<B: Backend> {
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
    stride: usize,
    padding: usize,
}

fn tensor<B: Backend, const D: usize>(
    shape: Vec<usize>,
    values: Vec<f32>,
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

impl<B: Backend> ConvBnSilu<B> {
    /// Loads `prefix.conv.weight` (`[c_out, c_in, k, k]`) and `prefix.bn.*`
    /// (`[c_out]`), folding the BatchNorm.
    pub(crate) fn load(
        t: &mut Taker,
        prefix: &str,
        [c_in, out, k]: [usize; 3],
        stride: usize,
        device: &B::Device,
    ) -> Option<Self> {
        let shape = vec![out, c_in, k, k];
        let w = t.take(&format!("{prefix}.conv.weight"), &shape);
        let gamma = t.take(&format!("{prefix}.bn.weight"), &[out]);
        let beta = t.take(&format!("{prefix}.bn.bias"), &[out]);
        let mean = t.take(&format!("{prefix}.bn.running_mean"), &[out]);
        let var = t.take(&format!("{prefix}.bn.running_var"), &[out]);
        t.discard(&format!("{prefix}.bn.num_batches_tracked"));
        let (mut w, gamma, beta, mean, var) = (w?, gamma?, beta?, mean?, var?);
        let per_out = c_in * k * k;
        let mut bias = vec![0f32; out];
        for o in 0..out {
            // Folding in f64 keeps the fused weights within f32 rounding of
            // conv-then-BN.
            let k = f64::from(gamma[o]) / (f64::from(var[o]) + 1e-3).sqrt();
            for v in &mut w[o * per_out..(o + 1) * per_out] {
                *v = (f64::from(*v) * k) as f32;
            }
            bias[o] = (f64::from(beta[o]) - f64::from(mean[o]) * k) as f32;
        }
        let padding = k / 2;
        Some(Self {
            weight: tensor(shape, w, device),
            bias: tensor(vec![out], bias, device),
            stride,
            padding,
        })
    }

    /// Applies the layer.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let opts = ConvOptions::new([self.stride; 2], [self.padding; 2], [1, 1], 1);
        silu(conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            opts,
        ))
    }
}

/// A plain Conv2d with bias (the last layer of each head branch).
#[derive(Debug, Clone)]
pub(crate) struct PlainConv<B: Backend> {
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
}

impl<B: Backend> PlainConv<B> {
    /// Loads a 1x1 convolution from `c_in` to `c_out` channels.
    fn load(
        t: &mut Taker,
        prefix: &str,
        [c_in, c_out]: [usize; 2],
        device: &B::Device,
    ) -> Option<Self> {
        let ws = vec![c_out, c_in, 1, 1];
        let w = t.take(&format!("{prefix}.weight"), &ws);
        let b = t.take(&format!("{prefix}.bias"), &[c_out]);
        Some(Self {
            weight: tensor(ws, w?, device),
            bias: tensor(vec![c_out], b?, device),
        })
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        )
    }
}

/// `C2f`: split, a chain of bottlenecks, concatenate all, project.
#[derive(Debug, Clone)]
pub(crate) struct C2f<B: Backend> {
    cv1: ConvBnSilu<B>,
    cv2: ConvBnSilu<B>,
    bottlenecks: Vec<(ConvBnSilu<B>, ConvBnSilu<B>)>,
    shortcut: bool,
}

impl<B: Backend> C2f<B> {
    /// Loads `prefix.cv1`, `prefix.cv2` and `prefix.m.{0..n}` of a block
    /// from `c_in` to `c_out` channels (Ultralytics' `C2f(c_in, c_out, n)`
    /// with expansion 0.5).
    pub(crate) fn load(
        t: &mut Taker,
        prefix: &str,
        [c_in, c_out]: [usize; 2],
        n: usize,
        shortcut: bool,
        device: &B::Device,
    ) -> Option<Self> {
        let c = c_out / 2;
        let cv1 = ConvBnSilu::load(t, &format!("{prefix}.cv1"), [c_in, 2 * c, 1], 1, device);
        let cv2 = ConvBnSilu::load(
            t,
            &format!("{prefix}.cv2"),
            [(2 + n) * c, c_out, 1],
            1,
            device,
        );
        let bottlenecks: Vec<_> = (0..n)
            .map(|i| {
                let a = ConvBnSilu::load(t, &format!("{prefix}.m.{i}.cv1"), [c, c, 3], 1, device);
                let b = ConvBnSilu::load(t, &format!("{prefix}.m.{i}.cv2"), [c, c, 3], 1, device);
                a.zip(b)
            })
            .collect();
        Some(Self {
            cv1: cv1?,
            cv2: cv2?,
            bottlenecks: bottlenecks.into_iter().collect::<Option<_>>()?,
            shortcut,
        })
    }

    /// Applies the block.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let y = self.cv1.forward(x);
        let half = y.dims()[1] / 2;
        let mut parts = vec![y.clone().narrow(1, 0, half), y.narrow(1, half, half)];
        for (a, b) in &self.bottlenecks {
            let last = parts.last().expect("two parts at least").clone();
            let out = b.forward(a.forward(last.clone()));
            parts.push(if self.shortcut { last + out } else { out });
        }
        self.cv2.forward(Tensor::cat(parts, 1))
    }
}

/// `SPPF`: 1x1 conv, three chained 5x5 max-pools, concatenate, 1x1 conv.
#[derive(Debug, Clone)]
pub(crate) struct Sppf<B: Backend> {
    cv1: ConvBnSilu<B>,
    cv2: ConvBnSilu<B>,
}

impl<B: Backend> Sppf<B> {
    /// Loads `prefix.cv1` and `prefix.cv2` of Ultralytics' `SPPF(c_in,
    /// c_out)` (hidden width `c_in / 2`).
    pub(crate) fn load(
        t: &mut Taker,
        prefix: &str,
        [c_in, c_out]: [usize; 2],
        device: &B::Device,
    ) -> Option<Self> {
        let h = c_in / 2;
        let cv1 = ConvBnSilu::load(t, &format!("{prefix}.cv1"), [c_in, h, 1], 1, device);
        let cv2 = ConvBnSilu::load(t, &format!("{prefix}.cv2"), [4 * h, c_out, 1], 1, device);
        Some(Self {
            cv1: cv1?,
            cv2: cv2?,
        })
    }

    /// Applies the block.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut parts = vec![self.cv1.forward(x)];
        for _ in 0..3 {
            let last = parts.last().expect("one part").clone();
            parts.push(max_pool2d(last, [5, 5], [1, 1], [2, 2], [1, 1], false));
        }
        self.cv2.forward(Tensor::cat(parts, 1))
    }
}

/// Nearest-neighbour 2x upsampling.
pub(crate) fn upsample2<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .repeat_dim(3, 2)
        .repeat_dim(5, 2)
        .reshape([b, c, 2 * h, 2 * w])
}

/// The Detect head: per level, a box branch (64 = 4 sides x 16 DFL bins)
/// and a class branch; outputs `(batch, 4 + classes, anchors)` with boxes
/// as centre x, centre y, width, height in input pixels and class
/// probabilities (Ultralytics' eval-mode output).
///
/// Built by [`YoloV8::load`](super::YoloV8::load); its output is what
/// [`YoloV8::forward_raw`](super::YoloV8::forward_raw) returns (here with the
/// randomly initialised test weights):
///
/// ```
/// # let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/yolov8/yolov8n_random.safetensors");
/// use frame_select::burn::backend::Flex;
/// use frame_select::burn::tensor::Tensor;
/// use frame_select::detect::yolo::{STRIDES, YoloV8};
/// let device = Default::default();
/// let model = YoloV8::<Flex>::load(weights, &device)?;
/// let out = model.forward_raw(Tensor::<Flex, 4>::ones([1, 3, 64, 64], &device));
/// // One anchor per cell of each level: 8x8 + 4x4 + 2x2.
/// let anchors: usize = STRIDES.iter().map(|s| (64 / s) * (64 / s)).sum();
/// assert_eq!(out.dims(), [1, 4 + 80, anchors]);
/// let v: Vec<f32> = out.into_data().convert::<f32>().to_vec().unwrap();
/// // Rows 2 and 3 are box widths and heights (>= 0), rows 4.. probabilities.
/// assert!(v[2 * anchors..4 * anchors].iter().all(|&s| s >= 0.0));
/// assert!(v[4 * anchors..].iter().all(|&p| (0.0..=1.0).contains(&p)));
/// # Ok::<(), frame_select::detect::DetectError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DetectHead<B: Backend> {
    boxes: Vec<(ConvBnSilu<B>, ConvBnSilu<B>, PlainConv<B>)>,
    classes: Vec<(ConvBnSilu<B>, ConvBnSilu<B>, PlainConv<B>)>,
    /// Number of classes.
    pub num_classes: usize,
}

/// DFL bins per box side.
const REG_MAX: usize = 16;
/// Strides of the three levels.
pub const STRIDES: [usize; 3] = [8, 16, 32];

impl<B: Backend> DetectHead<B> {
    /// Loads `prefix.cv2.{i}` (boxes) and `prefix.cv3.{i}` (classes) of
    /// Ultralytics' `Detect(num_classes, ch)`.
    pub(crate) fn load(
        t: &mut Taker,
        prefix: &str,
        ch: [usize; 3],
        num_classes: usize,
        device: &B::Device,
    ) -> Option<Self> {
        // Hidden widths as in Ultralytics' `Detect.__init__`.
        let c_box = 16.max(ch[0] / 4).max(4 * REG_MAX);
        let c_cls = ch[0].max(num_classes.min(100));
        let branch = |t: &mut Taker, name: &str, i: usize, hidden: usize, out: usize| {
            let p = |j: usize| format!("{prefix}.{name}.{i}.{j}");
            let a = ConvBnSilu::load(t, &p(0), [ch[i], hidden, 3], 1, device);
            let b = ConvBnSilu::load(t, &p(1), [hidden, hidden, 3], 1, device);
            let c = PlainConv::load(t, &p(2), [hidden, out], device);
            Some((a?, b?, c?))
        };
        let boxes: Vec<_> = (0..3)
            .map(|i| branch(t, "cv2", i, c_box, 4 * REG_MAX))
            .collect();
        let classes: Vec<_> = (0..3)
            .map(|i| branch(t, "cv3", i, c_cls, num_classes))
            .collect();
        // The DFL projection is the fixed vector 0..16, not a learnt weight.
        t.discard(&format!("{prefix}.dfl.conv.weight"));
        let boxes: Vec<_> = boxes.into_iter().collect::<Option<_>>()?;
        let classes: Vec<_> = classes.into_iter().collect::<Option<Vec<_>>>()?;
        Some(Self {
            boxes,
            classes,
            num_classes,
        })
    }

    /// Raw output for the three feature maps (strides 8, 16, 32).
    pub fn forward(&self, feats: [Tensor<B, 4>; 3]) -> Tensor<B, 3> {
        let device = feats[0].device();
        let mut box_parts = Vec::new();
        let mut cls_parts = Vec::new();
        let mut anchors: Vec<f32> = Vec::new();
        let mut strides: Vec<f32> = Vec::new();
        for (i, x) in feats.into_iter().enumerate() {
            let [b, _, h, w] = x.dims();
            let (b0, b1, b2) = &self.boxes[i];
            let (c0, c1, c2) = &self.classes[i];
            box_parts.push(b2.forward(b1.forward(b0.forward(x.clone()))).reshape([
                b,
                4 * REG_MAX,
                h * w,
            ]));
            cls_parts.push(c2.forward(c1.forward(c0.forward(x))).reshape([
                b,
                self.num_classes,
                h * w,
            ]));
            for y in 0..h {
                for xx in 0..w {
                    anchors.push(xx as f32 + 0.5);
                    anchors.push(y as f32 + 0.5);
                    strides.push(STRIDES[i] as f32);
                }
            }
        }
        let dist = Tensor::cat(box_parts, 2);
        let cls = Tensor::cat(cls_parts, 2);
        let [b, _, a] = dist.dims();
        // DFL: softmax over the 16 bins of each side, expectation of 0..15.
        let probs = softmax(dist.reshape([b, 4, REG_MAX, a]), 2);
        let bins = Tensor::<B, 1>::from_data(
            TensorData::new((0..REG_MAX).map(|v| v as f32).collect(), [REG_MAX]),
            &device,
        )
        .reshape([1, 1, REG_MAX, 1]);
        let sides = (probs * bins).sum_dim(2).reshape([b, 4, a]);
        let anchors = Tensor::<B, 2>::from_data(TensorData::new(anchors, [a, 2]), &device)
            .transpose()
            .reshape([1, 2, a]);
        let strides =
            Tensor::<B, 1>::from_data(TensorData::new(strides, [a]), &device).reshape([1, 1, a]);
        let lt = sides.clone().narrow(1, 0, 2);
        let rb = sides.narrow(1, 2, 2);
        let x1y1 = anchors.clone() - lt;
        let x2y2 = anchors + rb;
        let centre = (x1y1.clone() + x2y2.clone()) / 2.0;
        let size = x2y2 - x1y1;
        let xywh = Tensor::cat(vec![centre, size], 1) * strides;
        Tensor::cat(vec![xywh, burn::tensor::activation::sigmoid(cls)], 1)
    }
}
