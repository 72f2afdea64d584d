//! The pretraining target and the masked reconstruction losses: a CPU
//! reference on plain `f32` slices (data loaders can use it directly) and the
//! same target as tensor ops for training.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::config::VideoMaeConfig;

/// ImageNet mean, RGB (inputs are normalised with it).
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet standard deviation, RGB.
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// Per-token targets for a batch of clips, `(batch, tokens, patch_values)`
/// row-major, from `pixels` laid out `(batch, frames, channels, height,
/// width)` (Hugging Face's `pixel_values`, ImageNet-normalised).
///
/// Pixels are un-normalised to [0, 1], each tubelet is grouped as
/// `(tubelet x patch x patch pixels, channels)`, and with `norm_pix_loss`
/// each channel of each token is normalised by its mean and
/// `sqrt(unbiased variance) + 1e-6`; values are flattened channel fastest.
/// Tokens are in `(t, h, w)` order. Computed in f64.
///
/// # Panics
/// If `pixels.len()` is not `batch` clips of the config's size, or the
/// config has other than 3 channels (the ImageNet statistics are RGB).
///
/// ```
/// use videomae::target::{pixel_target, IMAGENET_MEAN};
/// use videomae::VideoMaeConfig;
/// let config = VideoMaeConfig {
///     image_size: 32, num_frames: 2, norm_pix_loss: false, ..VideoMaeConfig::base()
/// };
/// let pixels = vec![0.0; 2 * 3 * 32 * 32]; // one clip of ImageNet-normalised zeros
/// let target = pixel_target(&pixels, 1, &config);
/// assert_eq!(target.len(), config.num_tokens() * config.patch_values()); // 4 x 1536
/// assert_eq!(target[..3], IMAGENET_MEAN.map(|m| m as f32)); // un-normalised, channel fastest
/// ```
pub fn pixel_target(pixels: &[f32], batch: usize, config: &VideoMaeConfig) -> Vec<f32> {
    let (t, c, s) = (config.num_frames, config.num_channels, config.image_size);
    let (tu, p, g) = (config.tubelet_size, config.patch_size, config.grid_size());
    assert_eq!(c, 3, "the ImageNet statistics are for 3 channels");
    assert_eq!(
        pixels.len(),
        batch * t * c * s * s,
        "pixels must be (batch, frames, channels, size, size)"
    );
    let per_token = tu * p * p; // pixels per token and channel
    let values = per_token * c;
    let mut out = Vec::with_capacity(batch * config.num_tokens() * values);
    let mut token = vec![0f64; values];
    for b in 0..batch {
        for ts in 0..config.temporal_slices() {
            for gh in 0..g {
                for gw in 0..g {
                    // Gather (tubelet, py, px, channel), channel fastest.
                    let mut k = 0;
                    for dt in 0..tu {
                        for py in 0..p {
                            for px in 0..p {
                                for (ch, (mean, std)) in
                                    IMAGENET_MEAN.iter().zip(IMAGENET_STD).enumerate()
                                {
                                    let (f, y, x) = (ts * tu + dt, gh * p + py, gw * p + px);
                                    let i = (((b * t + f) * c + ch) * s + y) * s + x;
                                    token[k] = pixels[i] as f64 * std + mean;
                                    k += 1;
                                }
                            }
                        }
                    }
                    if config.norm_pix_loss {
                        for ch in 0..c {
                            let vals = token.iter().skip(ch).step_by(c);
                            let mean = vals.clone().sum::<f64>() / per_token as f64;
                            let var = vals.map(|v| (v - mean).powi(2)).sum::<f64>()
                                / (per_token as f64 - 1.0);
                            let denom = var.sqrt() + 1e-6;
                            token
                                .iter_mut()
                                .skip(ch)
                                .step_by(c)
                                .for_each(|v| *v = (*v - mean) / denom);
                        }
                    }
                    out.extend(token.iter().map(|&v| v as f32));
                }
            }
        }
    }
    out
}

