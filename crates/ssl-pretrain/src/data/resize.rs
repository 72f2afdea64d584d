//! Bilinear resize of RGB frames, bit-exact with Pillow's
//! `Image.resize(size, Image.BILINEAR)`, the resize of the reference's
//! `GroupMultiScaleCrop` (VideoMAE and VideoMAE V2 crop PIL images, then
//! resize each crop to the input size).
//!
//! Pillow's resampler is separable and works in fixed point: a triangle
//! filter whose support widens with the downscale factor (so shrinking
//! averages every source pixel, unlike OpenCV's `INTER_LINEAR`), weights
//! normalised per output pixel and rounded to 22 fractional bits, a
//! horizontal pass into 8-bit rows, then a vertical pass, each rounding and
//! clamping to `u8`. This module follows the same arithmetic, so a crop
//! resized here equals Pillow's byte for byte (tests against fixtures from
//! `tools/gen_loader_fixtures.py`).

use ndarray::{Array3, ArrayView3, Axis};

/// Fractional bits of Pillow's 8-bit fixed-point weights (`32 - 8 - 2`).
const PRECISION_BITS: u32 = 22;

/// Per output position: the first source index, the number of source
/// pixels, and their fixed-point weights (`taps` per output, zero-padded).
struct Taps {
    first: Vec<usize>,
    count: Vec<usize>,
    weights: Vec<i64>,
    taps: usize,
}

/// The triangle ("bilinear") filter, support 1.
fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 { 1.0 - x } else { 0.0 }
}

/// Pillow's `precompute_coeffs` for a whole-axis box, followed by its
/// `normalize_coeffs_8bpc` rounding.
fn taps(in_size: usize, out_size: usize) -> Taps {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale;
    let taps = support.ceil() as usize * 2 + 1;
    let mut first = Vec::with_capacity(out_size);
    let mut count = Vec::with_capacity(out_size);
    let mut weights = vec![0i64; out_size * taps];
    let mut raw = vec![0f64; taps];
    for out in 0..out_size {
        let center = (out as f64 + 0.5) * scale;
        // C casts truncate toward zero; the lower bound is then clamped.
        let lo = ((center - support + 0.5) as i64).max(0) as usize;
        let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let n = hi.saturating_sub(lo);
        let mut total = 0.0;
        for (i, w) in raw.iter_mut().enumerate().take(n) {
            *w = triangle(((i + lo) as f64 - center + 0.5) / filter_scale);
            total += *w;
        }
        for (i, w) in raw.iter().enumerate().take(n) {
            let w = if total != 0.0 { w / total } else { *w };
            let fixed = w * f64::from(1u32 << PRECISION_BITS);
            weights[out * taps + i] = if w < 0.0 {
                (fixed - 0.5) as i64
            } else {
                (fixed + 0.5) as i64
            };
        }
        first.push(lo);
        count.push(n);
    }
    Taps {
        first,
        count,
        weights,
        taps,
    }
}

/// Rounds a fixed-point sum (which started at one half) to a byte.
fn clip8(sum: i32) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The fixed-point weights as `i32`, Pillow's accumulator type: a sum of
/// bytes times weights that add up to `2^22` stays below `2^31`.
fn weights_i32(t: &Taps) -> Vec<i32> {
    t.weights.iter().map(|&w| w as i32).collect()
}

