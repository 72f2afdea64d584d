//! The VideoMAE encoder and classifier in Burn (Tong et al., NeurIPS 2022;
//! Wang et al., CVPR 2023): tubelet embedding (Conv3d, kernel = stride),
//! fixed sinusoid positions, pre-norm blocks whose attention has q and v
//! biases and no k bias, exact-erf GELU, mean pooling + `fc_norm` + head.
//!
//! Weights come from checkpoints ([`crate::checkpoint`]); `init` gives
//! Burn's default initialisation, for shapes and tests.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::backend::Backend;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Distribution, Tensor, TensorData};

use crate::config::VideoMaeConfig;
use crate::input::{InputError, check_pixels};
use crate::pos::sinusoid_table;

/// Multi-head self-attention with one fused qkv projection (no bias) and
/// learned q and v biases: the key bias is zero, as in the reference.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::{model::Encoder, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let encoder = Encoder::<Flex>::init(&config, &device);
/// let attn = &encoder.blocks[0].attn;
/// assert_eq!(attn.qkv.weight.dims(), [48, 144]); // [d, 3d]
/// assert!(attn.q_bias.is_some() && attn.v_bias.is_some()); // `qkv_bias`
/// let x = Tensor::<Flex, 3>::zeros([2, 8, 48], &device);
/// assert_eq!(attn.forward(x, None).dims(), [2, 8, 48]);
/// ```
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// Fused q, k, v projection, `[d, 3d]` (Burn's `[in, out]` layout).
    pub qkv: Linear<B>,
    /// Query bias.
    pub q_bias: Option<Param<Tensor<B, 1>>>,
    /// Value bias.
    pub v_bias: Option<Param<Tensor<B, 1>>>,
    /// Output projection.
    pub proj: Linear<B>,
    heads: usize,
}

impl<B: Backend> Attention<B> {
    fn new(d: usize, heads: usize, qkv_bias: bool, device: &B::Device) -> Self {
        let bias = || qkv_bias.then(|| Param::from_tensor(Tensor::zeros([d], device)));
        Attention {
            qkv: LinearConfig::new(d, 3 * d).with_bias(false).init(device),
            q_bias: bias(),
            v_bias: bias(),
            proj: LinearConfig::new(d, d).init(device),
            heads,
        }
    }

    /// `x`: `(batch, tokens, d)`. `key_mask`, broadcast as `(batch, 1, 1,
    /// tokens)`, hides the keys where it is true (padding) from every query.
    ///
    /// Scores, softmax and the weighted sum run as Burn's fused attention
    /// op (a flash kernel on the CPU backend for long sequences, never
    /// materialising the `tokens x tokens` matrix), scale `head_dim^-0.5`.
    pub fn forward(&self, x: Tensor<B, 3>, key_mask: Option<&Tensor<B, 4, Bool>>) -> Tensor<B, 3> {
        let [b, n, d] = x.dims();
        let h = self.heads;
        let hd = d / h;
        let mut qkv = self.qkv.forward(x);
        if let (Some(q), Some(v)) = (&self.q_bias, &self.v_bias) {
            let zeros = Tensor::zeros([d], &q.val().device());
            let bias = Tensor::cat(vec![q.val(), zeros, v.val()], 0);
            qkv = qkv + bias.reshape([1, 1, 3 * d]);
        }
        // (b, n, 3, h, hd): part i is a strided (b, h, n, hd) view; the
        // attention kernel reads strides, so no copy is made here.
        let qkv = qkv.reshape([b, n, 3, h, hd]);
        let part = |i: usize| {
            qkv.clone()
                .narrow(2, i, 1)
                .reshape([b, n, h, hd])
                .swap_dims(1, 2)
        };
        let mask = key_mask.map(|m| m.clone().expand([b, h, n, n]));
        let out = attention(
            part(0),
            part(1),
            part(2),
            mask,
            None,
            AttentionModuleOptions::default(),
        );
        self.proj.forward(out.swap_dims(1, 2).reshape([b, n, d]))
    }
}

