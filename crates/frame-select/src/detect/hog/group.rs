//! OpenCV's `groupRectangles`: merges the overlapping window hits of the
//! HOG detector into one box per person.

/// An integer rectangle `(x, y, w, h)`.
pub type Rect = (i32, i32, i32, i32);

/// A raw window hit: rectangle `(x, y, w, h)` in frame pixels and SVM score.
pub type RawHit = (i32, i32, i32, i32, f32);

/// OpenCV's `groupRectangles(rects, weights, threshold, eps)`: clusters
/// similar rectangles (union-find over the `SimilarRects` predicate), keeps
/// clusters of more than `threshold` members as their mean rectangle with
/// the best member weight, and drops clusters inside a stronger one.
///
/// ```
/// use frame_select::detect::hog::group_rectangles;
/// // Three overlapping hits on one person and a lone hit elsewhere.
/// let rects = [(10, 10, 64, 128), (12, 10, 64, 128), (10, 14, 64, 128), (300, 0, 64, 128)];
/// let scores = [0.5, 0.9, 0.7, 2.0];
/// let grouped = group_rectangles(&rects, &scores, 2, 0.2);
/// // The cluster of 3 (> threshold 2) becomes its rounded mean rectangle with
/// // its best score; the lone hit is dropped.
/// assert_eq!(grouped, vec![((11, 11, 64, 128), 0.9)]);
/// ```
pub fn group_rectangles(
    rects: &[Rect],
    weights: &[f32],
    threshold: usize,
    eps: f64,
) -> Vec<(Rect, f32)> {
    let n = rects.len();
    if threshold == 0 || n == 0 {
        return rects.iter().copied().zip(weights.iter().copied()).collect();
    }
    // In i64: sums and differences of two i32 overflow i32 (a panic in
    // debug builds) for rectangles near the type's limits.
    let similar = |a: &Rect, b: &Rect| {
        let (a, b) = (wide(*a), wide(*b));
        let delta = eps * (a.2.min(b.2) + a.3.min(b.3)) as f64 * 0.5;
        ((a.0 - b.0).abs() as f64) <= delta
            && ((a.1 - b.1).abs() as f64) <= delta
            && ((a.0 + a.2 - b.0 - b.2).abs() as f64) <= delta
            && ((a.1 + a.3 - b.1 - b.3).abs() as f64) <= delta
    };
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..n {
        for j in 0..i {
            if similar(&rects[i], &rects[j]) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a] = b;
                }
            }
        }
    }
    // Classes numbered by first appearance, as OpenCV's `partition`.
    let mut class_of_root = std::collections::HashMap::new();
    let labels: Vec<usize> = (0..n)
        .map(|i| {
            let r = find(&mut parent, i);
            let next = class_of_root.len();
            *class_of_root.entry(r).or_insert(next)
        })
        .collect();
    let nclasses = class_of_root.len();
    let mut sums = vec![(0i64, 0i64, 0i64, 0i64); nclasses];
    let mut counts = vec![0usize; nclasses];
    let mut best = vec![f32::MIN; nclasses];
    for (i, &c) in labels.iter().enumerate() {
        let r = rects[i];
        sums[c] = (
            sums[c].0 + r.0 as i64,
            sums[c].1 + r.1 as i64,
            sums[c].2 + r.2 as i64,
            sums[c].3 + r.3 as i64,
        );
        counts[c] += 1;
        best[c] = best[c].max(weights.get(i).copied().unwrap_or(0.0));
    }
    let means: Vec<Rect> = (0..nclasses)
        .map(|c| {
            let s = 1.0 / counts[c] as f32;
            let m = |v: i64| (v as f32 * s).round_ties_even() as i32;
            (m(sums[c].0), m(sums[c].1), m(sums[c].2), m(sums[c].3))
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..nclasses {
        let (r1, n1) = (means[i], counts[i]);
        if n1 <= threshold {
            continue;
        }
        let inside_stronger = (0..nclasses).any(|j| {
            let n2 = counts[j];
            if j == i || n2 <= threshold {
                return false;
            }
            let (r1, r2) = (wide(r1), wide(means[j]));
            let dx = (r2.2 as f64 * eps).round_ties_even() as i64;
            let dy = (r2.3 as f64 * eps).round_ties_even() as i64;
            r1.0 >= r2.0 - dx
                && r1.1 >= r2.1 - dy
                && r1.0 + r1.2 <= r2.0 + r2.2 + dx
                && r1.1 + r1.3 <= r2.1 + r2.3 + dy
                && (n2 > n1.max(3) || n1 < 3)
        });
        if !inside_stronger {
            out.push((r1, best[i]));
        }
    }
    out
}

fn wide(r: Rect) -> (i64, i64, i64, i64) {
    (
        i64::from(r.0),
        i64::from(r.1),
        i64::from(r.2),
        i64::from(r.3),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_merges_clusters_and_drops_small_ones() {
        let rects = [
            (10, 10, 64, 128),
            (12, 11, 64, 128),
            (11, 9, 64, 128),
            (300, 300, 64, 128),
        ];
        let got = group_rectangles(&rects, &[1.0, 2.0, 0.5, 9.0], 2, 0.2);
        // Cluster of 3 (> 2) -> mean (11, 10, 64, 128), best weight 2; the
        // lone box is dropped.
        assert_eq!(got, vec![((11, 10, 64, 128), 2.0)]);
        // Threshold 0 keeps everything as is.
        assert_eq!(group_rectangles(&rects, &[0.0; 4], 0, 0.2).len(), 4);
    }

    /// Rectangles near `i32`'s limits: the i32 sums and differences
    /// overflowed (a panic in debug builds).
    #[test]
    fn extreme_rectangles_do_not_overflow() {
        let big = (i32::MAX, i32::MAX, i32::MAX, i32::MAX);
        let rects = [big, big, big, (i32::MIN, i32::MIN, 1, 1)];
        let got = group_rectangles(&rects, &[1.0, 3.0, 2.0, 9.0], 1, 0.2);
        // The three equal boxes form one cluster (mean = the box, best
        // weight 3); the lone far one is below the threshold.
        assert_eq!(got, vec![(big, 3.0)]);
    }
}
