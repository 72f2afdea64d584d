//! Frame quality: sharpness, exposure, blank frames and static content.
//!
//! The measures are the ones curation pipelines use with OpenCV, computed the
//! same way so thresholds carry over:
//! - sharpness: variance of the Laplacian of the grey image
//!   (`cv2.Laplacian(gray, cv2.CV_64F).var()`, 3x3 aperture-1 kernel, border
//!   reflected without repeating the edge pixel),
//! - grey: OpenCV's `COLOR_RGB2GRAY` fixed-point weights
//!   (0.299, 0.587, 0.114 in 14-bit fixed point, rounded),
//! - exposure: mean grey level and the shares of pixels at the dark and
//!   bright clipping ends,
//! - blank: the grey image is (almost) uniform (standard deviation below a
//!   threshold), black if it is also dark,
//! - static content: mean absolute grey difference between frames.

use ndarray::{Array2, ArrayView2, ArrayView3};

/// OpenCV's RGB -> grey conversion (`cv::COLOR_RGB2GRAY` on 8-bit input):
/// `(R*4899 + G*9617 + B*1868 + 8192) >> 14`.
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::quality::gray;
/// // One red, one green and one white pixel.
/// let rgb = Array3::from_shape_vec((1, 3, 3), vec![255, 0, 0, 0, 255, 0, 255, 255, 255]).unwrap();
/// let g = gray(rgb.view());
/// assert_eq!(g.as_slice().unwrap(), &[76, 150, 255]);
/// ```
pub fn gray(rgb: ArrayView3<'_, u8>) -> Array2<u8> {
    let (h, w, _) = rgb.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        let (r, g, b) = (
            u32::from(rgb[[y, x, 0]]),
            u32::from(rgb[[y, x, 1]]),
            u32::from(rgb[[y, x, 2]]),
        );
        ((r * 4899 + g * 9617 + b * 1868 + 8192) >> 14) as u8
    })
}

/// Variance of the Laplacian (`[0 1 0; 1 -4 1; 0 1 0]`, border
/// `BORDER_REFLECT_101` as OpenCV's default). Higher is sharper; blurred or
/// out-of-focus frames score low (under ~100 on 8-bit video is the common
/// "blurry" cut-off).
///
/// ```
/// use frame_select::ndarray::{Array2, array};
/// use frame_select::quality::laplacian_variance;
/// assert_eq!(laplacian_variance(Array2::from_elem((5, 7), 77u8).view()), 0.0);
/// // One bright pixel: Laplacian -40 at the centre, 20 at its four
/// // neighbours (the border reflects), 0 at the corners: mean 40 / 9,
/// // variance 3200 / 9 - (40 / 9)^2 = 27200 / 81.
/// let dot = array![[0u8, 0, 0], [0, 10, 0], [0, 0, 0]];
/// assert!((laplacian_variance(dot.view()) - 27200.0 / 81.0).abs() < 1e-9);
/// ```
pub fn laplacian_variance(gray: ArrayView2<'_, u8>) -> f64 {
    let (h, w) = gray.dim();
    if h == 0 || w == 0 {
        return 0.0;
    }
    let refl = reflect_101;
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    for y in 0..h {
        let (yu, yd) = (refl(y as isize - 1, h), refl(y as isize + 1, h));
        for x in 0..w {
            let (xl, xr) = (refl(x as isize - 1, w), refl(x as isize + 1, w));
            let v = i32::from(gray[[yu, x]])
                + i32::from(gray[[yd, x]])
                + i32::from(gray[[y, xl]])
                + i32::from(gray[[y, xr]])
                - 4 * i32::from(gray[[y, x]]);
            let v = f64::from(v);
            sum += v;
            sum_sq += v * v;
        }
    }
    let n = (h * w) as f64;
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0)
}

/// OpenCV's `BORDER_REFLECT_101` for an index one step outside `0..n`:
/// -1 -> 1, n -> n - 2 (a 1-pixel axis reflects onto itself).
pub(crate) fn reflect_101(i: isize, n: usize) -> usize {
    if n == 1 {
        0
    } else if i < 0 {
        (-i) as usize
    } else if i as usize >= n {
        2 * (n - 1) - i as usize
    } else {
        i as usize
    }
}

/// Mean absolute difference of two grey images of the same size (0..255);
/// `None` if the sizes differ.
///
/// ```
/// use frame_select::ndarray::Array2;
/// use frame_select::quality::mean_abs_diff;
/// let a = Array2::from_elem((2, 2), 10u8);
/// let b = Array2::from_elem((2, 2), 14u8);
/// assert_eq!(mean_abs_diff(a.view(), b.view()), Some(4.0));
/// assert_eq!(mean_abs_diff(a.view(), Array2::from_elem((2, 3), 14u8).view()), None);
/// ```
pub fn mean_abs_diff(a: ArrayView2<'_, u8>, b: ArrayView2<'_, u8>) -> Option<f64> {
    if a.dim() != b.dim() || a.is_empty() {
        return None;
    }
    let total: u64 = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    Some(total as f64 / a.len() as f64)
}