/// A pre-norm transformer block: `x + attn(norm1(x))`, then
/// `x + fc2(gelu(fc1(norm2(x))))`. With a drop-path rate, each residual
/// branch is dropped per sample (and the kept ones scaled by
/// `1 / (1 - rate)`) when the backend records gradients (training), as
/// timm's `DropPath`; inference is deterministic.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::{Distribution, Tensor}};
/// use videomae::{model::Encoder, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let encoder = Encoder::<Flex>::init(&config, &device);
/// let block = &encoder.blocks[0];
/// assert_eq!(block.fc1.weight.dims(), [48, 96]); // [d, intermediate_size]
/// assert_eq!(block.drop_path_rate(), 0.0);
/// let x = Tensor::<Flex, 3>::random([1, 8, 48], Distribution::Default, &device);
/// assert_eq!(block.forward(x, None).dims(), [1, 8, 48]);
/// ```
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    /// Norm before attention.
    pub norm1: LayerNorm<B>,
    /// Attention.
    pub attn: Attention<B>,
    /// Norm before the MLP.
    pub norm2: LayerNorm<B>,
    /// MLP first layer.
    pub fc1: Linear<B>,
    /// MLP second layer.
    pub fc2: Linear<B>,
    drop_path: f64,
}

impl<B: Backend> Block<B> {
    pub(crate) fn new(
        d: usize,
        heads: usize,
        mlp: usize,
        eps: f64,
        qkv_bias: bool,
        drop_path: f64,
        device: &B::Device,
    ) -> Self {
        let norm = || LayerNormConfig::new(d).with_epsilon(eps).init(device);
        Block {
            norm1: norm(),
            attn: Attention::new(d, heads, qkv_bias, device),
            norm2: norm(),
            fc1: LinearConfig::new(d, mlp).init(device),
            fc2: LinearConfig::new(mlp, d).init(device),
            drop_path,
        }
    }

    /// The block's stochastic-depth rate.
    pub fn drop_path_rate(&self) -> f64 {
        self.drop_path
    }

    /// `x`: `(batch, tokens, d)`; `key_mask` as in [`Attention::forward`].
    pub fn forward(&self, x: Tensor<B, 3>, key_mask: Option<&Tensor<B, 4, Bool>>) -> Tensor<B, 3> {
        let a = self.attn.forward(self.norm1.forward(x.clone()), key_mask);
        let x = x + self.drop_path(a);
        let h = self
            .fc2
            .forward(gelu(self.fc1.forward(self.norm2.forward(x.clone()))));
        x + self.drop_path(h)
    }

    fn drop_path(&self, branch: Tensor<B, 3>) -> Tensor<B, 3> {
        if self.drop_path == 0.0 || !B::ad_enabled(&branch.device()) {
            return branch;
        }
        let keep = 1.0 - self.drop_path;
        let [b, ..] = branch.dims();
        let mask =
            Tensor::<B, 3>::random([b, 1, 1], Distribution::Bernoulli(keep), &branch.device());
        branch * mask.div_scalar(keep)
    }
}

/// The encoder: tubelet embedding, fixed positions, blocks.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::{model::Encoder, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let encoder = Encoder::<Flex>::init(&config, &device);
/// assert_eq!(encoder.num_tokens(), 8); // 2 slices x 2 x 2 patches
/// let states = encoder.hidden_states(Tensor::zeros([1, 4, 3, 32, 32], &device));
/// assert_eq!(states.len(), 2); // the embeddings, then 1 block
/// assert_eq!(states[1].dims(), [1, 8, 48]);
/// assert!(encoder.check_pixels([1, 4, 3, 64, 64]).is_err());
/// ```
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    /// Tubelet embedding: Conv3d `channels -> d`, kernel = stride =
    /// `(tubelet, patch, patch)`.
    pub patch_embed: Conv3d<B>,
    /// Blocks.
    pub blocks: Vec<Block<B>>,
    pos: Tensor<B, 2>,
    // The clip size the positions were built for: the token count alone
    // cannot tell 16 frames of 224 pixels from 4 frames of 448.
    frames: usize,
    image_size: usize,
}

