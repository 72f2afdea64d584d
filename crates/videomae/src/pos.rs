//! The fixed 1-D sinusoid position table of VideoMAE (no CLS token).

/// The `n x d` sinusoid table, row-major: entry `(pos, j)` is
/// `sin(pos / 10000^(2 * (j / 2) / d))` for even `j` and `cos(...)` for odd
/// `j` (integer division), computed in f64 like the reference (numpy) and
/// rounded to f32.
///
/// ```
/// let t = videomae::sinusoid_table(2, 4);
/// assert_eq!(&t[..4], &[0.0, 1.0, 0.0, 1.0]);
/// assert_eq!(t[4], 1f64.sin() as f32);
/// assert_eq!(t[6], 0.01f64.sin() as f32); // 1 / 10000^(2/4)
/// ```
pub fn sinusoid_table(n: usize, d: usize) -> Vec<f32> {
    let inv: Vec<f64> = (0..d)
        .map(|j| 1.0 / 10000f64.powf(2.0 * (j / 2) as f64 / d as f64))
        .collect();
    let mut out = Vec::with_capacity(n * d);
    for pos in 0..n {
        for (j, f) in inv.iter().enumerate() {
            let angle = pos as f64 * f;
            out.push(if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_entries() {
        let d = 768;
        let t = sinusoid_table(1568, d);
        assert_eq!(t.len(), 1568 * d);
        // pos 1567, j 2: 1567 / 10000^(2/768)
        let expected = (1567.0 / 10000f64.powf(2.0 / 768.0)).sin() as f32;
        assert_eq!(t[1567 * d + 2], expected);
        // Odd columns of row 0 are cos(0) = 1, even ones sin(0) = 0.
        assert!(t[..d].chunks(2).all(|p| p == [0.0, 1.0]));
        // Each (sin, cos) pair lies on the unit circle.
        for row in t.chunks(d).take(50) {
            for p in row.chunks(2) {
                assert!((p[0] * p[0] + p[1] * p[1] - 1.0).abs() < 1e-6);
            }
        }
    }
}
