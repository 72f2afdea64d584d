//! Near-duplicate signatures: perceptual hashes of frames, a video signature
//! of K of them, and a Hamming-distance index that finds re-uploads.
//!
//! The hashes follow the definitions of the `imagehash` Python package:
//! - [`phash`]: grey image shrunk to 32x32, 2-D DCT-II, the 8x8
//!   lowest-frequency coefficients compared with their median (64 bits),
//! - [`dhash`]: grey image shrunk to 9x8, each pixel compared with its right
//!   neighbour (64 bits).
//!
//! Shrinking is by area averaging (imagehash uses PIL's Lanczos filter, so
//! individual bits may differ from imagehash on the same image; distances
//! behave the same way). A re-encode at another bitrate moves a hash by a
//! few bits, a different scene by about half of them (32).

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2};

/// Hamming distance of two 64-bit hashes.
///
/// ```
/// use frame_select::hash::hamming;
/// assert_eq!(hamming(0b1011, 0b0001), 2);
/// assert_eq!(hamming(0, u64::MAX), 64);
/// ```
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Shrinks a grey image to `w x h` by area averaging (each output pixel is
/// the mean of the source area it covers, fractional edges weighted).
///
/// ```
/// use frame_select::hash::area_resize;
/// use frame_select::ndarray::array;
/// // Each output pixel averages the 2x2 block it covers.
/// let gray = array![[0u8, 2, 4, 6], [8, 10, 12, 14]];
/// let small = area_resize(gray.view(), 2, 1);
/// assert_eq!(small, array![[5.0, 9.0]]);
/// ```
pub fn area_resize(gray: ArrayView2<'_, u8>, w: usize, h: usize) -> Array2<f64> {
    let (sh, sw) = gray.dim();
    let weights = |src: usize, dst: usize| -> Vec<Vec<(usize, f64)>> {
        let scale = src as f64 / dst as f64;
        (0..dst)
            .map(|o| {
                let (lo, hi) = (o as f64 * scale, (o + 1) as f64 * scale);
                let mut v = Vec::new();
                let mut i = lo.floor() as usize;
                while (i as f64) < hi && i < src {
                    let overlap = (hi.min(i as f64 + 1.0) - lo.max(i as f64)).max(0.0);
                    if overlap > 0.0 {
                        v.push((i, overlap / scale));
                    }
                    i += 1;
                }
                v
            })
            .collect()
    };
    let (wx, wy) = (weights(sw, w), weights(sh, h));
    // Horizontal pass, then vertical.
    let mut tmp = Array2::<f64>::zeros((sh, w));
    for y in 0..sh {
        for (ox, ws) in wx.iter().enumerate() {
            tmp[[y, ox]] = ws.iter().map(|&(i, k)| f64::from(gray[[y, i]]) * k).sum();
        }
    }
    let mut out = Array2::<f64>::zeros((h, w));
    for (oy, ws) in wy.iter().enumerate() {
        for x in 0..w {
            let v: f64 = ws.iter().map(|&(i, k)| tmp[[i, x]] * k).sum();
            // Snap to 1/4096 of a grey level so equal areas compare equal
            // whatever the order of float additions (a flat image must give
            // no dHash bits).
            out[[oy, x]] = (v * 4096.0).round() / 4096.0;
        }
    }
    out
}

/// 1-D DCT-II without normalisation (`scipy.fftpack.dct`, `norm=None`) of
/// a 32-long vector, from a cached cosine table.
fn dct_1d(x: &[f64]) -> Vec<f64> {
    static COS: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let n = x.len();
    debug_assert_eq!(n, 32);
    let table = COS.get_or_init(|| {
        (0..32 * 32)
            .map(|i| {
                let (k, j) = ((i / 32) as f64, (i % 32) as f64);
                (std::f64::consts::PI * k * (2.0 * j + 1.0) / 64.0).cos()
            })
            .collect()
    });
    (0..n)
        .map(|k| {
            2.0 * x
                .iter()
                .zip(&table[k * 32..k * 32 + 32])
                .map(|(v, c)| v * c)
                .sum::<f64>()
        })
        .collect()
}

/// Perceptual (DCT) hash of a grey image; bit 63 is the top-left
/// coefficient, row-major. Images smaller than 1x1 hash to 0.
///
/// ```
/// use frame_select::hash::{hamming, phash};
/// use frame_select::ndarray::Array2;
/// // A frame and the same frame at twice the size shrink to the same 32x32
/// // picture, so they hash alike; the negative is a different picture.
/// let small = Array2::from_shape_fn((32, 32), |(y, x)| ((x * 7 + y * 3) % 256) as u8);
/// let big = Array2::from_shape_fn((64, 64), |(y, x)| small[[y / 2, x / 2]]);
/// let negative = small.mapv(|v| 255 - v);
/// assert_eq!(hamming(phash(small.view()), phash(big.view())), 0);
/// assert!(hamming(phash(small.view()), phash(negative.view())) > 32);
/// ```
pub fn phash(gray: ArrayView2<'_, u8>) -> u64 {
    if gray.is_empty() {
        return 0;
    }
    let small = area_resize(gray, 32, 32);
    // DCT over columns (axis 0), then rows (axis 1), as imagehash does.
    let mut cols = Array2::<f64>::zeros((32, 32));
    for x in 0..32 {
        let col: Vec<f64> = (0..32).map(|y| small[[y, x]]).collect();
        for (y, v) in dct_1d(&col).into_iter().enumerate() {
            cols[[y, x]] = v;
        }
    }
    let mut low = Vec::with_capacity(64);
    for y in 0..8 {
        let row: Vec<f64> = (0..32).map(|x| cols[[y, x]]).collect();
        low.extend(dct_1d(&row).into_iter().take(8));
    }
    let mut sorted = low.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    bits(low.iter().map(|&v| v > median))
}

/// Difference hash of a grey image: 8 rows of 8 "left darker than right"
/// bits of the image shrunk to 9x8.
///
/// ```
/// use frame_select::hash::dhash;
/// use frame_select::ndarray::Array2;
/// // Brighter to the right everywhere: all 64 bits set; a flat frame: none.
/// let ramp = Array2::from_shape_fn((64, 72), |(_, x)| (x * 3) as u8);
/// assert_eq!(dhash(ramp.view()), u64::MAX);
/// assert_eq!(dhash(Array2::from_elem((10, 10), 9u8).view()), 0);
/// ```
pub fn dhash(gray: ArrayView2<'_, u8>) -> u64 {
    if gray.is_empty() {
        return 0;
    }
    let small = area_resize(gray, 9, 8);
    bits(
        (0..8)
            .flat_map(|y| (0..8).map(move |x| (y, x)))
            .map(|(y, x)| small[[y, x + 1]] > small[[y, x]]),
    )
}

fn bits(it: impl Iterator<Item = bool>) -> u64 {
    it.fold(0u64, |acc, b| (acc << 1) | u64::from(b))
}

/// A video's near-duplicate signature: the perceptual hashes of up to K
/// frames spread evenly over it (blank frames left out: they hash alike in
/// every video).
///
/// ```
/// use frame_select::hash::VideoSignature;
/// // Ten frames' (pHash, dHash) pairs; keep 4 evenly spaced ones.
/// let hashes: Vec<(u64, u64)> = (0..10).map(|i| (i, 0)).collect();
/// let sig = VideoSignature::from_frame_hashes(&hashes, 4);
/// assert_eq!(sig.phashes, vec![1, 3, 6, 8]);
/// // A trimmed copy holding two of those frames is at distance 0.
/// let trimmed = VideoSignature { phashes: vec![3, 6], dhashes: vec![0, 0] };
/// assert_eq!(sig.distance(&trimmed), Some(0.0));
/// assert_eq!(sig.distance(&VideoSignature::default()), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VideoSignature {
    /// pHash of each chosen frame, in time order.
    pub phashes: Vec<u64>,
    /// dHash of the same frames.
    pub dhashes: Vec<u64>,
}