impl<B: Backend> Encoder<B> {
    /// An encoder for `config` with Burn's default initialisation.
    ///
    /// # Panics
    /// If `config` does not pass [`VideoMaeConfig::validate`] (Burn's
    /// `Config::load` does not validate; checkpoint loaders do).
    pub fn init(config: &VideoMaeConfig, device: &B::Device) -> Self {
        if let Err(e) = config.validate() {
            panic!("{e}");
        }
        let (d, t, p) = (config.hidden_size, config.tubelet_size, config.patch_size);
        let patch_embed = Conv3dConfig::new([config.num_channels, d], [t, p, p])
            .with_stride([t, p, p])
            .init(device);
        let depth = config.num_hidden_layers;
        let blocks = (0..depth)
            .map(|i| {
                let (h, m) = (config.num_attention_heads, config.intermediate_size);
                // Stochastic depth grows linearly from 0 to the rate.
                let rate = if depth > 1 {
                    config.drop_path_rate * i as f64 / (depth - 1) as f64
                } else {
                    0.0
                };
                Block::new(
                    d,
                    h,
                    m,
                    config.layer_norm_eps,
                    config.qkv_bias,
                    rate,
                    device,
                )
            })
            .collect();
        let n = config.num_tokens();
        let pos = Tensor::from_data(TensorData::new(sinusoid_table(n, d), [n, d]), device);
        Encoder {
            patch_embed,
            blocks,
            pos,
            frames: config.num_frames,
            image_size: config.image_size,
        }
    }

    /// Ok when pixels of dimensions `(batch, frames, channels, height,
    /// width)` fit this encoder: at least one clip, and the config's frames,
    /// channels and square size.
    pub fn check_pixels(&self, dims: [usize; 5]) -> Result<(), InputError> {
        let [_, channels, ..] = self.patch_embed.weight.dims();
        check_pixels(dims, self.frames, channels, self.image_size)
    }

    /// Tokens per clip.
    pub fn num_tokens(&self) -> usize {
        self.pos.dims()[0]
    }

    /// Token embeddings with positions, `(batch, tokens, d)`, from pixels
    /// `(batch, frames, channels, height, width)` (Hugging Face's layout).
    ///
    /// # Panics
    /// If the pixels do not fit the encoder ([`Encoder::check_pixels`]).
    pub fn embed(&self, pixels: Tensor<B, 5>) -> Tensor<B, 3> {
        if let Err(e) = self.check_pixels(pixels.dims()) {
            panic!("{e}");
        }
        let [_, _, t, p, _] = self.patch_embed.weight.dims();
        self.embed_patches(patchify(pixels, t, p))
    }

    /// Token embeddings with positions from [`patchify`]'s patches. The
    /// Conv3d has kernel = stride, so it is one matrix product with its
    /// weight flattened in the same `(channel, t, y, x)` order: the same
    /// function, and on the CPU backend much faster than its conv kernel.
    ///
    /// # Panics
    /// If the patches are not `(batch, tokens, values)` of this encoder.
    pub fn embed_patches(&self, patches: Tensor<B, 3>) -> Tensor<B, 3> {
        let [_, n, _] = patches.dims();
        assert_eq!(
            n,
            self.num_tokens(),
            "patches have {n} tokens, the encoder has {}",
            self.num_tokens()
        );
        let x = self.project_patches(patches);
        let [_, n, d] = x.dims();
        x + self.pos.clone().reshape([1, n, d])
    }

    /// The Conv3d applied to patches `(batch, tokens, values)`, without
    /// positions: `(batch, tokens, d)`.
    ///
    /// # Panics
    /// If a patch has another number of values than the embedding takes.
    pub fn project_patches(&self, patches: Tensor<B, 3>) -> Tensor<B, 3> {
        let [_, _, k] = patches.dims();
        let [d, c, t, p, _] = self.patch_embed.weight.dims();
        assert_eq!(
            k,
            c * t * p * p,
            "patches have {k} values, the embedding takes {}",
            c * t * p * p
        );
        let w = self.patch_embed.weight.val().reshape([d, k]).transpose();
        let x = patches.matmul(w.reshape([1, k, d]));
        match &self.patch_embed.bias {
            Some(bias) => x + bias.val().reshape([1, 1, d]),
            None => x,
        }
    }

