//! Multi-scale cropping as the reference's `GroupMultiScaleCrop` (TSN's
//! augmentation, used unchanged by VideoMAE and VideoMAE V2 pretraining):
//! one crop box per clip, the same for every frame, chosen from
//! - crop sizes `int(min(w, h) * s)` for `s` in `[1, .875, .75, .66]`, each
//!   snapped to the input size when within 3 pixels of it, paired as
//!   (width from scale j, height from scale i) for `|i - j| <= max_distort`;
//! - 13 fixed positions on a grid with steps `(w - crop_w) / 4` and
//!   `(h - crop_h) / 4` (floored): four corners, centre, the four edge
//!   midpoints and the four quarter points.
//!
//! The crop is then resized to the input size with Pillow's bilinear filter
//! ([`resize_bilinear`](super::resize_bilinear)); no flip.

use serde::{Deserialize, Serialize};
use videomae::masking::MaskRng;

/// A crop box in pixels: left, top, width, height.
///
/// ```
/// use ssl_pretrain::data::MultiScaleCrop;
/// use videomae::masking::MaskRng;
/// let b = MultiScaleCrop::default().sample(320, 240, &mut MaskRng::seed(3));
/// assert!(b.x + b.w <= 320 && b.y + b.h <= 240);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropBox {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
}

/// The reference's multi-scale crop settings.
///
/// ```
/// use ssl_pretrain::data::MultiScaleCrop;
/// let crop = MultiScaleCrop::default();
/// assert_eq!((crop.input_size, crop.scales.len(), crop.max_distort), (224, 4, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiScaleCrop {
    /// Output size (square), 224 for ViT-B/16 at 224.
    pub input_size: usize,
    /// Crop scales relative to the short side.
    pub scales: Vec<f64>,
    /// Largest index distance between the width's and the height's scale.
    pub max_distort: usize,
}

impl Default for MultiScaleCrop {
    /// VideoMAE V2 pretraining: 224, scales `[1, .875, .75, .66]`,
    /// `max_distort` 1.
    fn default() -> Self {
        MultiScaleCrop {
            input_size: 224,
            scales: vec![1.0, 0.875, 0.75, 0.66],
            max_distort: 1,
        }
    }
}

/// The 13 fixed crop positions `(x, y)` of the reference's
/// `fill_fix_offset(more_fix_crop=True, ...)`, in its order.
///
/// ```
/// use ssl_pretrain::data::fixed_offsets;
/// // A 320x240 frame, 168x180 crop: steps (320-168)/4 = 38, (240-180)/4 = 15.
/// let grid = fixed_offsets(320, 240, 168, 180);
/// assert_eq!(grid[..5], [(0, 0), (152, 0), (0, 60), (152, 60), (76, 30)]);
/// assert_eq!(grid[12], (114, 45)); // lower right quarter
/// ```
pub fn fixed_offsets(
    image_w: usize,
    image_h: usize,
    crop_w: usize,
    crop_h: usize,
) -> [(usize, usize); 13] {
    let ws = image_w.saturating_sub(crop_w) / 4;
    let hs = image_h.saturating_sub(crop_h) / 4;
    // (column, row) in grid steps: corners, centre, then the finer grid.
    [
        (0, 0),
        (4, 0),
        (0, 4),
        (4, 4),
        (2, 2),
        (0, 2),
        (4, 2),
        (2, 4),
        (2, 0),
        (1, 1),
        (3, 1),
        (1, 3),
        (3, 3),
    ]
    .map(|(i, j)| (i * ws, j * hs))
}

impl MultiScaleCrop {
    /// The `(width, height)` crop sizes the reference chooses among for a
    /// `image_w x image_h` frame, in its order (height scale outer, width
    /// scale inner).
    ///
    /// ```
    /// use ssl_pretrain::data::MultiScaleCrop;
    /// // Short side 240: sizes int(240 * s) = 240, 210, 180, 158; 224 is
    /// // more than 3 px from each, so none snaps.
    /// let pairs = MultiScaleCrop::default().crop_sizes(320, 240);
    /// assert_eq!(pairs.len(), 10);
    /// assert_eq!(pairs[..3], [(240, 240), (210, 240), (240, 210)]);
    /// // Short side 256: 256, 224, 192, 168; 224 is exact.
    /// assert_eq!(MultiScaleCrop::default().crop_sizes(340, 256)[1], (224, 256));
    /// ```
    pub fn crop_sizes(&self, image_w: usize, image_h: usize) -> Vec<(usize, usize)> {
        let base = image_w.min(image_h) as f64;
        // Python's int() truncates toward zero.
        let snap = |s: f64| {
            let size = (base * s) as usize;
            if size.abs_diff(self.input_size) < 3 {
                self.input_size
            } else {
                size
            }
        };
        let sizes: Vec<usize> = self.scales.iter().map(|&s| snap(s)).collect();
        let mut pairs = Vec::new();
        for (i, &h) in sizes.iter().enumerate() {
            for (j, &w) in sizes.iter().enumerate() {
                if i.abs_diff(j) <= self.max_distort {
                    pairs.push((w, h));
                }
            }
        }
        pairs
    }

