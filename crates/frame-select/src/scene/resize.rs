//! PySceneDetect's automatic downscaling and OpenCV's `cv2.resize(...,
//! INTER_LINEAR)` on 8-bit 3-channel frames, in OpenCV's fixed-point
//! arithmetic (11-bit coefficients; the vertical pass as OpenCV's 128-bit
//! SIMD kernel computes it, which opencv-python's SSE baseline runs), so
//! downscaled frames equal PySceneDetect's byte for byte.

use ndarray::{Array3, ArrayView3};

/// PySceneDetect's `DEFAULT_MIN_WIDTH`.
pub const EFFECTIVE_WIDTH: u32 = 256;

/// Size PySceneDetect scores frames at: unchanged when the larger side is
/// at most 256 pixels, else scaled by `max(width, height) / 256` with each
/// side rounded half-to-even (`compute_downscale_factor` and the
/// `cv2.resize` call of `SceneManager`).
///
/// ```
/// use frame_select::scene::resize::detection_size;
/// assert_eq!(detection_size(1280, 720), (256, 144));
/// assert_eq!(detection_size(720, 1280), (144, 256)); // portrait: the larger side
/// assert_eq!(detection_size(200, 100), (200, 100)); // small frames stay
/// ```
pub fn detection_size(width: u32, height: u32) -> (u32, u32) {
    let largest = width.max(height);
    if largest <= EFFECTIVE_WIDTH {
        return (width, height);
    }
    let factor = f64::from(largest) / f64::from(EFFECTIVE_WIDTH);
    let side = |s: u32| ((f64::from(s) / factor).round_ties_even() as u32).max(1);
    (side(width), side(height))
}

/// A [`LinearResizer`] kept for the next frame and rebuilt only when the
/// frame or target size changes.
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::scene::resize::ResizerCache;
/// let mut cache = ResizerCache::default();
/// let frame = Array3::from_elem((720, 1280, 3), 50u8);
/// let small = cache.to_detection_size(frame.view()).expect("shrunk");
/// assert_eq!(small.dim(), (144, 256, 3));
/// assert!(small.iter().all(|&v| v == 50)); // a flat frame stays flat
/// // Already at the target size: nothing to do.
/// assert!(cache.resize(small.view(), (256, 144)).is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ResizerCache {
    resizer: Option<LinearResizer>,
}

impl ResizerCache {
    /// `rgb` resized to `target` `(width, height)`; `None` when it already
    /// has that size, or when it or `target` has no pixels or `rgb` is not
    /// 3-channel (nothing to interpolate: use the frame as it is).
    pub fn resize(&mut self, rgb: ArrayView3<'_, u8>, target: (u32, u32)) -> Option<Array3<u8>> {
        let (h, w, c) = rgb.dim();
        if target == (w as u32, h as u32)
            || w == 0
            || h == 0
            || c != 3
            || target.0 == 0
            || target.1 == 0
        {
            return None;
        }
        let r = match &mut self.resizer {
            Some(r) if r.matches(w, h, target) => r,
            _ => self.resizer.insert(LinearResizer::new(
                w,
                h,
                target.0 as usize,
                target.1 as usize,
            )),
        };
        Some(r.resize(rgb))
    }

    /// `rgb` shrunk to [`detection_size`], as PySceneDetect scores it;
    /// `None` when no shrinking is needed.
    pub fn to_detection_size(&mut self, rgb: ArrayView3<'_, u8>) -> Option<Array3<u8>> {
        let (h, w, _) = rgb.dim();
        self.resize(rgb, detection_size(w as u32, h as u32))
    }
}

const COEF_BITS: u32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// Source index and fixed-point weights per output coordinate, as OpenCV's
/// `resize` computes them (`fx` in single precision, weights
/// `round((1 - fx) * 2048)` and `round(fx * 2048)`).
fn axis(src: usize, dst: usize, clamp_in_table: bool) -> Vec<(usize, i32, i32)> {
    let inv_scale = dst as f64 / src as f64;
    let scale = 1.0 / inv_scale;
    (0..dst)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as isize;
            let mut f = f - s as f32;
            if clamp_in_table {
                if s < 0 {
                    f = 0.0;
                    s = 0;
                }
                if s >= src as isize - 1 {
                    f = 0.0;
                    s = src as isize - 1;
                }
            }
            let w0 = ((1.0 - f) * COEF_SCALE).round_ties_even() as i32;
            let w1 = (f * COEF_SCALE).round_ties_even() as i32;
            (s.max(0) as usize, w0, w1)
        })
        .collect()
}

