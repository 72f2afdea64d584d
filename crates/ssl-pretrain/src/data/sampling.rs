//! Which frames of a video make a pretraining clip: VideoMAE V2's
//! `HybridVideoMAE._sample_train_indices` with one segment, then its
//! `get_frame_id_list` stepping (VideoMAE v1's `VideoMAE` dataset is the
//! same).
//!
//! With `n` frames, `num_frames` frames at `sampling_rate` span
//! `skip = num_frames * sampling_rate` frames:
//! - when `n >= skip` the first frame is uniform in `0..=n - skip`;
//!   otherwise (a short video) it is frame 0 and no random number is drawn;
//! - the reference steps a 1-based position `o = id + 1` and advances only
//!   while `o + sampling_rate < n` (strictly), so once the next frame would
//!   not satisfy that, the last frame reached repeats. A short video thus
//!   gives `0, r, 2r, ...` up to the largest multiple of `r` that is at
//!   most `n - 2`, then repeats it: with `r = 4` and `n = 41`, frame 40
//!   is never used.

use videomae::masking::MaskRng;

/// The frame ids of one clip of `num_frames` frames at `sampling_rate`
/// whose first frame is `start`, in a video of `video_frames` frames
/// (exactly the reference's loop; see the module docs). Empty when the
/// video has no frame.
///
/// ```
/// use ssl_pretrain::data::clip_indices_from;
/// // 300 frames, 16 at stride 4, first frame 100: 100, 104, ..., 160.
/// let ids = clip_indices_from(300, 16, 4, 100);
/// assert_eq!((ids[0], ids[1], ids[15]), (100, 104, 160));
/// // 40 frames (shorter than the span of 64): 0, 4, ..., 36, then 36 again.
/// let short = clip_indices_from(40, 16, 4, 0);
/// assert_eq!(short[..10], [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
/// assert!(short[10..].iter().all(|&i| i == 36));
/// ```
pub fn clip_indices_from(
    video_frames: u64,
    num_frames: usize,
    sampling_rate: usize,
    start: u64,
) -> Vec<u64> {
    if video_frames == 0 {
        return Vec::new();
    }
    let step = sampling_rate as u64;
    // The reference's 1-based position.
    let mut pos = start + 1;
    let mut out = Vec::with_capacity(num_frames);
    for _ in 0..num_frames {
        out.push(pos - 1);
        if pos + step < video_frames {
            pos += step;
        }
    }
    out
}

/// The number of possible first frames: `n - skip + 1` when the video spans
/// a whole clip, else 1 (frame 0, drawn without randomness).
///
/// ```
/// use ssl_pretrain::data::start_choices;
/// assert_eq!(start_choices(300, 16, 4), 237); // 0..=236
/// assert_eq!(start_choices(64, 16, 4), 1);
/// assert_eq!(start_choices(40, 16, 4), 1);
/// ```
pub fn start_choices(video_frames: u64, num_frames: usize, sampling_rate: usize) -> u64 {
    let skip = (num_frames * sampling_rate) as u64;
    if video_frames >= skip {
        video_frames - skip + 1
    } else {
        1
    }
}

/// [`clip_indices_from`] with the first frame drawn uniformly from
/// [`start_choices`] (no draw for a short video, as in the reference).
///
/// ```
/// use ssl_pretrain::data::clip_indices;
/// use videomae::masking::MaskRng;
/// let ids = clip_indices(300, 16, 4, &mut MaskRng::seed(1));
/// assert!(ids[0] <= 236 && ids.windows(2).all(|w| w[1] == w[0] + 4));
/// ```
pub fn clip_indices(
    video_frames: u64,
    num_frames: usize,
    sampling_rate: usize,
    rng: &mut MaskRng,
) -> Vec<u64> {
    let choices = start_choices(video_frames, num_frames, sampling_rate);
    let start = if choices > 1 {
        rng.below_u64(choices)
    } else {
        0
    };
    clip_indices_from(video_frames, num_frames, sampling_rate, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_video_gives_evenly_spaced_frames_inside_it() {
        let mut rng = MaskRng::seed(3);
        for n in [64u64, 65, 100, 300, 10_000] {
            for _ in 0..100 {
                let idx = clip_indices(n, 16, 4, &mut rng);
                assert_eq!(idx.len(), 16);
                assert!(idx.windows(2).all(|w| w[1] == w[0] + 4), "{idx:?}");
                assert!(idx[15] < n, "{n}: {idx:?}");
            }
        }
        // The reference's worked cases: the largest start reaches 296.
        assert_eq!(clip_indices_from(300, 16, 4, 236)[15], 296);
        assert_eq!(clip_indices_from(64, 16, 4, 0)[15], 60);
    }

    #[test]
    fn a_short_video_repeats_its_last_reachable_frame() {
        // n = 63: no draw, still 0..=60 (57 + 4 = 61 < 63 on the 1-based position).
        assert_eq!(start_choices(63, 16, 4), 1);
        assert_eq!(clip_indices_from(63, 16, 4, 0)[15], 60);
        // n = 61: 56 repeats (57 + 4 = 61 is not < 61).
        let idx = clip_indices_from(61, 16, 4, 0);
        assert_eq!(idx[14..], [56, 56]);
        // n = 41: frame 40 is on the grid but never reached.
        let idx = clip_indices_from(41, 16, 4, 0);
        assert_eq!(idx[9..], [36; 7]);
        // Stride 1, n = 16: frames 0..=14, then 14 again.
        let idx = clip_indices_from(16, 16, 1, 0);
        assert_eq!(idx[13..], [13, 14, 14]);
        assert_eq!(clip_indices_from(1, 4, 4, 0), [0, 0, 0, 0]);
        assert!(clip_indices_from(0, 4, 4, 0).is_empty());
    }
}
