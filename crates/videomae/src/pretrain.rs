//! VideoMAE / VideoMAE V2 masked-video pretraining model (Tong et al.,
//! NeurIPS 2022; Wang et al., CVPR 2023): the encoder on visible tokens
//! only, a final norm, `encoder_to_decoder` (no bias), a learned mask token
//! plus fixed sinusoid positions at decoder width, decoder blocks, norm, and
//! a head to `3 x tubelet x patch^2` values per reconstructed token.
//!
//! Which tokens the decoder reconstructs is a [`PretrainMasks`]: every
//! encoder-masked token (VideoMAE v1, and Hugging Face's
//! `VideoMAEForPreTraining`), or those the V2 running-cell decoder mask keeps.
//! With V2 dual masking that number differs between clips; shorter clips are
//! padded with tokens hidden from attention and from the loss, so a batch
//! computes exactly what each clip would alone.
//!
//! ```
//! use videomae::burn::backend::Flex;
//! use videomae::burn::tensor::Tensor;
//! use videomae::masking::{MaskRng, RunningCellMask, TubeMask};
//! use videomae::pretrain::{PretrainMasks, VideoMaePretraining};
//! use videomae::VideoMaeConfig;
//!
//! let config = VideoMaeConfig { image_size: 32, num_frames: 4, ..VideoMaeConfig::small() };
//! let device = Default::default();
//! let model = VideoMaePretraining::<Flex>::init(&config, &device);
//! let mut rng = MaskRng::seed(7);
//! let (tube, cell) = (TubeMask::new(&config, 0.75)?, RunningCellMask::new(&config, 0.5)?);
//! let encoder: Vec<_> = (0..2).map(|_| tube.sample(&mut rng)).collect();
//! let decoder: Vec<_> = (0..2).map(|_| cell.sample(&mut rng)).collect();
//! let masks = PretrainMasks::dual(&encoder, Some(&decoder))?;
//! let pixels = Tensor::<Flex, 5>::random([2, 4, 3, 32, 32], Default::default(), &device);
//! let out = model.forward(pixels.clone(), &masks);
//! let loss = model.loss(&out); // V2 loss, shape [1]
//! assert!(loss.into_scalar().is_finite());
//! # Ok::<(), videomae::masking::MaskError>(())
//! ```

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::config::VideoMaeConfig;
use crate::input::InputError;
use crate::masking::{MaskError, target_positions};
use crate::model::patchify;
use crate::model::{Block, Encoder};
use crate::pos::sinusoid_table;
use crate::target::patch_target;

/// The tokens each clip of a batch shows the encoder and asks the decoder
/// to reconstruct, as ascending token indices.
///
/// ```
/// use videomae::pretrain::PretrainMasks;
/// let encoder = vec![vec![true, false, true, true], vec![false, true, true, true]];
/// let masks = PretrainMasks::dual(&encoder, None)?;
/// assert_eq!(masks.visible(), [vec![1], vec![0]]);
/// assert_eq!(masks.decode(), [vec![0, 2, 3], vec![1, 2, 3]]); // v1: every hidden token
/// assert_eq!(masks.tokens(), 4);
/// // Every clip must show the encoder as many tokens.
/// assert!(PretrainMasks::dual(&[vec![true, false], vec![false, false]], None).is_err());
/// # Ok::<(), videomae::masking::MaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PretrainMasks {
    visible: Vec<Vec<usize>>,
    decode: Vec<Vec<usize>>,
    tokens: usize,
}

impl PretrainMasks {
    /// From encoder masks (`true` = hidden from the encoder, HF's
    /// `bool_masked_pos`) and optional V2 decoder masks (`true` = not
    /// reconstructed). Without decoder masks every encoder-masked token is
    /// reconstructed (v1). Every clip must show the encoder the same number
    /// of tokens and reconstruct at least one.
    pub fn dual(
        encoder_masks: &[Vec<bool>],
        decoder_masks: Option<&[Vec<bool>]>,
    ) -> Result<Self, MaskError> {
        let err = |m: String| Err(MaskError(m));
        let Some(first) = encoder_masks.first() else {
            return err("no clips".into());
        };
        let tokens = first.len();
        if let Some(d) = decoder_masks
            && d.len() != encoder_masks.len()
        {
            return err(format!(
                "{} encoder masks but {} decoder masks",
                encoder_masks.len(),
                d.len()
            ));
        }
        let mut visible = Vec::with_capacity(encoder_masks.len());
        let mut decode = Vec::with_capacity(encoder_masks.len());
        for (i, enc) in encoder_masks.iter().enumerate() {
            let dec = decoder_masks.map(|d| d[i].as_slice());
            if enc.len() != tokens || dec.is_some_and(|d| d.len() != tokens) {
                return err(format!("clip {i}: masks must all have {tokens} tokens"));
            }
            let vis: Vec<usize> = (0..tokens).filter(|&t| !enc[t]).collect();
            if vis.is_empty() || vis.len() != tokens - first.iter().filter(|m| **m).count() {
                return err(format!(
                    "clip {i}: {} visible tokens; every clip needs the same number, at least one",
                    vis.len()
                ));
            }
            let targets = target_positions(enc, dec);
            if targets.is_empty() {
                return err(format!("clip {i}: no token to reconstruct"));
            }
            visible.push(vis);
            decode.push(targets);
        }
        Ok(PretrainMasks {
            visible,
            decode,
            tokens,
        })
    }

