//! The VideoMAE encoder and classifier in Burn (Tong et al., NeurIPS 2022;
//! Wang et al., CVPR 2023): tubelet embedding (Conv3d, kernel = stride),
//! fixed sinusoid positions, pre-norm blocks whose attention has q and v
//! biases and no k bias, exact-erf GELU, mean pooling + `fc_norm` + head.
//!
//! Weights come from checkpoints ([`crate::checkpoint`]); `init` gives
//! Burn's default initialisation, for shapes and tests.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::config::VideoMaeConfig;
use crate::pos::sinusoid_table;

/// Multi-head self-attention with one fused qkv projection (no bias) and
/// learned q and v biases: the key bias is zero, as in the reference.
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

    /// `x`: `(batch, tokens, d)`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, n, d] = x.dims();
        let hd = d / self.heads;
        let mut qkv = self.qkv.forward(x);
        if let (Some(q), Some(v)) = (&self.q_bias, &self.v_bias) {
            let zeros = Tensor::zeros([d], &q.val().device());
            let bias = Tensor::cat(vec![q.val(), zeros, v.val()], 0);
            qkv = qkv + bias.reshape([1, 1, 3 * d]);
        }
        // (b, n, 3, heads, hd) -> (3, b, heads, n, hd)
        let qkv = qkv
            .reshape([b, n, 3, self.heads, hd])
            .permute([2, 0, 3, 1, 4]);
        let part = |i: usize| qkv.clone().narrow(0, i, 1).reshape([b, self.heads, n, hd]);
        let (q, k, v) = (part(0), part(1), part(2));
        let scale = (hd as f64).powf(-0.5);
        let attn = softmax(q.mul_scalar(scale).matmul(k.swap_dims(2, 3)), 3);
        let out = attn.matmul(v).swap_dims(1, 2).reshape([b, n, d]);
        self.proj.forward(out)
    }
}

/// A pre-norm transformer block: `x + attn(norm1(x))`, then
/// `x + fc2(gelu(fc1(norm2(x))))`.
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
}

impl<B: Backend> Block<B> {
    fn new(
        d: usize,
        heads: usize,
        mlp: usize,
        eps: f64,
        qkv_bias: bool,
        device: &B::Device,
    ) -> Self {
        let norm = || LayerNormConfig::new(d).with_epsilon(eps).init(device);
        Block {
            norm1: norm(),
            attn: Attention::new(d, heads, qkv_bias, device),
            norm2: norm(),
            fc1: LinearConfig::new(d, mlp).init(device),
            fc2: LinearConfig::new(mlp, d).init(device),
        }
    }

    /// `x`: `(batch, tokens, d)`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let x = x.clone() + self.attn.forward(self.norm1.forward(x));
        let h = self
            .fc2
            .forward(gelu(self.fc1.forward(self.norm2.forward(x.clone()))));
        x + h
    }
}

/// The encoder: tubelet embedding, fixed positions, blocks.
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    /// Tubelet embedding: Conv3d `channels -> d`, kernel = stride =
    /// `(tubelet, patch, patch)`.
    pub patch_embed: Conv3d<B>,
    /// Blocks.
    pub blocks: Vec<Block<B>>,
    pos: Tensor<B, 2>,
}

impl<B: Backend> Encoder<B> {
    /// An encoder for `config` with Burn's default initialisation.
    pub fn init(config: &VideoMaeConfig, device: &B::Device) -> Self {
        let (d, t, p) = (config.hidden_size, config.tubelet_size, config.patch_size);
        let patch_embed = Conv3dConfig::new([config.num_channels, d], [t, p, p])
            .with_stride([t, p, p])
            .init(device);
        let blocks = (0..config.num_hidden_layers)
            .map(|_| {
                let (h, m) = (config.num_attention_heads, config.intermediate_size);
                Block::new(d, h, m, config.layer_norm_eps, config.qkv_bias, device)
            })
            .collect();
        let n = config.num_tokens();
        let pos = Tensor::from_data(TensorData::new(sinusoid_table(n, d), [n, d]), device);
        Encoder {
            patch_embed,
            blocks,
            pos,
        }
    }

    /// Token embeddings with positions, `(batch, tokens, d)`, from pixels
    /// `(batch, frames, channels, height, width)` (Hugging Face's layout).
    pub fn embed(&self, pixels: Tensor<B, 5>) -> Tensor<B, 3> {
        let x = self.patch_embed.forward(pixels.permute([0, 2, 1, 3, 4]));
        let [b, d, ..] = x.dims();
        let x = x.reshape([b as i32, d as i32, -1]).swap_dims(1, 2);
        let n = x.dims()[1];
        x + self.pos.clone().reshape([1, n, d])
    }

    /// Every hidden state: the embeddings, then each block's output.
    pub fn hidden_states(&self, pixels: Tensor<B, 5>) -> Vec<Tensor<B, 3>> {
        let mut states = vec![self.embed(pixels)];
        for block in &self.blocks {
            let next = block.forward(states.last().expect("embeddings").clone());
            states.push(next);
        }
        states
    }
}

/// `VideoMAEForVideoClassification`: encoder, pooling, norm, head.
#[derive(Module, Debug)]
pub struct VideoMaeClassifier<B: Backend> {
    /// The encoder.
    pub encoder: Encoder<B>,
    /// `fc_norm` (mean pooling) or the encoder's final norm (token 0).
    pub norm: LayerNorm<B>,
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
            head: LinearConfig::new(config.hidden_size, config.num_labels).init(device),
            mean_pooling: config.use_mean_pooling,
        }
    }

    /// Pooled features `(batch, d)` from the last hidden state.
    pub fn forward_features(&self, last_hidden: Tensor<B, 3>) -> Tensor<B, 2> {
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
        self.head.forward(features)
    }

    /// Logits `(batch, classes)` from pixels `(batch, frames, channels,
    /// height, width)`.
    pub fn forward(&self, pixels: Tensor<B, 5>) -> Tensor<B, 2> {
        let last = self
            .encoder
            .hidden_states(pixels)
            .pop()
            .expect("at least the embeddings");
        self.forward_head(self.forward_features(last))
    }
}