/// [`pixel_target`] as tensor ops on any backend, from
/// [`crate::model::patchify`]'s patches `(batch, tokens,
/// 3 x values)` in the patches' channel-major order `(batch, tokens, 3,
/// values)`: un-normalised pixels, or with `norm_pix` each token and
/// channel normalised by its mean and unbiased std + 1e-6. The reductions
/// run over the contiguous last axis; the un-normalisation `x * s + m` is
/// folded into the statistics (`(x - mean) / (std + 1e-6 / s)` is the same
/// value), so no pass over all pixels is spent on it.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::target::{patch_target, IMAGENET_MEAN};
/// let patches = Tensor::<Flex, 3>::zeros([1, 4, 1536], &Default::default());
/// let target = patch_target(patches.clone(), false);
/// assert_eq!(target.dims(), [1, 4, 3, 512]); // channel-major
/// let first = target.narrow(1, 0, 1).narrow(3, 0, 1).into_data().convert::<f32>();
/// assert_eq!(first.to_vec::<f32>().unwrap(), IMAGENET_MEAN.map(|m| m as f32));
/// // Normalised per token and channel, a constant patch becomes zeros.
/// let normed: f32 = patch_target(patches, true).abs().sum().into_scalar();
/// assert_eq!(normed, 0.0);
/// ```
pub fn patch_target<B: Backend>(patches: Tensor<B, 3>, norm_pix: bool) -> Tensor<B, 4> {
    let [b, n, k] = patches.dims();
    let x = patches.detach().reshape([b, n, 3, k / 3]);
    let device = x.device();
    let stat = |v: [f64; 3]| {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Tensor::<B, 4>::from_data(TensorData::new(v, [1, 1, 3, 1]), &device)
    };
    if !norm_pix {
        return x * stat(IMAGENET_STD) + stat(IMAGENET_MEAN);
    }
    let (var, mean) = x.clone().var_mean(3);
    let eps = stat(IMAGENET_STD).recip().mul_scalar(1e-6);
    (x - mean) / (var.sqrt() + eps)
}

/// Mean squared error between predictions for the tokens at `positions`
/// (`(batch, positions.len(), values)`, the same positions for every clip)
/// and those tokens of `target` (`(batch, tokens, values)`). This is the v1
/// loss with the encoder-masked positions, and the V2 loss with
/// [`target_positions`](crate::masking::target_positions).
///
/// # Panics
/// If the lengths do not match, or there are no clips or no tokens.
///
/// ```
/// use videomae::target::masked_mse;
/// // One clip of 3 tokens with 2 values each; the loss covers tokens 0 and 2.
/// let target = [1.0, 1.0, 5.0, 5.0, 3.0, 3.0];
/// let pred = [1.0, 1.0, 2.0, 4.0]; // predictions for tokens 0 and 2
/// assert_eq!(masked_mse(&pred, &target, &[vec![0, 2]], 3), 0.5); // (0 + 0 + 1 + 1) / 4
/// ```
pub fn masked_mse(pred: &[f32], target: &[f32], positions: &[Vec<usize>], tokens: usize) -> f64 {
    let batch = positions.len();
    assert!(
        batch > 0 && tokens > 0,
        "masked_mse needs at least one clip and one token"
    );
    let values = target.len() / (batch * tokens);
    assert_eq!(
        target.len(),
        batch * tokens * values,
        "target must be (batch, tokens, values)"
    );
    let picked: usize = positions.iter().map(Vec::len).sum();
    assert_eq!(
        pred.len(),
        picked * values,
        "pred must hold the picked tokens"
    );
    let mut sum = 0f64;
    let mut row = 0;
    for (b, pos) in positions.iter().enumerate() {
        for &i in pos {
            let tgt = &target[(b * tokens + i) * values..][..values];
            let prd = &pred[row * values..][..values];
            sum += tgt
                .iter()
                .zip(prd)
                .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                .sum::<f64>();
            row += 1;
        }
    }
    sum / (picked * values) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_patches_unnormalise_exactly() {
        // Every pixel of channel c at ImageNet-normalised 0 is mean[c].
        let config = VideoMaeConfig {
            image_size: 32,
            num_frames: 2,
            norm_pix_loss: false,
            ..VideoMaeConfig::base()
        };
        let t = pixel_target(&vec![0.0; 2 * 3 * 32 * 32], 1, &config);
        assert_eq!(t.len(), 4 * 1536);
        for (i, v) in t.iter().enumerate() {
            assert!((*v as f64 - IMAGENET_MEAN[i % 3]).abs() < 1e-7);
        }
    }

    #[test]
    fn normalised_tokens_have_zero_mean_and_unit_unbiased_std() {
        let config = VideoMaeConfig {
            image_size: 32,
            num_frames: 2,
            ..VideoMaeConfig::base()
        };
        let pixels: Vec<f32> = (0..2 * 3 * 32 * 32)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let t = pixel_target(&pixels, 1, &config);
        for token in t.chunks(1536) {
            for ch in 0..3 {
                let v: Vec<f64> = token
                    .iter()
                    .skip(ch)
                    .step_by(3)
                    .map(|&x| x as f64)
                    .collect();
                let mean = v.iter().sum::<f64>() / 512.0;
                let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 511.0;
                assert!(
                    mean.abs() < 1e-5 && (var.sqrt() - 1.0).abs() < 1e-4,
                    "{mean} {var}"
                );
            }
        }
    }
}