/// Thresholds of [`FrameQuality::measure`].
///
/// ```
/// use frame_select::ndarray::Array2;
/// use frame_select::quality::{FrameQuality, QualityThresholds};
/// // A stricter blank test: a grey std below 10 counts as blank.
/// let t = QualityThresholds { blank_std: 10.0, ..QualityThresholds::default() };
/// assert_eq!(t.dark_level, 16);
/// // Rows alternating 100 / 110 have std 5: blank here, not by default.
/// let stripes = Array2::from_shape_fn((4, 4), |(y, _)| if y % 2 == 0 { 100u8 } else { 110 });
/// assert!(FrameQuality::measure(stripes.view(), &t).blank);
/// assert!(!FrameQuality::measure(stripes.view(), &QualityThresholds::default()).blank);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct QualityThresholds {
    /// Grey levels at or below this count as clipped dark.
    pub dark_level: u8,
    /// Grey levels at or above this count as clipped bright.
    pub bright_level: u8,
    /// A frame whose grey standard deviation is below this is blank.
    pub blank_std: f64,
    /// A blank frame with mean grey below this is black.
    pub black_mean: f64,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        Self {
            dark_level: 16,
            bright_level: 239,
            blank_std: 3.0,
            black_mean: 20.0,
        }
    }
}

/// Quality measures of one frame.
///
/// ```
/// use frame_select::ndarray::Array2;
/// use frame_select::quality::{FrameQuality, QualityThresholds};
/// let t = QualityThresholds::default();
/// // Left half black, right half white.
/// let half = Array2::from_shape_fn((4, 4), |(_, x)| if x < 2 { 0u8 } else { 255 });
/// let q = FrameQuality::measure(half.view(), &t);
/// assert_eq!((q.dark_fraction, q.bright_fraction, q.mean_luma), (0.5, 0.5, 127.5));
/// assert!(!q.blank);
/// let black = FrameQuality::measure(Array2::from_elem((4, 4), 2u8).view(), &t);
/// assert!(black.blank && black.black);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameQuality {
    /// Variance of the Laplacian of the grey frame.
    pub sharpness: f64,
    /// Mean grey level, 0..255.
    pub mean_luma: f64,
    /// Standard deviation of the grey level.
    pub std_luma: f64,
    /// Share of pixels at or below the dark clipping level.
    pub dark_fraction: f64,
    /// Share of pixels at or above the bright clipping level.
    pub bright_fraction: f64,
    /// The frame is (almost) uniform.
    pub blank: bool,
    /// The frame is blank and dark.
    pub black: bool,
}

impl FrameQuality {
    /// Measures a grey frame.
    pub fn measure(gray: ArrayView2<'_, u8>, t: &QualityThresholds) -> Self {
        let n = gray.len().max(1) as f64;
        let (mut sum, mut sum_sq, mut dark, mut bright) = (0u64, 0u64, 0u64, 0u64);
        for &v in gray.iter() {
            sum += u64::from(v);
            sum_sq += u64::from(v) * u64::from(v);
            dark += u64::from(v <= t.dark_level);
            bright += u64::from(v >= t.bright_level);
        }
        let mean = sum as f64 / n;
        let std = (sum_sq as f64 / n - mean * mean).max(0.0).sqrt();
        let blank = std < t.blank_std;
        Self {
            sharpness: laplacian_variance(gray),
            mean_luma: mean,
            std_luma: std,
            dark_fraction: dark as f64 / n,
            bright_fraction: bright as f64 / n,
            blank,
            black: blank && mean < t.black_mean,
        }
    }
}

/// Per-scene summary of sampled frames.
///
/// ```
/// use frame_select::ndarray::Array2;
/// use frame_select::quality::{FrameQuality, QualitySummary, QualityThresholds};
/// let t = QualityThresholds::default();
/// let flat = |v: u8| FrameQuality::measure(Array2::from_elem((2, 2), v).view(), &t);
/// let summary = QualitySummary::of(&[flat(10), flat(100), flat(200)], &[4.0, 6.0]);
/// assert_eq!(summary.frames, 3);
/// assert_eq!(summary.motion, Some(5.0));
/// assert_eq!(summary.blank_fraction, 1.0); // flat frames are blank
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QualitySummary {
    /// Frames measured.
    pub frames: usize,
    /// Median sharpness.
    pub median_sharpness: f64,
    /// Mean of the mean grey levels.
    pub mean_luma: f64,
    /// Mean of the dark-clipped shares.
    pub dark_fraction: f64,
    /// Mean of the bright-clipped shares.
    pub bright_fraction: f64,
    /// Share of blank frames.
    pub blank_fraction: f64,
    /// Mean absolute grey difference between consecutive measured frames
    /// (0 for a frozen picture); `None` with fewer than two frames.
    pub motion: Option<f64>,
}