    /// One random crop box for a frame of `image_w x image_h`: a size pair,
    /// then one of the 13 fixed positions, each uniformly. A frame smaller
    /// than a crop gives position 0 on that axis (and a crop clamped to the
    /// frame), where the reference would read outside the image.
    pub fn sample(&self, image_w: usize, image_h: usize, rng: &mut MaskRng) -> CropBox {
        let pairs = self.crop_sizes(image_w, image_h);
        let (w, h) = pairs[rng.below(pairs.len())];
        let (w, h) = (w.clamp(1, image_w.max(1)), h.clamp(1, image_h.max(1)));
        let grid = fixed_offsets(image_w, image_h, w, h);
        let (x, y) = grid[rng.below(grid.len())];
        CropBox { x, y, w, h }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_box_lies_inside_the_frame_and_uses_the_grid() {
        let crop = MultiScaleCrop::default();
        let mut rng = MaskRng::seed(7);
        for (w, h) in [(320, 240), (340, 256), (224, 224), (640, 360), (100, 60)] {
            let sizes = crop.crop_sizes(w, h);
            for _ in 0..200 {
                let b = crop.sample(w, h, &mut rng);
                assert!(b.x + b.w <= w && b.y + b.h <= h, "{b:?} in {w}x{h}");
                assert!(sizes.contains(&(b.w, b.h)), "{b:?}");
                assert!(fixed_offsets(w, h, b.w, b.h).contains(&(b.x, b.y)));
            }
        }
    }

    /// Hand-computed from the reference's `fill_fix_offset` and
    /// `_sample_crop_size` (steps are floored quarters of the slack).
    #[test]
    fn grids_and_sizes_equal_hand_computed_reference_cases() {
        assert_eq!(
            fixed_offsets(320, 240, 224, 224),
            [
                (0, 0),
                (96, 0),
                (0, 16),
                (96, 16),
                (48, 8),
                (0, 8),
                (96, 8),
                (48, 16),
                (48, 0),
                (24, 4),
                (72, 4),
                (24, 12),
                (72, 12)
            ]
        );
        assert_eq!(
            fixed_offsets(320, 240, 240, 210),
            [
                (0, 0),
                (80, 0),
                (0, 28),
                (80, 28),
                (40, 14),
                (0, 14),
                (80, 14),
                (40, 28),
                (40, 0),
                (20, 7),
                (60, 7),
                (20, 21),
                (60, 21)
            ]
        );
        // 340 - 168 = 172 = 4 x 43; 256 - 192 = 64 = 4 x 16.
        assert_eq!(
            fixed_offsets(340, 256, 168, 192),
            [
                (0, 0),
                (172, 0),
                (0, 64),
                (172, 64),
                (86, 32),
                (0, 32),
                (172, 32),
                (86, 64),
                (86, 0),
                (43, 16),
                (129, 16),
                (43, 48),
                (129, 48)
            ]
        );
        // 320 - 158 = 162: the right-hand crops stop 2 px short of the edge.
        assert_eq!(fixed_offsets(320, 240, 158, 158)[1], (160, 0));
        let crop = MultiScaleCrop::default();
        assert_eq!(
            crop.crop_sizes(340, 256),
            [
                (256, 256),
                (224, 256),
                (256, 224),
                (224, 224),
                (192, 224),
                (224, 192),
                (192, 192),
                (168, 192),
                (192, 168),
                (168, 168)
            ]
        );
        assert_eq!(
            crop.crop_sizes(320, 240),
            [
                (240, 240),
                (210, 240),
                (240, 210),
                (210, 210),
                (180, 210),
                (210, 180),
                (180, 180),
                (158, 180),
                (180, 158),
                (158, 158)
            ]
        );
    }

    #[test]
    fn sizes_pair_neighbouring_scales_only() {
        // Short side 300: 300, 262, 225 (snapped to 224), 198.
        let pairs = MultiScaleCrop::default().crop_sizes(400, 300);
        let want = [
            (300, 300),
            (262, 300),
            (300, 262),
            (262, 262),
            (224, 262),
            (262, 224),
            (224, 224),
            (198, 224),
            (224, 198),
            (198, 198),
        ];
        assert_eq!(pairs, want);
    }
}