impl VideoSignature {
    /// Picks `k` evenly spaced entries of per-frame `(phash, dhash)` pairs.
    pub fn from_frame_hashes(hashes: &[(u64, u64)], k: usize) -> Self {
        let n = hashes.len();
        let picks: Vec<usize> = if n <= k {
            (0..n).collect()
        } else {
            (0..k).map(|i| (i * n + n / 2) / k).collect()
        };
        Self {
            phashes: picks.iter().map(|&i| hashes[i].0).collect(),
            dhashes: picks.iter().map(|&i| hashes[i].1).collect(),
        }
    }

    /// Mean, over this signature's frames, of the Hamming distance to the
    /// nearest frame of `other` (pHash); symmetrised by taking the smaller
    /// direction, so a trimmed re-upload is close to its source. `None` if
    /// either signature is empty.
    pub fn distance(&self, other: &VideoSignature) -> Option<f64> {
        let directed = |a: &[u64], b: &[u64]| -> Option<f64> {
            if a.is_empty() || b.is_empty() {
                return None;
            }
            let total: u32 = a
                .iter()
                .map(|&x| b.iter().map(|&y| hamming(x, y)).min().unwrap_or(64))
                .sum();
            Some(f64::from(total) / a.len() as f64)
        };
        Some(directed(&self.phashes, &other.phashes)?.min(directed(&other.phashes, &self.phashes)?))
    }
}