/// Resizes a `height x width x channels` frame to `out_h x out_w` exactly as
/// Pillow's bilinear `resize` does for an 8-bit image of that many bands.
///
/// ```
/// use ndarray::Array3;
/// use ssl_pretrain::data::resize_bilinear;
/// // A 4x4 frame with one bright column (x = 1), halved. The filter's
/// // support doubles when shrinking by 2: output column 0 (centre 1.0)
/// // weighs source columns 0, 1, 2 by 3/7, 3/7, 1/7; column 1 (centre
/// // 3.0) weighs columns 1, 2, 3 by 1/7, 3/7, 3/7. Pillow gives the same.
/// let mut frame = Array3::<u8>::zeros((4, 4, 3));
/// frame.slice_mut(ndarray::s![.., 1, ..]).fill(200);
/// let half = resize_bilinear(frame.view(), 2, 2);
/// assert_eq!(half.dim(), (2, 2, 3));
/// assert_eq!((half[[0, 0, 0]], half[[0, 1, 0]]), (86, 29)); // 200*3/7, 200/7
/// ```
///
/// # Panics
/// If `out_h` or `out_w` is zero, or the frame is empty.
pub fn resize_bilinear(frame: ArrayView3<'_, u8>, out_h: usize, out_w: usize) -> Array3<u8> {
    let (in_h, in_w, bands) = frame.dim();
    assert!(
        in_h > 0 && in_w > 0 && out_h > 0 && out_w > 0,
        "resize of an empty frame or to an empty size"
    );
    let vert = taps(in_h, out_h);
    // Only the source rows some output row reads go through the horizontal
    // pass, as in Pillow (the results are the same; the work is less).
    let row_first = vert.first[0];
    let row_last = vert.first[out_h - 1] + vert.count[out_h - 1];
    let rows = row_last - row_first;
    let width = if out_w != in_w { out_w } else { in_w };
    let row_len = width * bands;
    // Rows of the (horizontally resized) source, contiguous; filled by
    // pushing, so no time goes to zeroing buffers about to be overwritten.
    let mut tmp: Vec<u8> = Vec::with_capacity(rows * row_len);
    let mut src_row = vec![0u8; in_w * bands];
    let hor = (out_w != in_w).then(|| {
        let t = taps(in_w, out_w);
        let w = weights_i32(&t);
        (t, w)
    });
    for y in 0..rows {
        let view = frame.index_axis(Axis(0), y + row_first);
        // A crop of a larger frame has contiguous rows; copy otherwise.
        let src: &[u8] = match view.as_slice() {
            Some(s) => s,
            None => {
                for (d, v) in src_row.iter_mut().zip(view.iter()) {
                    *d = *v;
                }
                &src_row
            }
        };
        match &hor {
            None => tmp.extend_from_slice(src),
            Some((t, w)) if bands == 3 => {
                // RGB, the loader's case: the three sums of a pixel together,
                // over contiguous source pixels.
                for x in 0..out_w {
                    let k = &w[x * t.taps..x * t.taps + t.count[x]];
                    let first = t.first[x] * 3;
                    let pixels = &src[first..first + k.len() * 3];
                    let mut sum = [1i32 << (PRECISION_BITS - 1); 3];
                    for (px, &w) in pixels.chunks_exact(3).zip(k) {
                        sum[0] += i32::from(px[0]) * w;
                        sum[1] += i32::from(px[1]) * w;
                        sum[2] += i32::from(px[2]) * w;
                    }
                    tmp.extend(sum.map(clip8));
                }
            }
            Some((t, w)) => {
                for x in 0..out_w {
                    let k = &w[x * t.taps..x * t.taps + t.count[x]];
                    let base = t.first[x] * bands;
                    for c in 0..bands {
                        let mut sum = 1i32 << (PRECISION_BITS - 1);
                        for (i, w) in k.iter().enumerate() {
                            sum += i32::from(src[base + i * bands + c]) * w;
                        }
                        tmp.push(clip8(sum));
                    }
                }
            }
        }
    }
    if out_h == in_h {
        return Array3::from_shape_vec((out_h, width, bands), tmp).expect("sizes match");
    }
    let w = weights_i32(&vert);
    let mut out: Vec<u8> = Vec::with_capacity(out_h * row_len);
    let mut acc = vec![0i32; row_len];
    for y in 0..out_h {
        let k = &w[y * vert.taps..y * vert.taps + vert.count[y]];
        let top = vert.first[y] - row_first;
        acc.fill(1 << (PRECISION_BITS - 1));
        // Row by row, so the inner loop runs over contiguous bytes.
        for (i, w) in k.iter().enumerate() {
            let src = &tmp[(top + i) * row_len..(top + i + 1) * row_len];
            for (a, &v) in acc.iter_mut().zip(src) {
                *a += i32::from(v) * w;
            }
        }
        out.extend(acc.iter().map(|&a| clip8(a)));
    }
    Array3::from_shape_vec((out_h, width, bands), out).expect("sizes match")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_each_output_sum_to_one_in_fixed_point() {
        for (i, o) in [
            (320, 224),
            (240, 224),
            (224, 224),
            (100, 224),
            (7, 3),
            (3, 7),
        ] {
            let t = taps(i, o);
            for x in 0..o {
                let s: i64 = t.weights[x * t.taps..x * t.taps + t.count[x]].iter().sum();
                // Each weight is rounded on its own: the sum is one within
                // a rounding step per tap.
                assert!(
                    (s - (1 << PRECISION_BITS)).abs() <= t.taps as i64,
                    "{i}->{o} at {x}: {s}"
                );
            }
        }
    }

    #[test]
    fn a_constant_frame_stays_constant_and_same_size_is_identity() {
        let flat = Array3::<u8>::from_elem((30, 50, 3), 173);
        assert!(
            resize_bilinear(flat.view(), 17, 64)
                .iter()
                .all(|&v| v == 173)
        );
        let ramp = Array3::from_shape_fn((5, 6, 3), |(y, x, c)| (y * 40 + x * 7 + c) as u8);
        assert_eq!(resize_bilinear(ramp.view(), 5, 6), ramp);
    }
}