/// A reusable resizer from one frame size to another.
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::scene::resize::LinearResizer;
/// // Exact halving averages each 2x2 block (OpenCV's fast path): 0, 10, 20, 30 -> 15.
/// let src = Array3::from_shape_fn((2, 2, 3), |(y, x, _)| (y * 20 + x * 10) as u8);
/// let resizer = LinearResizer::new(2, 2, 1, 1);
/// assert!(resizer.matches(2, 2, (1, 1)));
/// assert_eq!(resizer.resize(src.view()).into_raw_vec_and_offset().0, vec![15, 15, 15]);
/// ```
#[derive(Debug, Clone)]
pub struct LinearResizer {
    src: (usize, usize),
    dst: (usize, usize),
    /// Per output column: first source column, weights.
    xs: Vec<(usize, i32, i32)>,
    /// Per output row: first source row (unclamped), weights.
    ys: Vec<(isize, i32, i32)>,
    area_fast_2x: bool,
}

impl LinearResizer {
    /// A resizer from `src_w x src_h` to `dst_w x dst_h` (a zero side
    /// gives black frames, see [`LinearResizer::resize`]).
    pub fn new(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Self {
        let xs = axis(src_w, dst_w, true);
        // Rows keep their unclamped index; clamping happens when fetching.
        let inv = dst_h as f64 / src_h as f64;
        let scale_y = 1.0 / inv;
        let ys = (0..dst_h)
            .map(|d| {
                let f = ((d as f64 + 0.5) * scale_y - 0.5) as f32;
                let s = f.floor();
                let f = f - s;
                (
                    s as isize,
                    ((1.0 - f) * COEF_SCALE).round_ties_even() as i32,
                    (f * COEF_SCALE).round_ties_even() as i32,
                )
            })
            .collect();
        let scale_x = 1.0 / (dst_w as f64 / src_w as f64);
        let scale_y = 1.0 / (dst_h as f64 / src_h as f64);
        // OpenCV switches exact halving to its fast area path.
        let area_fast_2x =
            (scale_x - 2.0).abs() < f64::EPSILON && (scale_y - 2.0).abs() < f64::EPSILON;
        Self {
            src: (src_w, src_h),
            dst: (dst_w, dst_h),
            xs,
            ys,
            area_fast_2x,
        }
    }

    /// Whether this resizer maps `src_w x src_h` to `dst`.
    pub fn matches(&self, src_w: usize, src_h: usize, dst: (u32, u32)) -> bool {
        self.src == (src_w, src_h) && self.dst == (dst.0 as usize, dst.1 as usize)
    }

    /// Resizes an RGB (or any 3-channel) frame of the source size; a
    /// source or target without pixels gives a black target-sized frame.
    ///
    /// # Panics
    /// When `img` is not `(src_h, src_w, 3)` ([`ResizerCache`] checks
    /// that for you).
    pub fn resize(&self, img: ArrayView3<'_, u8>) -> Array3<u8> {
        let (sw, sh) = self.src;
        let (dw, dh) = self.dst;
        if sw == 0 || sh == 0 || dw == 0 || dh == 0 {
            return Array3::zeros((dh, dw, 3));
        }
        assert_eq!(
            img.dim(),
            (sh, sw, 3),
            "frame size differs from the resizer's source size"
        );
        let owned;
        let src = match img.as_slice() {
            Some(s) => s,
            None => {
                owned = img.as_standard_layout().into_owned();
                owned.as_slice().expect("standard layout")
            }
        };
        let mut out = vec![0u8; dw * dh * 3];
        if self.area_fast_2x {
            for y in 0..dh {
                for x in 0..dw {
                    for c in 0..3 {
                        let at = |yy: usize, xx: usize| u32::from(src[(yy * sw + xx) * 3 + c]);
                        let s = at(2 * y, 2 * x)
                            + at(2 * y, 2 * x + 1)
                            + at(2 * y + 1, 2 * x)
                            + at(2 * y + 1, 2 * x + 1);
                        out[(y * dw + x) * 3 + c] = ((s + 2) >> 2) as u8;
                    }
                }
            }
            return Array3::from_shape_vec((dh, dw, 3), out).expect("sized above");
        }
        // Horizontal pass into i32 rows (cached per source row: adjacent
        // output rows share source rows). Per output element: the source
        // offset of its left neighbour, of its right neighbour (the same
        // pixel at the right edge, where OpenCV multiplies the last pixel by
        // the full weight) and the two weights.
        let width = dw * 3;
        let (mut off0, mut off1, mut wt0, mut wt1) = (
            Vec::with_capacity(width),
            Vec::with_capacity(width),
            Vec::with_capacity(width),
            Vec::with_capacity(width),
        );
        for &(sx, w0, w1) in &self.xs {
            for c in 0..3 {
                off0.push(sx * 3 + c);
                if sx + 1 < sw {
                    off1.push((sx + 1) * 3 + c);
                    wt0.push(w0);
                    wt1.push(w1);
                } else {
                    off1.push(sx * 3 + c);
                    wt0.push(1 << COEF_BITS);
                    wt1.push(0);
                }
            }
        }
        let hrow = |y: usize, buf: &mut [i32]| {
            let row = &src[y * sw * 3..(y + 1) * sw * 3];
            for (((o, (&i0, &i1)), &w0), &w1) in buf
                .iter_mut()
                .zip(off0.iter().zip(&off1))
                .zip(&wt0)
                .zip(&wt1)
            {
                *o = i32::from(row[i0]) * w0 + i32::from(row[i1]) * w1;
            }
        };
        // opencv-python's SIMD baseline is 128-bit: the vector kernel covers
        // 16-byte blocks, then 8-byte blocks while x < width - 8; the rest
        // is scalar.
        let mut vec_end = 0;
        while vec_end + 16 <= width {
            vec_end += 16;
        }
        while vec_end + 8 < width {
            vec_end += 8;
        }
        let (mut r0, mut r1) = (vec![0i32; width], vec![0i32; width]);
        let (mut k0, mut k1) = (usize::MAX, usize::MAX);
        let clamp = |y: isize| y.clamp(0, sh as isize - 1) as usize;
        for (dy, &(sy, b0, b1)) in self.ys.iter().enumerate() {
            let (y0, y1) = (clamp(sy), clamp(sy + 1));
            if k0 != y0 {
                if k1 == y0 {
                    std::mem::swap(&mut r0, &mut r1);
                    k0 = k1;
                    k1 = usize::MAX;
                } else {
                    hrow(y0, &mut r0);
                    k0 = y0;
                }
            }
            // A zero weight on the second row (integer downscale factors)
            // makes it contribute nothing in either formula: skip it.
            if k1 != y1 && b1 != 0 {
                hrow(y1, &mut r1);
                k1 = y1;
            }
            let dst = &mut out[dy * width..(dy + 1) * width];
            let (dv, ds) = dst.split_at_mut(vec_end);
            for ((d, &s0), &s1) in dv.iter_mut().zip(&r0[..vec_end]).zip(&r1[..vec_end]) {
                let v = ((((s0 >> 4) * b0) >> 16) + (((s1 >> 4) * b1) >> 16) + 2) >> 2;
                *d = v.clamp(0, 255) as u8;
            }
            for ((d, &s0), &s1) in ds.iter_mut().zip(&r0[vec_end..]).zip(&r1[vec_end..]) {
                let v = (s0 * b0 + s1 * b1 + (1 << (2 * COEF_BITS - 1))) >> (2 * COEF_BITS);
                *d = v.clamp(0, 255) as u8;
            }
        }
        Array3::from_shape_vec((dh, dw, 3), out).expect("sized above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_sizes_follow_pyscenedetect() {
        assert_eq!(detection_size(176, 144), (176, 144));
        assert_eq!(detection_size(256, 100), (256, 100));
        assert_eq!(detection_size(768, 576), (256, 192));
        assert_eq!(detection_size(1280, 720), (256, 144));
        // Portrait: the larger side is the height.
        assert_eq!(detection_size(720, 1280), (144, 256));
        // 640x480: factor 2.5 -> 256 x 192.
        assert_eq!(detection_size(640, 480), (256, 192));
        assert_eq!(detection_size(720, 528), (256, 188)); // 187.73 -> 188
    }

    #[test]
    fn frames_without_pixels_do_not_panic() {
        // A zero-height frame clamped rows to `0..=-1`, which panicked.
        let r = LinearResizer::new(1000, 0, 256, 1).resize(Array3::zeros((0, 1000, 3)).view());
        assert_eq!(r.dim(), (1, 256, 3));
        let mut cache = ResizerCache::default();
        assert!(
            cache
                .to_detection_size(Array3::zeros((0, 1000, 3)).view())
                .is_none()
        );
        assert!(
            cache
                .resize(Array3::zeros((10, 10, 3)).view(), (0, 5))
                .is_none()
        );
        assert!(
            cache
                .resize(Array3::zeros((600, 800, 4)).view(), (8, 6))
                .is_none()
        );
    }

    #[test]
    fn flat_images_stay_flat_and_halving_averages() {
        let img = Array3::from_elem((30, 50, 3), 77u8);
        let r = LinearResizer::new(50, 30, 17, 11).resize(img.view());
        assert!(r.iter().all(|&v| v == 77));
        let img = Array3::from_shape_fn((2, 4, 3), |(y, x, _)| (y * 4 + x) as u8 * 10);
        let r = LinearResizer::new(4, 2, 2, 1).resize(img.view());
        // (0 + 10 + 40 + 50 + 2) / 4 = 25, (20 + 30 + 60 + 70 + 2) / 4 = 45
        assert_eq!(r[[0, 0, 0]], 25);
        assert_eq!(r[[0, 1, 2]], 45);
    }
}
