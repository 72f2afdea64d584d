//! Pictures of a run: reconstructions of a fixed clip (what MAE users look
//! at) and the loss and learning-rate curves.

use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use image::{Rgb, RgbImage};
use videomae::VideoMaeConfig;
use videomae::pretrain::{PretrainMasks, VideoMaePretraining};
use videomae::target::{IMAGENET_MEAN, IMAGENET_STD};

use super::trainer::StepMetrics;

/// Grey of hidden patches the decoder did not reconstruct (V2's decoder
/// mask), and of patches hidden from the encoder in the masked row.
const HIDDEN: Rgb<u8> = Rgb([96, 96, 96]);

/// Three rows of `frames` pictures of one clip: the input, what the
/// encoder saw (hidden patches grey), and the reconstruction (visible
/// patches as they were, decoded patches from the model's predictions
/// un-normalised with the input patch's own mean and deviation, as MAE's
/// visualisation does; hidden patches the V2 decoder skipped stay grey).
///
/// `pixels` is one clip `(T, 3, H, W)` ImageNet-normalised; `hidden` the
/// encoder mask (`true` = hidden) and `predicted` the decoded tokens with
/// their predictions in Hugging Face's `logits` order (`tubelet x patch x
/// patch x 3`, channel fastest: `videomae`'s `PretrainOutput::logits`).
///
/// ```
/// use ssl_pretrain::run::{reconstruction_strip, tiny_model};
/// let config = tiny_model();
/// let (t, s) = (config.num_frames, config.image_size);
/// let pixels = vec![0.0f32; t * 3 * s * s];
/// let hidden = vec![false; config.num_tokens()];
/// let strip = reconstruction_strip(&config, &pixels, &hidden, &[]);
/// assert_eq!(strip.dimensions(), ((t * s) as u32, (3 * s) as u32));
/// ```
pub fn reconstruction_strip(
    config: &VideoMaeConfig,
    pixels: &[f32],
    hidden: &[bool],
    predicted: &[(usize, Vec<f32>)],
) -> RgbImage {
    let (t, s, p, tu, g) = (
        config.num_frames,
        config.image_size,
        config.patch_size,
        config.tubelet_size,
        config.grid_size(),
    );
    let value = |f: usize, c: usize, y: usize, x: usize| {
        f64::from(pixels[((f * 3 + c) * s + y) * s + x]) * IMAGENET_STD[c] + IMAGENET_MEAN[c]
    };
    let byte = |v: f64| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let mut img = RgbImage::new((t * s) as u32, (3 * s) as u32);
    for f in 0..t {
        for y in 0..s {
            for x in 0..s {
                let rgb = Rgb([0, 1, 2].map(|c| byte(value(f, c, y, x))));
                let token = (f / tu) * g * g + (y / p) * g + x / p;
                let (px, py) = ((f * s + x) as u32, y as u32);
                img.put_pixel(px, py, rgb);
                let seen = !hidden.get(token).copied().unwrap_or(false);
                img.put_pixel(px, py + s as u32, if seen { rgb } else { HIDDEN });
                img.put_pixel(px, py + 2 * s as u32, if seen { rgb } else { HIDDEN });
            }
        }
    }
    let per_channel = tu * p * p;
    for (token, pred) in predicted {
        if pred.len() != 3 * per_channel {
            continue;
        }
        let (ts, gh, gw) = (token / (g * g), (token / g) % g, token % g);
        let at = |k: usize| (ts * tu + k / (p * p), gh * p + (k / p) % p, gw * p + k % p);
        let mut rgb = vec![[0f64; 3]; per_channel];
        for c in 0..3 {
            // The input patch's statistics, as the norm-pixel target has them.
            let vals: Vec<f64> = (0..per_channel)
                .map(|k| {
                    let (f, y, x) = at(k);
                    value(f, c, y, x)
                })
                .collect();
            let (mean, std) = if config.norm_pix_loss {
                let mean = vals.iter().sum::<f64>() / per_channel as f64;
                let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                    / (per_channel as f64 - 1.0).max(1.0);
                (mean, var.sqrt() + 1e-6)
            } else {
                (0.0, 1.0)
            };
            for (k, out) in rgb.iter_mut().enumerate() {
                out[c] = f64::from(pred[k * 3 + c]) * std + mean;
            }
        }
        for (k, v) in rgb.iter().enumerate() {
            let (f, y, x) = at(k);
            img.put_pixel((f * s + x) as u32, (2 * s + y) as u32, Rgb(v.map(byte)));
        }
    }
    img
}

/// Runs `model` on one clip with fixed masks and returns its
/// [`reconstruction_strip`].
///
/// ```
/// use burn::backend::Flex;
/// use ssl_pretrain::run::{reconstruct, tiny_model};
/// use videomae::masking::{MaskRng, TubeMask};
/// use videomae::pretrain::{PretrainMasks, VideoMaePretraining};
/// let config = tiny_model();
/// let model = VideoMaePretraining::<Flex>::init(&config, &Default::default());
/// let hidden = TubeMask::new(&config, 0.75)?.sample(&mut MaskRng::seed(0));
/// let masks = PretrainMasks::dual(std::slice::from_ref(&hidden), None)?;
/// let pixels = vec![0.1f32; config.num_frames * 3 * config.image_size * config.image_size];
/// let strip = reconstruct(&model, &config, &pixels, &masks, &hidden, &Default::default());
/// assert_eq!(strip.height() as usize, 3 * config.image_size);
/// # Ok::<(), videomae::masking::MaskError>(())
/// ```
pub fn reconstruct<B: Backend>(
    model: &VideoMaePretraining<B>,
    config: &VideoMaeConfig,
    pixels: &[f32],
    masks: &PretrainMasks,
    hidden: &[bool],
    device: &B::Device,
) -> RgbImage {
    let (t, s) = (config.num_frames, config.image_size);
    let input =
        Tensor::<B, 5>::from_data(TensorData::new(pixels.to_vec(), [1, t, 3, s, s]), device);
    let logits = model.forward(input, masks).logits();
    let [_, m, k] = logits.dims();
    let logits = logits
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .unwrap_or_default();
    let predicted: Vec<(usize, Vec<f32>)> = masks.decode()[0]
        .iter()
        .take(m)
        .enumerate()
        .filter_map(|(i, &token)| logits.get(i * k..(i + 1) * k).map(|v| (token, v.to_vec())))
        .collect();
    reconstruction_strip(config, pixels, hidden, &predicted)
}