    /// Visible token indices per clip.
    pub fn visible(&self) -> &[Vec<usize>] {
        &self.visible
    }

    /// Reconstructed token indices per clip.
    pub fn decode(&self) -> &[Vec<usize>] {
        &self.decode
    }

    /// Tokens per clip.
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    fn max_decode(&self) -> usize {
        self.decode.iter().map(Vec::len).max().unwrap_or(0)
    }
}

/// The output of [`VideoMaePretraining::forward`].
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::pretrain::{PretrainMasks, VideoMaePretraining};
/// use videomae::VideoMaeConfig;
/// // A tiny ViT and decoder, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     decoder_hidden_size: 24, decoder_num_hidden_layers: 1,
///     decoder_num_attention_heads: 2, decoder_intermediate_size: 48,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let model = VideoMaePretraining::<Flex>::init(&config, &device);
/// // 8 tokens: the first 4 hidden from the encoder and reconstructed (v1).
/// let masks = PretrainMasks::dual(&[(0..8).map(|i| i < 4).collect()], None)?;
/// let out = model.forward(Tensor::zeros([1, 4, 3, 32, 32], &device), &masks);
/// assert_eq!(out.logits().dims(), [1, 4, 1536]); // 3 x 2 x 16 x 16 values per token
/// assert_eq!(out.patches.dims(), [1, 8, 1536]);
/// let valid: Vec<f32> = out.valid.into_data().convert::<f32>().to_vec().unwrap();
/// assert_eq!(valid, [1.0; 4]); // no padding in a batch of one clip
/// # Ok::<(), videomae::masking::MaskError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PretrainOutput<B: Backend> {
    /// Predictions `(batch, reconstructed, 3, t x p^2)`: channel-major, the
    /// order of the patches, so the loss compares contiguous rows.
    logits_channel_major: Tensor<B, 4>,
    /// `(batch, reconstructed)`: 1 for real tokens, 0 for padding.
    pub valid: Tensor<B, 2>,
    /// Token index of each row, padding rows pointing at token 0.
    pub positions: Tensor<B, 2, Int>,
    /// The clip's tubelets, [`crate::model::patchify`] of the pixels
    /// (detached): the loss's target is computed from them.
    pub patches: Tensor<B, 3>,
}

impl<B: Backend> PretrainOutput<B> {
    /// Predicted normalised pixels `(batch, reconstructed, 3 x t x p^2)`,
    /// channel fastest as Hugging Face's `logits`, in the order of
    /// [`PretrainMasks::decode`]; rows past a clip's own count are padding.
    pub fn logits(&self) -> Tensor<B, 3> {
        let [b, m, c, l] = self.logits_channel_major.dims();
        self.logits_channel_major
            .clone()
            .swap_dims(2, 3)
            .reshape([b, m, l * c])
    }
}

/// The pretraining decoder: blocks, norm, head.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::pretrain::VideoMaePretraining;
/// use videomae::VideoMaeConfig;
/// // A tiny ViT and decoder, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     decoder_hidden_size: 24, decoder_num_hidden_layers: 1,
///     decoder_num_attention_heads: 2, decoder_intermediate_size: 48,
///     ..VideoMaeConfig::small() };
/// let model = VideoMaePretraining::<Flex>::init(&config, &Default::default());
/// let decoder = &model.decoder;
/// assert_eq!(decoder.blocks.len(), 1);
/// assert_eq!(decoder.head.weight.dims(), [24, 1536]); // decoder width -> patch values
/// ```
#[derive(Module, Debug)]
pub struct Decoder<B: Backend> {
    /// Blocks at decoder width.
    pub blocks: Vec<Block<B>>,
    /// Final norm.
    pub norm: LayerNorm<B>,
    /// Head to `3 x tubelet x patch^2` values.
    pub head: Linear<B>,
}

