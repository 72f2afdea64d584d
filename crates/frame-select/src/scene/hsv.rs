//! OpenCV-exact colour conversion for shot detection: 8-bit BGR -> HSV
//! (`cv2.COLOR_BGR2HSV`, hue 0..179) in OpenCV's integer arithmetic, so the
//! per-frame scores equal PySceneDetect's to the last bit.

use ndarray::ArrayView3;

/// Fixed-point shift of OpenCV's `RGB2HSV_b`.
const HSV_SHIFT: u32 = 12;

/// OpenCV's division tables: `sdiv[v] = round((255 << 12) / v)` and
/// `hdiv[d] = round((180 << 12) / (6 d))`, entry 0 = 0. No entry is a tie,
/// so the rounding mode does not matter.
struct Tables {
    sdiv: [i32; 256],
    hdiv: [i32; 256],
}

fn tables() -> &'static Tables {
    static T: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut sdiv = [0i32; 256];
        let mut hdiv = [0i32; 256];
        for i in 1..256 {
            sdiv[i] = (f64::from(255u32 << HSV_SHIFT) / i as f64).round() as i32;
            hdiv[i] = (f64::from(180u32 << HSV_SHIFT) / (6.0 * i as f64)).round() as i32;
        }
        Tables { sdiv, hdiv }
    })
}

/// Hue, saturation and value planes of a frame, each `height * width`
/// bytes, row-major.
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::scene::HsvPlanes;
/// // One red and one mid-grey pixel.
/// let rgb = Array3::from_shape_vec((1, 2, 3), vec![255, 0, 0, 128, 128, 128]).unwrap();
/// let planes = HsvPlanes::from_rgb(rgb.view());
/// assert_eq!((planes.width, planes.height), (2, 1));
/// assert_eq!(planes.hue, vec![0, 0]);
/// assert_eq!(planes.sat, vec![255, 0]);
/// assert_eq!(planes.lum, vec![255, 128]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HsvPlanes {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Hue, 0..=179 (OpenCV's half-degree scale).
    pub hue: Vec<u8>,
    /// Saturation, 0..=255.
    pub sat: Vec<u8>,
    /// Value (max of R, G, B), 0..=255; PySceneDetect calls it luma.
    pub lum: Vec<u8>,
}

/// One pixel through OpenCV's `RGB2HSV_b` (`hrange` 180).
///
/// ```
/// use frame_select::scene::hsv::hsv_pixel;
/// // Hue on OpenCV's 0..180 scale: red 0, green 60, blue 120.
/// assert_eq!(hsv_pixel(255, 0, 0), (0, 255, 255));
/// assert_eq!(hsv_pixel(0, 255, 0), (60, 255, 255));
/// assert_eq!(hsv_pixel(0, 0, 255), (120, 255, 255));
/// assert_eq!(hsv_pixel(128, 128, 128), (0, 0, 128));
/// ```
#[inline]
pub fn hsv_pixel(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let t = tables();
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let v = r.max(g).max(b);
    let vmin = r.min(g).min(b);
    let diff = v - vmin;
    let half = 1 << (HSV_SHIFT - 1);
    let s = (diff * t.sdiv[v as usize] + half) >> HSV_SHIFT;
    // OpenCV's branch order: red wins ties with green, green with blue.
    let h = if v == r {
        g - b
    } else if v == g {
        b - r + 2 * diff
    } else {
        r - g + 4 * diff
    };
    let mut h = (h * t.hdiv[diff as usize] + half) >> HSV_SHIFT;
    if h < 0 {
        h += 180;
    }
    (h as u8, s as u8, v as u8)
}

impl HsvPlanes {
    /// Converts an RGB frame (`height x width x 3`).
    pub fn from_rgb(rgb: ArrayView3<'_, u8>) -> Self {
        let (height, width, _) = rgb.dim();
        let n = width * height;
        let (mut hue, mut sat, mut lum) = (vec![0u8; n], vec![0u8; n], vec![0u8; n]);
        let owned;
        let flat = match rgb.as_slice() {
            Some(f) => f,
            None => {
                owned = rgb.as_standard_layout().into_owned();
                owned.as_slice().expect("standard layout")
            }
        };
        for (((p, h), s), v) in flat
            .chunks_exact(3)
            .zip(hue.iter_mut())
            .zip(sat.iter_mut())
            .zip(lum.iter_mut())
        {
            (*h, *s, *v) = hsv_pixel(p[0], p[1], p[2]);
        }
        Self {
            width,
            height,
            hue,
            sat,
            lum,
        }
    }
}

/// Mean absolute difference of two planes, as PySceneDetect's
/// `_mean_pixel_distance` (sum of |a - b| over pixels / pixel count).
///
/// ```
/// use frame_select::scene::hsv::mean_pixel_distance;
/// // |0-5| + |10-10| + |20-0| = 25 over 3 pixels.
/// assert_eq!(mean_pixel_distance(&[0, 10, 20], &[5, 10, 0]), 25.0 / 3.0);
/// assert_eq!(mean_pixel_distance(&[], &[]), 0.0);
/// ```
pub fn mean_pixel_distance(a: &[u8], b: &[u8]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return 0.0;
    }
    // Sum in chunks of u32 so the inner loop vectorises.
    let mut total = 0u64;
    for (ca, cb) in a.chunks(1 << 16).zip(b.chunks(1 << 16)) {
        let s: u32 = ca
            .iter()
            .zip(cb)
            .map(|(x, y)| u32::from(x.abs_diff(*y)))
            .sum();
        total += u64::from(s);
    }
    total as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_colours() {
        // Values OpenCV returns for these BGR pixels (pure colours follow
        // from the formula: red 0, green 60, blue 120 on the 0..179 scale).
        assert_eq!(hsv_pixel(255, 0, 0), (0, 255, 255));
        assert_eq!(hsv_pixel(0, 255, 0), (60, 255, 255));
        assert_eq!(hsv_pixel(0, 0, 255), (120, 255, 255));
        assert_eq!(hsv_pixel(0, 0, 0), (0, 0, 0));
        assert_eq!(hsv_pixel(128, 128, 128), (0, 0, 128));
        // Magenta-ish: r = v, g < b -> negative hue wraps: (g - b) = -100,
        // diff 200 -> hdiv 614 -> (-61400 + 2048) >> 12 = -15 -> 165.
        assert_eq!(hsv_pixel(200, 0, 100), (165, 255, 200));
    }

    #[test]
    fn distance_is_mean_abs() {
        assert_eq!(
            mean_pixel_distance(&[0, 10, 255], &[5, 0, 0]),
            (5.0 + 10.0 + 255.0) / 3.0
        );
    }
}
