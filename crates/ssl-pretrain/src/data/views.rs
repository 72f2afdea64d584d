//! From decoded frames to the model's input: the reference's crop, resize,
//! `ToTorchFormatTensor(div=True)` and `GroupNormalize`, laid out as
//! `(T, C, H, W)` per view, the layout `videomae` takes per clip (Hugging
//! Face's `pixel_values` order; the reference's `(C, T, H, W)` transposed).

use ndarray::{Array3, s};
use videomae::masking::MaskRng;

use super::crop::{CropBox, MultiScaleCrop};
use super::resize::resize_bilinear;

/// ImageNet channel means (RGB), the reference's `GroupNormalize`.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB).
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// One view of a clip: `frames` crops of `size x size`, normalised, as
/// `(T, C, H, W)` row-major values, with the crop box it came from.
///
/// ```
/// use ndarray::Array3;
/// use ssl_pretrain::data::{CropBox, normalised_view};
/// let view = normalised_view(&[Array3::zeros((8, 8, 3))], CropBox { x: 0, y: 0, w: 8, h: 8 }, 4);
/// assert_eq!((view.pixels.len(), view.crop.w), (3 * 4 * 4, 8));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClipView {
    /// Normalised pixels, `frames * 3 * size * size` values.
    pub pixels: Vec<f32>,
    /// The crop box, in source pixels.
    pub crop: CropBox,
}

/// Crops every frame at `crop`, resizes the crop to `size x size` with
/// Pillow's bilinear filter, and normalises with the ImageNet statistics,
/// in the reference's order of operations and precision (`x / 255`, then
/// `- mean`, then `/ std`, in `f32`).
///
/// ```
/// use ndarray::Array3;
/// use ssl_pretrain::data::{CropBox, IMAGENET_MEAN, IMAGENET_STD, normalised_view};
/// let frames = vec![Array3::<u8>::from_elem((6, 8, 3), 255); 2];
/// let crop = CropBox { x: 2, y: 1, w: 4, h: 4 };
/// let view = normalised_view(&frames, crop, 2);
/// assert_eq!(view.pixels.len(), 2 * 3 * 2 * 2); // (T, C, H, W)
/// let white_red = (1.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
/// assert_eq!(view.pixels[0], white_red);
/// ```
///
/// # Panics
/// If a frame is not `h x w x 3` or the box does not lie inside it.
pub fn normalised_view(frames: &[Array3<u8>], crop: CropBox, size: usize) -> ClipView {
    let plane = size * size;
    // Filled by pushing: zeroing 9.6 MB per view first cost a sixth of the
    // time.
    let mut pixels: Vec<f32> = Vec::with_capacity(frames.len() * 3 * plane);
    // Each byte's normalised value, computed once per channel in the
    // reference's order (so the table holds exactly what the per-pixel
    // arithmetic would give).
    let table: [[f32; 256]; 3] = std::array::from_fn(|c| {
        std::array::from_fn(|v| (v as f32 / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c])
    });
    for frame in frames {
        assert_eq!(frame.dim().2, 3, "frames are RGB");
        let region = frame.slice(s![crop.y..crop.y + crop.h, crop.x..crop.x + crop.w, ..]);
        let resized = if (crop.w, crop.h) == (size, size) {
            region.to_owned()
        } else {
            resize_bilinear(region, size, size)
        };
        let resized = resized.as_standard_layout();
        let bytes = resized.as_slice().expect("standard layout");
        for (c, table) in table.iter().enumerate() {
            pixels.extend(bytes[c..].iter().step_by(3).map(|&v| table[usize::from(v)]));
        }
    }
    ClipView { pixels, crop }
}

/// `count` views of one decoded clip, each with its own multi-scale crop
/// (the reference's `num_sample` repeated augmentation: one decode, views
/// cropped independently).
///
/// ```
/// use ndarray::Array3;
/// use ssl_pretrain::data::{MultiScaleCrop, repeated_views};
/// use videomae::masking::MaskRng;
/// let frames = vec![Array3::<u8>::zeros((40, 60, 3)); 4];
/// let crop = MultiScaleCrop { input_size: 32, ..MultiScaleCrop::default() };
/// let views = repeated_views(&frames, &crop, 4, &mut MaskRng::seed(0));
/// assert_eq!(views.len(), 4);
/// assert!(views.iter().all(|v| v.pixels.len() == 4 * 3 * 32 * 32));
/// ```
pub fn repeated_views(
    frames: &[Array3<u8>],
    crop: &MultiScaleCrop,
    count: usize,
    rng: &mut MaskRng,
) -> Vec<ClipView> {
    let Some(first) = frames.first() else {
        return Vec::new();
    };
    let (h, w, _) = first.dim();
    (0..count)
        .map(|_| normalised_view(frames, crop.sample(w, h, rng), crop.input_size))
        .collect()
}