/// `VideoMAEForPreTraining`: encoder, `encoder_to_decoder`, mask token,
/// decoder.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::{Distribution, Tensor}};
/// use videomae::pretrain::{PretrainMasks, VideoMaePretraining};
/// use videomae::VideoMaeConfig;
/// // A tiny ViT and decoder, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     decoder_hidden_size: 24, decoder_num_hidden_layers: 1,
///     decoder_num_attention_heads: 2, decoder_intermediate_size: 48,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let model = VideoMaePretraining::<Flex>::init(&config, &device);
/// let masks = PretrainMasks::dual(&[(0..8).map(|i| i < 4).collect()], None)?;
/// let pixels = Tensor::<Flex, 5>::random([1, 4, 3, 32, 32], Distribution::Default, &device);
/// assert_eq!(model.encode(pixels.clone(), &masks).dims(), [1, 4, 48]); // visible tokens only
/// let loss = model.loss(&model.try_forward(pixels, &masks)?);
/// assert!(loss.into_scalar() > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Module, Debug)]
pub struct VideoMaePretraining<B: Backend> {
    /// The encoder (sees visible tokens only).
    pub encoder: Encoder<B>,
    /// The encoder's final norm. The V2 reference always has one; Hugging
    /// Face checkpoints have it when `use_mean_pooling` is false.
    pub encoder_norm: Option<LayerNorm<B>>,
    /// Encoder width to decoder width, no bias.
    pub encoder_to_decoder: Linear<B>,
    /// Learned mask token, `(1, 1, decoder width)`.
    pub mask_token: Param<Tensor<B, 3>>,
    /// The decoder.
    pub decoder: Decoder<B>,
    decoder_pos: Tensor<B, 2>,
    config_tokens: usize,
    tubelet: usize,
    patch: usize,
    norm_pix: bool,
}

impl<B: Backend> VideoMaePretraining<B> {
    /// A pretraining model for `config` with Burn's default initialisation
    /// and the encoder's final norm (V2).
    pub fn init(config: &VideoMaeConfig, device: &B::Device) -> Self {
        let (d, dd) = (config.hidden_size, config.decoder_hidden_size);
        let blocks = (0..config.decoder_num_hidden_layers)
            .map(|_| {
                let (h, m) = (
                    config.decoder_num_attention_heads,
                    config.decoder_intermediate_size,
                );
                Block::new(
                    dd,
                    h,
                    m,
                    config.layer_norm_eps,
                    config.qkv_bias,
                    0.0,
                    device,
                )
            })
            .collect();
        let n = config.num_tokens();
        VideoMaePretraining {
            encoder: Encoder::init(config, device),
            encoder_norm: Some(
                LayerNormConfig::new(d)
                    .with_epsilon(config.layer_norm_eps)
                    .init(device),
            ),
            encoder_to_decoder: LinearConfig::new(d, dd).with_bias(false).init(device),
            mask_token: Param::from_tensor(Tensor::zeros([1, 1, dd], device)),
            decoder: Decoder {
                blocks,
                norm: LayerNormConfig::new(dd)
                    .with_epsilon(config.fc_norm_eps)
                    .init(device),
                head: LinearConfig::new(dd, config.patch_values()).init(device),
            },
            decoder_pos: Tensor::from_data(TensorData::new(sinusoid_table(n, dd), [n, dd]), device),
            config_tokens: n,
            tubelet: config.tubelet_size,
            patch: config.patch_size,
            norm_pix: config.norm_pix_loss,
        }
    }

    /// The encoder's output for the visible tokens, `(batch, visible, d)`,
    /// after the final norm when there is one.
    ///
    /// # Panics
    /// If the input does not fit ([`VideoMaePretraining::check_input`]).
    pub fn encode(&self, pixels: Tensor<B, 5>, masks: &PretrainMasks) -> Tensor<B, 3> {
        if let Err(e) = self.check_input(pixels.dims(), masks) {
            panic!("{e}");
        }
        self.encode_patches(patchify(pixels, self.tubelet, self.patch), masks)
    }

    fn encode_patches(&self, patches: Tensor<B, 3>, masks: &PretrainMasks) -> Tensor<B, 3> {
        let x = self
            .encoder
            .forward_tokens(self.visible_from_patches(patches, masks));
        match &self.encoder_norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }

