//! VideoMAE V2 dual masking: the encoder's tube mask and the decoder's
//! running-cell mask, seeded and reproducible.
//!
//! Masks are `Vec<bool>` over the tokens in `(t, h, w)` order, `w` fastest,
//! `true` = masked: for the encoder "not visible" (HF's `bool_masked_pos`),
//! for the decoder "not reconstructed".

use crate::config::VideoMaeConfig;

/// A mask that cannot be built for the given sizes.
///
/// ```
/// use videomae::masking::{MaskError, TubeMask};
/// use videomae::VideoMaeConfig;
/// let err = TubeMask::new(&VideoMaeConfig::base(), 1.0).unwrap_err();
/// assert_eq!(err, MaskError("tube mask ratio 1 is not in [0, 1)".into()));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid mask: {0}")]
pub struct MaskError(pub String);

/// A small seeded generator (splitmix64): the same seed gives the same masks
/// on every platform.
///
/// ```
/// use videomae::masking::{MaskRng, TubeMask};
/// use videomae::VideoMaeConfig;
/// let tube = TubeMask::new(&VideoMaeConfig::base(), 0.9)?;
/// let a = tube.sample(&mut MaskRng::seed(1));
/// assert_eq!(a, tube.sample(&mut MaskRng::seed(1))); // same seed, same mask
/// let mut rng = MaskRng::seed(1);
/// let (first, second) = (tube.sample(&mut rng), tube.sample(&mut rng));
/// assert_eq!(first, a);
/// assert_ne!(first, second); // the generator moves on
/// # Ok::<(), videomae::masking::MaskError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MaskRng(u64);