/// A BK-tree over 64-bit hashes, each tagged with the video it came from:
/// finds every stored hash within a Hamming radius without scanning all.
///
/// ```
/// use frame_select::hash::{HammingIndex, VideoSignature};
/// let mut index = HammingIndex::new();
/// let sig = |p: Vec<u64>| VideoSignature { dhashes: vec![0; p.len()], phashes: p };
/// index.insert("a", &sig(vec![0b0000, 0xFF00]));
/// index.insert("b", &sig(vec![u64::MAX]));
/// assert_eq!(index.len(), 3);
/// // Only "a"'s first hash lies within 1 bit of 0b0001.
/// assert_eq!(index.within(0b0001, 1), vec![("a", 0)]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct HammingIndex {
    nodes: Vec<Node>,
    videos: Vec<String>,
    by_name: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct Node {
    hash: u64,
    video: usize,
    /// Child per distance from this node's hash (0..=64).
    children: Vec<(u32, usize)>,
}

/// A stored video that shares frames with a query.
///
/// ```
/// use frame_select::hash::{HammingIndex, VideoSignature};
/// let mut index = HammingIndex::new();
/// index.insert("src", &VideoSignature { phashes: vec![0, 0xFFFF], dhashes: vec![0, 0] });
/// // One of the query's two hashes is within 2 bits of a stored one.
/// let query = VideoSignature { phashes: vec![0b11, 0xFFFF_0000_0000], dhashes: vec![0, 0] };
/// let found = index.find_duplicates(&query, 2, 0.5);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].video, "src");
/// assert_eq!(found[0].matched_fraction, 0.5);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DuplicateMatch {
    /// Id the video was inserted under.
    pub video: String,
    /// Share of the query's hashes that have a match in this video.
    pub matched_fraction: f64,
}