    /// The embeddings (with positions) of the visible tokens, the encoder's
    /// input: `(batch, visible, d)`.
    ///
    /// # Panics
    /// If the input does not fit ([`VideoMaePretraining::check_input`]).
    pub fn visible_embeddings(&self, pixels: Tensor<B, 5>, masks: &PretrainMasks) -> Tensor<B, 3> {
        if let Err(e) = self.check_input(pixels.dims(), masks) {
            panic!("{e}");
        }
        self.visible_from_patches(patchify(pixels, self.tubelet, self.patch), masks)
    }

    /// Embeds only the visible tubelets: the rows are picked before the
    /// patch-embedding product (equal to embedding all, then picking).
    fn visible_from_patches(&self, patches: Tensor<B, 3>, masks: &PretrainMasks) -> Tensor<B, 3> {
        let [b, n, k] = patches.dims();
        assert_eq!(
            (b, n),
            (masks.visible.len(), masks.tokens),
            "masks must cover the batch and its tokens"
        );
        let v = masks.visible[0].len();
        let rows = flat_rows::<B>(&masks.visible, v, n, &patches.device());
        let picked = patches
            .reshape([b * n, k])
            .select(0, rows)
            .reshape([b, v, k]);
        let x = self.encoder.project_patches(picked);
        let [_, _, d] = x.dims();
        let pos = self.encoder.positions();
        let rows = flat_rows::<B>(&masks.visible, v, 0, &x.device());
        x + pos.select(0, rows).reshape([b, v, d])
    }

    /// Ok when pixels of dimensions `(batch, frames, channels, height,
    /// width)` and `masks` fit this model: at least one clip, the config's
    /// clip size, 3 channels, masks over the model's tokens for each clip.
    pub fn check_input(&self, dims: [usize; 5], masks: &PretrainMasks) -> Result<(), InputError> {
        self.encoder.check_pixels(dims)?;
        if dims[2] != 3 {
            return Err(InputError::Channels(dims[2]));
        }
        if masks.visible.len() != dims[0] {
            return Err(InputError::MaskBatch {
                found: masks.visible.len(),
                batch: dims[0],
            });
        }
        if masks.tokens != self.config_tokens {
            return Err(InputError::MaskTokens {
                found: masks.tokens,
                tokens: self.config_tokens,
            });
        }
        Ok(())
    }

    /// [`VideoMaePretraining::forward`], with input that does not fit the
    /// model ([`VideoMaePretraining::check_input`]) an error instead of a
    /// panic.
    pub fn try_forward(
        &self,
        pixels: Tensor<B, 5>,
        masks: &PretrainMasks,
    ) -> Result<PretrainOutput<B>, InputError> {
        self.check_input(pixels.dims(), masks)?;
        Ok(self.forward(pixels, masks))
    }

    /// Predictions for the tokens `masks` asks to reconstruct, from pixels
    /// `(batch, frames, channels, height, width)`.
    ///
    /// # Panics
    /// If the input does not fit the model; [`VideoMaePretraining::try_forward`]
    /// returns that as an error.
    pub fn forward(&self, pixels: Tensor<B, 5>, masks: &PretrainMasks) -> PretrainOutput<B> {
        if let Err(e) = self.check_input(pixels.dims(), masks) {
            panic!("{e}");
        }
        let device = pixels.device();
        let patches = patchify(pixels, self.tubelet, self.patch);
        let visible = self
            .encoder_to_decoder
            .forward(self.encode_patches(patches.clone(), masks));
        let [b, v, dd] = visible.dims();
        let m = masks.max_decode();
        let vis_idx = flat_rows::<B>(&masks.visible, v, 0, &device).reshape([b, v]);
        let dec_idx = flat_rows::<B>(&masks.decode, m, 0, &device).reshape([b, m]);
        let pos = |idx: Tensor<B, 2, Int>, k: usize| {
            self.decoder_pos
                .clone()
                .select(0, idx.reshape([b * k]))
                .reshape([b, k, dd])
        };
        let mask_tokens = self.mask_token.val().expand([b, m, dd]) + pos(dec_idx.clone(), m);
        let x = Tensor::cat(vec![visible + pos(vis_idx, v), mask_tokens], 1);
        let valid = valid_tensor::<B>(&masks.decode, m, &device);
        // Padding tokens are hidden from every query; without padding there
        // is nothing to hide.
        let key_mask = (masks.decode.iter().any(|d| d.len() != m)).then(|| {
            let keys = Tensor::cat(vec![Tensor::ones([b, v], &device), valid.clone()], 1);
            keys.equal_elem(0.0).reshape([b, 1, 1, v + m])
        });
        let x = self
            .decoder
            .blocks
            .iter()
            .fold(x, |x, block| block.forward(x, key_mask.as_ref()));
        let x = self.decoder.norm.forward(x.narrow(1, v, m));
        // The head's outputs reordered to channel-major (a permutation of
        // its columns): the loss then meets the target row for row.
        let head = &self.decoder.head;
        let [_, k] = head.weight.dims();
        let c = 3;
        let w = head
            .weight
            .val()
            .reshape([dd, k / c, c])
            .swap_dims(1, 2)
            .reshape([1, dd, k]);
        let mut logits = x.matmul(w);
        if let Some(bias) = &head.bias {
            let bias = bias.val().reshape([k / c, c]).swap_dims(0, 1);
            logits = logits + bias.reshape([1, 1, k]);
        }
        PretrainOutput {
            logits_channel_major: logits.reshape([b, m, c, k / c]),
            valid,
            positions: dec_idx,
            patches: patches.detach(),
        }
    }