impl MaskRng {
    /// A generator for `seed`.
    pub fn seed(seed: u64) -> Self {
        MaskRng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift, bias below 2^-32 for the
    /// sizes used here). The masks and the data loaders of the training
    /// crates draw from this one generator, so a seed fixes a whole run.
    ///
    /// ```
    /// use videomae::masking::MaskRng;
    /// let mut rng = MaskRng::seed(5);
    /// let draws: Vec<usize> = (0..1000).map(|_| rng.below(13)).collect();
    /// assert!(draws.iter().all(|&d| d < 13));
    /// assert_eq!(MaskRng::seed(5).below(13), draws[0]); // same seed, same draws
    /// ```
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `0..n` for any `n` (a 128-bit multiply-shift of a full
    /// 64-bit draw, bias below 2^-64 x n): frame counts of long videos.
    pub fn below_u64(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// Encoder tube mask: one random spatial mask with `floor(ratio x cells)`
/// masked cells, repeated on every temporal slice (VideoMAE's
/// `TubeMaskingGenerator`; 176 of 196 cells at ratio 0.9).
///
/// ```
/// use videomae::masking::{MaskRng, TubeMask};
/// use videomae::VideoMaeConfig;
/// // 2 temporal slices of 2 x 2 tokens.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, ..VideoMaeConfig::base() };
/// let tube = TubeMask::new(&config, 0.5)?;
/// assert_eq!(tube.masked_per_slice(), 2);
/// let mask = tube.sample(&mut MaskRng::seed(0));
/// assert_eq!(mask.len(), 8);
/// assert_eq!(mask[..4], mask[4..]); // the same cells on every slice: tubes
/// # Ok::<(), videomae::masking::MaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TubeMask {
    slices: usize,
    cells: usize,
    masked: usize,
}

impl TubeMask {
    /// A tube mask for `config`'s token grid. The ratio must leave at least
    /// one visible cell.
    pub fn new(config: &VideoMaeConfig, ratio: f64) -> Result<Self, MaskError> {
        let cells = config.tokens_per_slice();
        if !(0.0..1.0).contains(&ratio) {
            return Err(MaskError(format!(
                "tube mask ratio {ratio} is not in [0, 1)"
            )));
        }
        let masked = (ratio * cells as f64) as usize;
        if masked >= cells {
            return Err(MaskError(format!("ratio {ratio} masks all {cells} cells")));
        }
        Ok(TubeMask {
            slices: config.temporal_slices(),
            cells,
            masked,
        })
    }

    /// Masked cells per temporal slice.
    pub fn masked_per_slice(&self) -> usize {
        self.masked
    }

    /// Draws one mask.
    pub fn sample(&self, rng: &mut MaskRng) -> Vec<bool> {
        let mut cell = vec![false; self.cells];
        cell[..self.masked].iter_mut().for_each(|c| *c = true);
        // Fisher-Yates shuffle.
        for i in (1..self.cells).rev() {
            cell.swap(i, rng.below(i + 1));
        }
        cell.repeat(self.slices)
    }
}

/// Decoder running-cell mask (VideoMAE V2's `RunningCellMaskingGenerator`):
/// a 4-cell queue with `4 x ratio` ones (`[1, 1, 0, 0]` at 0.5) and a random
/// start; slice `t` reads the queue rolled by `start + t + 1`, as a 2 x 2
/// unit tiled over the frame. `1` = not reconstructed.
///
/// ```
/// use videomae::masking::RunningCellMask;
/// use videomae::VideoMaeConfig;
/// // 2 temporal slices of 2 x 2 tokens.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, ..VideoMaeConfig::base() };
/// let cells = RunningCellMask::new(&config, 0.5)?;
/// // Slice 0 reads the queue [1, 1, 0, 0] rolled by 1, slice 1 rolled by 2.
/// let mask = cells.with_start(0);
/// assert_eq!(mask, [true, false, false, true, false, false, true, true]);
/// assert!(RunningCellMask::new(&config, 0.3).is_err()); // not a multiple of 1/4
/// # Ok::<(), videomae::masking::MaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningCellMask {
    slices: usize,
    grid: usize,
    ones: usize,
}

impl RunningCellMask {
    /// A running-cell mask; `ratio` must be 0.25, 0.5 or 0.75 (a 4-cell
    /// queue expresses nothing else) and the grid side even.
    pub fn new(config: &VideoMaeConfig, ratio: f64) -> Result<Self, MaskError> {
        let ones = 4.0 * ratio;
        if ones.fract() != 0.0 || !(1.0..=3.0).contains(&ones) {
            return Err(MaskError(format!(
                "running-cell ratio {ratio} is not expressible by a 4-cell queue (use 0.25, 0.5 or 0.75; \
                 ratio 0 means no decoder mask, VideoMAE v1)"
            )));
        }
        let grid = config.grid_size();
        if !grid.is_multiple_of(2) {
            return Err(MaskError(format!(
                "running cells need an even token grid, got {grid} x {grid}"
            )));
        }
        Ok(RunningCellMask {
            slices: config.temporal_slices(),
            grid,
            ones: ones as usize,
        })
    }

    /// The mask for a given queue start (0..4).
    pub fn with_start(&self, start: usize) -> Vec<bool> {
        let queue = |k: usize| k < self.ones;
        let mut out = Vec::with_capacity(self.slices * self.grid * self.grid);
        for t in 0..self.slices {
            let ptr = start + t + 1;
            for h in 0..self.grid {
                for w in 0..self.grid {
                    let k = (h % 2) * 2 + (w % 2);
                    out.push(queue((k + ptr) % 4));
                }
            }
        }
        out
    }

    /// Draws one mask (a random queue start).
    pub fn sample(&self, rng: &mut MaskRng) -> Vec<bool> {
        self.with_start(rng.below(4))
    }
}

/// Token indices the decoder reconstructs and the loss covers: masked for
/// the encoder and kept by the decoder mask (V2), or every encoder-masked
/// token when there is no decoder mask (v1).
///
/// ```
/// use videomae::masking::target_positions;
/// let encoder = [true, false, true, true]; // token 1 is visible
/// assert_eq!(target_positions(&encoder, None), [0, 2, 3]); // v1: every masked token
/// let decoder = [false, false, true, false]; // V2: token 2 is not reconstructed
/// assert_eq!(target_positions(&encoder, Some(&decoder)), [0, 3]);
/// ```
pub fn target_positions(encoder_mask: &[bool], decoder_mask: Option<&[bool]>) -> Vec<usize> {
    (0..encoder_mask.len())
        .filter(|&i| encoder_mask[i] && decoder_mask.is_none_or(|d| !d[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_sizes() {
        let c = VideoMaeConfig::base();
        let tube = TubeMask::new(&c, 0.9).unwrap();
        assert_eq!(tube.masked_per_slice(), 176);
        let m = tube.sample(&mut MaskRng::seed(0));
        assert_eq!(m.len(), 1568);
        assert_eq!(m.iter().filter(|&&x| !x).count(), 160);
        // Same seed, same mask; another seed, another mask.
        assert_eq!(tube.sample(&mut MaskRng::seed(0)), m);
        assert_ne!(tube.sample(&mut MaskRng::seed(1)), m);
    }

    #[test]
    fn running_cell_pattern_by_hand() {
        // 4 frames at tubelet 2 -> 2 slices; 4x4 grid.
        let c = VideoMaeConfig {
            image_size: 64,
            num_frames: 4,
            ..VideoMaeConfig::base()
        };
        let m = RunningCellMask::new(&c, 0.5).unwrap().with_start(0);
        // Slice 0: ptr 1 -> queue[1,2,3,0] = [1,0,0,1] as 2x2 [[1,0],[0,1]].
        let row0: Vec<u8> = m[..4].iter().map(|&b| b as u8).collect();
        let row1: Vec<u8> = m[4..8].iter().map(|&b| b as u8).collect();
        assert_eq!((row0, row1), (vec![1, 0, 1, 0], vec![0, 1, 0, 1]));
        // Slice 1: ptr 2 -> [0,0,1,1]: [[0,0],[1,1]].
        let s1: Vec<u8> = m[16..24].iter().map(|&b| b as u8).collect();
        assert_eq!(s1, vec![0, 0, 0, 0, 1, 1, 1, 1]);
    }

    #[test]
    fn inexpressible_ratios_are_errors() {
        let c = VideoMaeConfig::base();
        for r in [0.0, 0.3, 0.6, 1.0] {
            assert!(RunningCellMask::new(&c, r).is_err(), "{r}");
        }
        assert!(TubeMask::new(&c, 1.0).is_err());
        let odd = VideoMaeConfig {
            image_size: 208,
            patch_size: 16,
            ..c
        }; // 13 x 13
        assert!(
            RunningCellMask::new(&odd, 0.5)
                .unwrap_err()
                .0
                .contains("even")
        );
    }

    #[test]
    fn v1_targets_every_encoder_masked_token() {
        let enc = [true, false, true, true];
        assert_eq!(target_positions(&enc, None), vec![0, 2, 3]);
        assert_eq!(
            target_positions(&enc, Some(&[false, false, true, false])),
            vec![0, 3]
        );
    }

    proptest! {
        #[test]
        fn tube_masks_are_identical_across_slices(seed in any::<u64>(), ratio in 0.0f64..0.99, frames in 1usize..5) {
            let c = VideoMaeConfig { image_size: 112, num_frames: 2 * frames, ..VideoMaeConfig::base() };
            let tube = TubeMask::new(&c, ratio).unwrap();
            let m = tube.sample(&mut MaskRng::seed(seed));
            let per = c.tokens_per_slice();
            let expected = (ratio * per as f64) as usize;
            for slice in m.chunks(per) {
                prop_assert_eq!(slice, &m[..per]);
                prop_assert_eq!(slice.iter().filter(|&&x| x).count(), expected);
            }
        }

        #[test]
        fn running_cells_keep_the_ratio_in_every_unit(seed in any::<u64>(), ones in 1usize..4) {
            let c = VideoMaeConfig { image_size: 128, ..VideoMaeConfig::base() };
            let m = RunningCellMask::new(&c, ones as f64 / 4.0).unwrap().sample(&mut MaskRng::seed(seed));
            let g = c.grid_size();
            for slice in m.chunks(g * g) {
                // Every 2x2 unit holds `ones` masked cells, and the pattern is
                // periodic with period 2 in h and w.
                for h in (0..g).step_by(2) {
                    for w in (0..g).step_by(2) {
                        let unit = [slice[h * g + w], slice[h * g + w + 1], slice[(h + 1) * g + w], slice[(h + 1) * g + w + 1]];
                        prop_assert_eq!(unit.iter().filter(|&&x| x).count(), ones);
                        prop_assert_eq!(&unit[..], &[slice[0], slice[1], slice[g], slice[g + 1]][..]);
                    }
                }
            }
            // Consecutive slices are the queue rolled by one.
            let per = g * g;
            for t in 1..c.temporal_slices() {
                let unit = |s: usize| [m[s * per], m[s * per + 1], m[s * per + g], m[s * per + g + 1]];
                let (a, b) = (unit(t - 1), unit(t));
                prop_assert_eq!([a[1], a[2], a[3], a[0]], b);
            }
        }
    }
}