    /// The fixed sinusoid positions, `(tokens, d)`.
    pub fn positions(&self) -> Tensor<B, 2> {
        self.pos.clone()
    }

    /// Every hidden state: the embeddings, then each block's output.
    pub fn hidden_states(&self, pixels: Tensor<B, 5>) -> Vec<Tensor<B, 3>> {
        self.hidden_states_of(self.embed(pixels))
    }

    /// Every hidden state from given token embeddings (for example only the
    /// visible ones): the input, then each block's output.
    pub fn hidden_states_of(&self, tokens: Tensor<B, 3>) -> Vec<Tensor<B, 3>> {
        let mut states = vec![tokens];
        for block in &self.blocks {
            let next = block.forward(states.last().expect("embeddings").clone(), None);
            states.push(next);
        }
        states
    }

    /// The last hidden state from given token embeddings.
    pub fn forward_tokens(&self, tokens: Tensor<B, 3>) -> Tensor<B, 3> {
        self.blocks
            .iter()
            .fold(tokens, |x, block| block.forward(x, None))
    }
}

/// Cuts pixels `(batch, frames, channels, height, width)` into tubelets:
/// `(batch, tokens, channels x tubelet x patch x patch)`, tokens in
/// `(t, h, w)` order, each tubelet's values in `(channel, t, y, x)` order
/// (the Conv3d weight's).
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::{Tensor, TensorData}};
/// use videomae::model::patchify;
/// // One clip: 2 frames, 1 channel, 4 x 4 pixels numbered 0..32.
/// let values: Vec<f32> = (0..32).map(|v| v as f32).collect();
/// let data = TensorData::new(values, [1, 2, 1, 4, 4]);
/// let pixels = Tensor::<Flex, 5>::from_data(data, &Default::default());
/// let patches = patchify(pixels, 2, 2);
/// assert_eq!(patches.dims(), [1, 4, 8]); // 4 tubelets of 2 x 2 x 2 values
/// let first: Vec<f32> = patches.narrow(1, 0, 1).into_data().convert::<f32>().to_vec().unwrap();
/// assert_eq!(first, [0.0, 1.0, 4.0, 5.0, 16.0, 17.0, 20.0, 21.0]); // frame 0, then frame 1
/// ```
pub fn patchify<B: Backend>(pixels: Tensor<B, 5>, tubelet: usize, patch: usize) -> Tensor<B, 3> {
    let [b, f, c, h, w] = pixels.dims();
    let (t, gh, gw) = (f / tubelet, h / patch, w / patch);
    pixels
        .reshape([b, t, tubelet, c, gh, patch, gw, patch])
        .permute([0, 1, 4, 6, 3, 2, 5, 7])
        .reshape([b, t * gh * gw, c * tubelet * patch * patch])
}

/// `VideoMAEForVideoClassification`: encoder, pooling, norm, head.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::{model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let (config, device) = (config.with_labels(3), Default::default());
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// assert!(model.uses_mean_pooling());
/// let logits = model.try_forward(Tensor::zeros([1, 4, 3, 32, 32], &device))?;
/// assert_eq!(logits.dims(), [1, 3]);
/// # Ok::<(), videomae::input::InputError>(())
/// ```
#[derive(Module, Debug)]
pub struct VideoMaeClassifier<B: Backend> {
    /// The encoder.
    pub encoder: Encoder<B>,
    /// `fc_norm` (mean pooling) or the encoder's final norm (token 0).
    pub norm: LayerNorm<B>,
    /// Dropout before the head (active only when training).
    pub head_dropout: Dropout,
    /// Classifier head.
    pub head: Linear<B>,
    mean_pooling: bool,
}