impl HammingIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of hashes stored.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Stores the pHashes of `signature` under `video`.
    pub fn insert(&mut self, video: &str, signature: &VideoSignature) {
        let next = self.videos.len();
        let id = *self.by_name.entry(video.to_string()).or_insert(next);
        if id == next {
            self.videos.push(video.to_string());
        }
        for &hash in &signature.phashes {
            self.insert_hash(hash, id);
        }
    }

    fn insert_hash(&mut self, hash: u64, video: usize) {
        let new = self.nodes.len();
        self.nodes.push(Node {
            hash,
            video,
            children: Vec::new(),
        });
        if new == 0 {
            return;
        }
        let mut at = 0;
        loop {
            let d = hamming(self.nodes[at].hash, hash);
            match self.nodes[at].children.iter().find(|(cd, _)| *cd == d) {
                Some(&(_, child)) => at = child,
                None => {
                    self.nodes[at].children.push((d, new));
                    return;
                }
            }
        }
    }

    /// Every stored `(video, hash)` within `radius` bits of `hash`.
    pub fn within(&self, hash: u64, radius: u32) -> Vec<(&str, u64)> {
        let mut out = Vec::new();
        if self.nodes.is_empty() {
            return out;
        }
        let mut stack = vec![0usize];
        while let Some(at) = stack.pop() {
            let node = &self.nodes[at];
            let d = hamming(node.hash, hash);
            if d <= radius {
                out.push((self.videos[node.video].as_str(), node.hash));
            }
            // Triangle inequality: only children at distance d +- radius
            // can hold matches.
            for &(cd, child) in &node.children {
                if cd + radius >= d && cd <= d + radius {
                    stack.push(child);
                }
            }
        }
        out
    }

    /// Stored videos in which at least `min_fraction` of the query's
    /// pHashes have a hash within `radius` bits, best first.
    pub fn find_duplicates(
        &self,
        query: &VideoSignature,
        radius: u32,
        min_fraction: f64,
    ) -> Vec<DuplicateMatch> {
        if query.phashes.is_empty() {
            return Vec::new();
        }
        let mut hits: HashMap<&str, usize> = HashMap::new();
        for &hash in &query.phashes {
            let mut seen: Vec<&str> = self
                .within(hash, radius)
                .into_iter()
                .map(|(v, _)| v)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for v in seen {
                *hits.entry(v).or_default() += 1;
            }
        }
        let n = query.phashes.len() as f64;
        let mut out: Vec<DuplicateMatch> = hits
            .into_iter()
            .map(|(video, k)| DuplicateMatch {
                video: video.to_string(),
                matched_fraction: k as f64 / n,
            })
            .filter(|m| m.matched_fraction >= min_fraction)
            .collect();
        out.sort_by(|a, b| {
            b.matched_fraction
                .total_cmp(&a.matched_fraction)
                .then(a.video.cmp(&b.video))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn noise(seed: u64, h: usize, w: usize) -> Array2<u8> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Array2::from_shape_fn((h, w), |_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 56) as u8
        })
    }

    #[test]
    fn dhash_of_a_left_to_right_ramp_is_all_ones() {
        let ramp = Array2::from_shape_fn((64, 72), |(_, x)| (x * 3) as u8);
        assert_eq!(dhash(ramp.view()), u64::MAX);
        let flat = Array2::from_elem((10, 10), 9u8);
        assert_eq!(dhash(flat.view()), 0);
    }

    #[test]
    fn area_resize_averages_blocks() {
        let g = Array2::from_shape_vec((2, 4), vec![0u8, 2, 4, 6, 8, 10, 12, 14]).unwrap();
        let s = area_resize(g.view(), 2, 1);
        assert_eq!(s[[0, 0]], 5.0);
        assert_eq!(s[[0, 1]], 9.0);
    }

    #[test]
    fn bk_tree_finds_exactly_what_a_scan_finds() {
        let mut idx = HammingIndex::new();
        let hashes: Vec<u64> = (0..500u64)
            .map(|i| i.wrapping_mul(0x9E3779B97F4A7C15) ^ (i << 7))
            .collect();
        for (i, h) in hashes.iter().enumerate() {
            idx.insert(
                &format!("v{}", i % 17),
                &VideoSignature {
                    phashes: vec![*h],
                    dhashes: vec![0],
                },
            );
        }
        for q in [hashes[3], hashes[100] ^ 0b1011, 0u64, u64::MAX] {
            for r in [0, 3, 12, 30] {
                let mut got: Vec<u64> = idx.within(q, r).into_iter().map(|(_, h)| h).collect();
                let mut want: Vec<u64> = hashes
                    .iter()
                    .copied()
                    .filter(|h| hamming(*h, q) <= r)
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "q={q:x} r={r}");
            }
        }
    }

    #[test]
    fn signature_picks_evenly_and_distance_is_symmetric_min() {
        let hashes: Vec<(u64, u64)> = (0..10).map(|i| (i as u64, 0)).collect();
        let s = VideoSignature::from_frame_hashes(&hashes, 4);
        assert_eq!(s.phashes, vec![1, 3, 6, 8]);
        let sub = VideoSignature {
            phashes: vec![3, 6],
            dhashes: vec![0, 0],
        };
        assert_eq!(s.distance(&sub), Some(0.0));
        assert_eq!(s.distance(&VideoSignature::default()), None);
    }

    proptest! {
        #[test]
        fn identical_images_hash_identically(seed in any::<u64>(), h in 8usize..80, w in 8usize..80) {
            let img = noise(seed, h, w);
            prop_assert_eq!(hamming(phash(img.view()), phash(img.clone().view())), 0);
            prop_assert_eq!(hamming(dhash(img.view()), dhash(img.view())), 0);
        }

        #[test]
        fn hashes_survive_mild_noise_but_not_a_different_image(seed in any::<u64>(), other in any::<u64>()) {
            prop_assume!(seed != other);
            // A picture with structure, as video frames have: a few
            // overlapping rectangles of random grey levels.
            let mut r = noise(seed, 1, 40).into_raw_vec_and_offset().0.into_iter().map(usize::from);
            let mut base = Array2::from_elem((96, 128), 128u8);
            for _ in 0..8 {
                let (y0, x0) = (r.next().unwrap() * 96 / 256, r.next().unwrap() * 128 / 256);
                let (hh, ww) = (16 + r.next().unwrap() / 6, 16 + r.next().unwrap() / 5);
                let level = r.next().unwrap() as u8;
                base.slice_mut(ndarray::s![y0..(y0 + hh).min(96), x0..(x0 + ww).min(128)]).fill(level);
            }
            let n = noise(seed ^ 1, 96, 128);
            let noisy = Array2::from_shape_fn((96, 128), |(y, x)| {
                (f64::from(base[[y, x]]) + (f64::from(n[[y, x]]) - 127.5) / 32.0).clamp(0.0, 255.0) as u8
            });
            prop_assert!(hamming(phash(base.view()), phash(noisy.view())) <= 6);
            let different = noise(other, 96, 128);
            prop_assert!(hamming(phash(base.view()), phash(different.view())) >= 12);
        }
    }
}