/// Which number of a step a curve draws.
type Series = fn(&StepMetrics) -> f64;

/// The loss (top) and learning rate (bottom) of `metrics` against the step,
/// as a 720 x 480 PNG: each curve scaled to its panel, grid lines at
/// quarters. The numbers themselves are in `metrics.jsonl`.
///
/// ```
/// use ssl_pretrain::run::{StepMetrics, curves_png};
/// let m: Vec<StepMetrics> = (1..=10).map(|i| StepMetrics { step: i, loss: 1.0 / i as f64,
///     lr: 1e-3, grad_norm: 1.0, clips_per_s: 1.0, data_wait: 0.0 }).collect();
/// let img = curves_png(&m);
/// assert_eq!(img.dimensions(), (720, 480));
/// ```
pub fn curves_png(metrics: &[StepMetrics]) -> RgbImage {
    let (w, h) = (720u32, 480u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let panels: [(Series, Rgb<u8>); 2] = [
        (|m| m.loss, Rgb([31, 119, 180])),
        (|m| m.lr, Rgb([214, 39, 40])),
    ];
    let ph = h / 2;
    for (i, (get, colour)) in panels.iter().enumerate() {
        let top = i as u32 * ph;
        let (x0, x1, y0, y1) = (40u32, w - 10, top + 10, top + ph - 20);
        for q in 0..=4 {
            let gy = y0 + (y1 - y0) * q / 4;
            let gx = x0 + (x1 - x0) * q / 4;
            for x in x0..=x1 {
                img.put_pixel(x, gy, Rgb([225, 225, 225]));
            }
            for y in y0..=y1 {
                img.put_pixel(gx, y, Rgb([225, 225, 225]));
            }
        }
        let values: Vec<f64> = metrics.iter().map(get).filter(|v| v.is_finite()).collect();
        let (lo, hi) = values
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let n = metrics.len().max(2) - 1;
        let point = |k: usize, v: f64| {
            let x = x0 as f64 + (x1 - x0) as f64 * k as f64 / n as f64;
            let y = y1 as f64 - (y1 - y0) as f64 * (v - lo) / span;
            (x, y)
        };
        let mut last: Option<(f64, f64)> = None;
        for (k, m) in metrics.iter().enumerate() {
            let v = get(m);
            if !v.is_finite() {
                continue;
            }
            let (x, y) = point(k, v);
            if let Some((lx, ly)) = last {
                let steps = ((x - lx).abs().max((y - ly).abs()).ceil() as usize).max(1);
                for j in 0..=steps {
                    let a = j as f64 / steps as f64;
                    let (px, py) = (lx + (x - lx) * a, ly + (y - ly) * a);
                    img.put_pixel(px.round() as u32, py.round() as u32, *colour);
                }
            } else {
                img.put_pixel(x.round() as u32, y.round() as u32, *colour);
            }
            last = Some((x, y));
        }
    }
    img
}

/// Saves `img` as PNG at `path` through a temporary file and a rename.
pub(crate) fn save_png(img: &RgbImage, path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("png.tmp");
    img.save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(std::io::Error::other)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Perfect predictions (the model's own target, `videomae`'s
    /// `pixel_target`) reconstruct every hidden patch as the input.
    #[test]
    fn the_target_as_prediction_reconstructs_the_input() {
        let config = super::super::tiny_model();
        let (t, s) = (config.num_frames, config.image_size);
        let pixels: Vec<f32> = (0..t * 3 * s * s)
            .map(|i| ((i * 37 % 251) as f32 / 125.0) - 1.0)
            .collect();
        let target = videomae::target::pixel_target(&pixels, 1, &config);
        let values = config.patch_values();
        let per_channel = values / 3;
        let tokens = config.num_tokens();
        let hidden: Vec<bool> = (0..tokens).map(|i| i % 3 != 0).collect();
        let predicted: Vec<(usize, Vec<f32>)> = (0..tokens)
            .filter(|&i| hidden[i])
            .map(|i| (i, target[i * values..(i + 1) * values].to_vec()))
            .collect();
        let img = reconstruction_strip(&config, &pixels, &hidden, &predicted);
        let mut worst = 0i32;
        for y in 0..s as u32 {
            for x in 0..(t * s) as u32 {
                let a = img.get_pixel(x, y);
                let b = img.get_pixel(x, y + 2 * s as u32);
                for c in 0..3 {
                    worst = worst.max((i32::from(a[c]) - i32::from(b[c])).abs());
                }
            }
        }
        assert!(worst <= 1, "reconstruction differs by {worst}");
        // The encoder row hides exactly the hidden tokens.
        let grey = (0..(t * s) as u32)
            .flat_map(|x| (0..s as u32).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y + s as u32) == &HIDDEN)
            .count();
        let hidden_pixels = hidden.iter().filter(|h| **h).count() * per_channel;
        assert!(
            grey >= hidden_pixels * 9 / 10,
            "{grey} grey of {hidden_pixels}"
        );
    }
}