impl<B: Backend> VideoMaeClassifier<B> {
    /// A classifier for `config` with Burn's default initialisation.
    pub fn init(config: &VideoMaeConfig, device: &B::Device) -> Self {
        let eps = if config.use_mean_pooling {
            config.fc_norm_eps
        } else {
            config.layer_norm_eps
        };
        VideoMaeClassifier {
            encoder: Encoder::init(config, device),
            norm: LayerNormConfig::new(config.hidden_size)
                .with_epsilon(eps)
                .init(device),
            head_dropout: DropoutConfig::new(config.head_dropout).init(),
            head: LinearConfig::new(config.hidden_size, config.num_labels).init(device),
            mean_pooling: config.use_mean_pooling,
        }
    }

    /// Pooled features `(batch, d)` from pixels `(batch, frames, channels,
    /// height, width)`: the encoder, then the pooling and norm before the
    /// head (timm's and the VideoMAE reference's meaning of the name).
    /// [`VideoMaeClassifier::forward_head`] maps them to logits.
    ///
    /// ```
    /// use videomae::burn::backend::Flex;
    /// use videomae::burn::tensor::Tensor;
    /// use videomae::{VideoMaeConfig, model::VideoMaeClassifier};
    /// // A tiny ViT so the example runs in milliseconds on the CPU.
    /// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
    ///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
    ///     ..VideoMaeConfig::small() }.with_labels(3);
    /// let model = VideoMaeClassifier::<Flex>::init(&config, &Default::default());
    /// let [t, c, s] = [config.num_frames, config.num_channels, config.image_size];
    /// let pixels = Tensor::zeros([2, t, c, s, s], &Default::default());
    /// let features = model.forward_features(pixels);
    /// assert_eq!(features.dims(), [2, config.hidden_size]);
    /// assert_eq!(model.forward_head(features).dims(), [2, 3]);
    /// ```
    ///
    /// # Panics
    /// If the pixels do not fit the model (see
    /// [`VideoMaeClassifier::try_forward`]).
    pub fn forward_features(&self, pixels: Tensor<B, 5>) -> Tensor<B, 2> {
        self.pool(self.encoder.forward_tokens(self.encoder.embed(pixels)))
    }

    /// Pooled features `(batch, d)` from the encoder's last hidden state
    /// `(batch, tokens, d)`: the mean of all tokens then `fc_norm`, or token
    /// 0 through the final norm.
    pub fn pool(&self, last_hidden: Tensor<B, 3>) -> Tensor<B, 2> {
        let [b, _, d] = last_hidden.dims();
        if self.mean_pooling {
            self.norm.forward(last_hidden.mean_dim(1).reshape([b, d]))
        } else {
            self.norm
                .forward(last_hidden.narrow(1, 0, 1).reshape([b, d]))
        }
    }

    /// Logits `(batch, classes)` from pooled features.
    pub fn forward_head(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.head.forward(self.head_dropout.forward(features))
    }

    /// Whether features are the mean of all tokens (then `fc_norm`) rather
    /// than token 0 (then the encoder's final norm).
    pub fn uses_mean_pooling(&self) -> bool {
        self.mean_pooling
    }

    /// Logits `(batch, classes)` from pixels `(batch, frames, channels,
    /// height, width)`.
    ///
    /// # Panics
    /// If the pixels do not fit the model; [`VideoMaeClassifier::try_forward`]
    /// returns that as an error.
    pub fn forward(&self, pixels: Tensor<B, 5>) -> Tensor<B, 2> {
        self.forward_head(self.forward_features(pixels))
    }

    /// [`VideoMaeClassifier::forward`], with pixels that do not fit the
    /// model (an empty batch, other frames, channels or size) an error
    /// instead of a panic.
    pub fn try_forward(&self, pixels: Tensor<B, 5>) -> Result<Tensor<B, 2>, InputError> {
        self.encoder.check_pixels(pixels.dims())?;
        Ok(self.forward(pixels))
    }
}

#[cfg(test)]
mod tests;