impl QualitySummary {
    /// Summarises per-frame measures and the differences between
    /// consecutive measured frames.
    pub fn of(frames: &[FrameQuality], diffs: &[f64]) -> Self {
        if frames.is_empty() {
            return Self::default();
        }
        let n = frames.len() as f64;
        let mut sharp: Vec<f64> = frames.iter().map(|f| f.sharpness).collect();
        sharp.sort_by(f64::total_cmp);
        let mid = sharp.len() / 2;
        let median = if sharp.len() % 2 == 1 {
            sharp[mid]
        } else {
            (sharp[mid - 1] + sharp[mid]) / 2.0
        };
        Self {
            frames: frames.len(),
            median_sharpness: median,
            mean_luma: frames.iter().map(|f| f.mean_luma).sum::<f64>() / n,
            dark_fraction: frames.iter().map(|f| f.dark_fraction).sum::<f64>() / n,
            bright_fraction: frames.iter().map(|f| f.bright_fraction).sum::<f64>() / n,
            blank_fraction: frames.iter().filter(|f| f.blank).count() as f64 / n,
            motion: (!diffs.is_empty()).then(|| diffs.iter().sum::<f64>() / diffs.len() as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};

    #[test]
    fn gray_matches_opencv_fixed_point() {
        // Hand-computed with OpenCV's integer formula.
        let rgb =
            Array3::from_shape_vec((1, 3, 3), vec![255, 0, 0, 0, 255, 0, 10, 20, 200]).unwrap();
        let g = gray(rgb.view());
        assert_eq!(g[[0, 0]], ((255 * 4899 + 8192) >> 14) as u8); // 76
        assert_eq!(g[[0, 1]], 150);
        assert_eq!(
            g[[0, 2]],
            ((10 * 4899 + 20 * 9617 + 200 * 1868 + 8192) >> 14) as u8
        );
        assert_eq!(g[[0, 0]], 76);
    }

    #[test]
    fn laplacian_of_a_single_bright_pixel() {
        // 3x3, centre 10: Laplacian with reflect-101 borders is
        // centre -40, its 4 neighbours each get 10 from the centre plus the
        // reflected centre for edge pixels.
        let g = array![[0u8, 0, 0], [0, 10, 0], [0, 0, 0]];
        // Values: corners 0; edge midpoints: up/down neighbour reflect onto
        // the centre row -> 10 (centre) + 10 (reflection) = 20; centre -40.
        let vals = [0.0, 20.0, 0.0, 20.0, -40.0, 20.0, 0.0, 20.0, 0.0f64];
        let mean = vals.iter().sum::<f64>() / 9.0;
        let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 9.0;
        assert!((laplacian_variance(g.view()) - var).abs() < 1e-9);
        let flat = Array2::from_elem((5, 7), 77u8);
        assert_eq!(laplacian_variance(flat.view()), 0.0);
    }

    #[test]
    fn blank_black_and_clipping() {
        let t = QualityThresholds::default();
        let black = Array2::from_elem((4, 4), 2u8);
        let q = FrameQuality::measure(black.view(), &t);
        assert!(q.blank && q.black);
        assert_eq!(q.dark_fraction, 1.0);
        let half = Array2::from_shape_fn((4, 4), |(_, x)| if x < 2 { 0 } else { 255 });
        let q = FrameQuality::measure(half.view(), &t);
        assert!(!q.blank);
        assert_eq!((q.dark_fraction, q.bright_fraction), (0.5, 0.5));
        assert_eq!(q.mean_luma, 127.5);
        assert_eq!(
            mean_abs_diff(black.view(), half.view()),
            Some((2.0 * 8.0 + 253.0 * 8.0) / 16.0)
        );
    }

    #[test]
    fn summary_median_and_motion() {
        let t = QualityThresholds::default();
        let f = |v: u8| FrameQuality::measure(Array2::from_elem((2, 2), v).view(), &t);
        let frames = [f(10), f(100), f(200)];
        let s = QualitySummary::of(&frames, &[4.0, 6.0]);
        assert_eq!(s.frames, 3);
        assert_eq!(s.motion, Some(5.0));
        assert!((s.mean_luma - 310.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.blank_fraction, 1.0);
    }
}