    /// The pretraining loss, shape `[1]`: squared error averaged over the
    /// values of each reconstructed token and over all real tokens of the
    /// batch, against the (normalised, when `norm_pix_loss`) pixel target
    /// of `pixels`. With masks from [`PretrainMasks::dual`] this is the V2
    /// loss (or v1 without decoder masks, as Hugging Face computes it).
    pub fn loss(&self, output: &PretrainOutput<B>) -> Tensor<B, 1> {
        let [b, m, c, l] = output.logits_channel_major.dims();
        let [_, n, k] = output.patches.dims();
        let target = patch_target(output.patches.clone(), self.norm_pix).reshape([b * n, k]);
        let rows = output.positions.clone()
            + Tensor::<B, 1, Int>::arange(0..b as i64, &target.device())
                .mul_scalar(n as i64)
                .reshape([b, 1]);
        let target = target
            .select(0, rows.reshape([b * m]))
            .reshape([b, m, c, l]);
        let per_token = (output.logits_channel_major.clone() - target)
            .square()
            .reshape([b, m, c * l])
            .mean_dim(2)
            .reshape([b, m]);
        (per_token * output.valid.clone()).sum() / output.valid.clone().sum()
    }
}

/// Flat row indices `row + clip * stride` of `(rows, width)`, short rows
/// padded with their clip's row 0 (`stride` 0: the same table for all).
fn flat_rows<B: Backend>(
    rows: &[Vec<usize>],
    width: usize,
    stride: usize,
    device: &B::Device,
) -> Tensor<B, 1, Int> {
    let mut flat = Vec::with_capacity(rows.len() * width);
    for (i, r) in rows.iter().enumerate() {
        flat.extend(r.iter().map(|&j| (i * stride + j) as i64));
        flat.extend(std::iter::repeat_n((i * stride) as i64, width - r.len()));
    }
    Tensor::from_data(TensorData::new(flat, [rows.len() * width]), device)
}

/// `(rows, width)`: 1 where a row has an entry, 0 in its padding.
fn valid_tensor<B: Backend>(rows: &[Vec<usize>], width: usize, device: &B::Device) -> Tensor<B, 2> {
    let flat: Vec<f32> = rows
        .iter()
        .flat_map(|r| (0..width).map(move |j| if j < r.len() { 1.0 } else { 0.0 }))
        .collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_pick_visible_and_reconstructed_tokens() {
        let enc = vec![vec![true, false, true, true], vec![false, true, true, true]];
        let dec = vec![
            vec![false, false, true, false],
            vec![true, true, false, false],
        ];
        let v1 = PretrainMasks::dual(&enc, None).unwrap();
        assert_eq!(v1.visible(), &[vec![1], vec![0]]);
        assert_eq!(v1.decode(), &[vec![0, 2, 3], vec![1, 2, 3]]);
        let v2 = PretrainMasks::dual(&enc, Some(&dec)).unwrap();
        assert_eq!(v2.decode(), &[vec![0, 3], vec![2, 3]]);
    }

    #[test]
    fn unusable_masks_are_errors() {
        let e = |enc: Vec<Vec<bool>>, dec: Option<Vec<Vec<bool>>>| {
            PretrainMasks::dual(&enc, dec.as_deref()).unwrap_err().0
        };
        assert!(e(vec![], None).contains("no clips"));
        assert!(e(vec![vec![true, false], vec![false, false]], None).contains("same number"));
        assert!(e(vec![vec![true, true]], None).contains("at least one"));
        assert!(e(vec![vec![false, false]], None).contains("no token"));
        assert!(e(vec![vec![true, false]], Some(vec![vec![true, true]])).contains("no token"));
        assert!(e(vec![vec![true, false]], Some(vec![])).contains("decoder masks"));
        assert!(e(vec![vec![true, false], vec![true]], None).contains("tokens"));
    }
}
