//! One feature extractor for every checkpoint kind: [`load_encoder`] reads
//! a classifier or a pretraining checkpoint (Hugging Face folder, original
//! `.pth`, or a folder written by [`save_hf`](crate::checkpoint::save_hf))
//! and returns a [`VideoEncoder`], whose
//! [`forward_features`](VideoEncoder::forward_features) gives one pooled
//! vector per clip and whose [`forward_head`](VideoEncoder::forward_head)
//! maps those to logits when the checkpoint has a classifier head. The
//! names follow the VideoMAE reference's `forward_features` (pooled and
//! normed) and `head`.

use std::path::Path;

use burn::nn::{Dropout, LayerNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::VideoMaeConfig;
use crate::checkpoint::{CheckpointError, LoadedModel, load};
use crate::input::InputError;
use crate::model::{Encoder, VideoMaeClassifier};
use crate::pretrain::VideoMaePretraining;

/// How a [`VideoEncoder`] turns the encoder's last hidden state
/// `(batch, tokens, d)` into features `(batch, d)`.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::features::{Pooling, VideoEncoder};
/// use videomae::{model::VideoMaeClassifier, pretrain::VideoMaePretraining, VideoMaeConfig};
/// // A tiny ViT and decoder, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     decoder_hidden_size: 24, decoder_num_hidden_layers: 1,
///     decoder_num_attention_heads: 2, decoder_intermediate_size: 48,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let mean: VideoEncoder<Flex> = VideoMaeClassifier::init(&config, &device).into();
/// assert_eq!(mean.pooling(), Pooling::MeanThenNorm); // `use_mean_pooling` is true
/// let config = VideoMaeConfig { use_mean_pooling: false, ..config };
/// let first: VideoEncoder<Flex> = VideoMaeClassifier::init(&config, &device).into();
/// assert_eq!(first.pooling(), Pooling::FirstToken);
/// let pretrained: VideoEncoder<Flex> = VideoMaePretraining::init(&config, &device).into();
/// assert_eq!(pretrained.pooling(), Pooling::NormThenMean);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean over tokens, then the norm: a classifier with mean pooling
    /// (its trained `fc_norm`).
    MeanThenNorm,
    /// Token 0 after the norm: a classifier without mean pooling (the
    /// encoder's trained final norm).
    FirstToken,
    /// The norm on every token, then the mean over tokens: a pretraining
    /// checkpoint. Its encoder's trained final norm is used when it has one
    /// (original checkpoints and Hugging Face ones with
    /// `use_mean_pooling: false`), else the tokens are averaged unnormed.
    /// The reference's fine-tuning instead drops that norm and trains a
    /// fresh `fc_norm` after the mean; with no trained `fc_norm` to load,
    /// the encoder's own norm is the one that fits its outputs.
    NormThenMean,
}

/// A VideoMAE encoder with the pooling (and norm) of its checkpoint and,
/// for a classifier, its head. Built by [`load_encoder`] or from a model
/// ([`From`]).
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::{features::VideoEncoder, input::InputError, model::VideoMaeClassifier};
/// use videomae::VideoMaeConfig;
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let (config, device) = (config.with_labels(5), Default::default());
/// let encoder: VideoEncoder<Flex> = VideoMaeClassifier::init(&config, &device).into();
/// assert_eq!((encoder.width(), encoder.num_labels()), (48, Some(5)));
/// let features = encoder.forward_features(Tensor::zeros([2, 4, 3, 32, 32], &device))?;
/// assert_eq!(features.dims(), [2, 48]);
/// assert_eq!(encoder.forward_head(features)?.dims(), [2, 5]);
/// // Pixels of another size are an error, not a panic.
/// let wrong = Tensor::zeros([1, 4, 3, 64, 64], &device);
/// assert!(matches!(encoder.forward_features(wrong), Err(InputError::PixelShape { .. })));
/// # Ok::<(), InputError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VideoEncoder<B: Backend> {
    /// The encoder.
    pub encoder: Encoder<B>,
    /// The norm of the features ([`Pooling`] says where it applies);
    /// `None` only for a pretraining checkpoint without an encoder norm.
    pub norm: Option<LayerNorm<B>>,
    /// Dropout before the head and the head, for a classifier.
    pub head: Option<(Dropout, Linear<B>)>,
    pooling: Pooling,
}

impl<B: Backend> VideoEncoder<B> {
    /// How features are pooled.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// The width `d` of the features.
    pub fn width(&self) -> usize {
        self.encoder.positions().dims()[1]
    }

    /// The number of classes of the head; `None` without one.
    pub fn num_labels(&self) -> Option<usize> {
        self.head.as_ref().map(|(_, h)| h.weight.dims()[1])
    }

    /// Pooled features `(batch, d)` of pixels `(batch, frames, channels,
    /// height, width)`; pixels that do not fit the encoder (an empty
    /// batch, other frames, channels or size) are an error.
    pub fn forward_features(&self, pixels: Tensor<B, 5>) -> Result<Tensor<B, 2>, InputError> {
        self.encoder.check_pixels(pixels.dims())?;
        let last = self.encoder.forward_tokens(self.encoder.embed(pixels));
        Ok(self.pool(last))
    }

    /// Features `(batch, d)` from the encoder's last hidden state `(batch,
    /// tokens, d)`.
    fn pool(&self, last: Tensor<B, 3>) -> Tensor<B, 2> {
        let [b, _, d] = last.dims();
        let norm = |x: Tensor<B, 2>| match &self.norm {
            Some(n) => n.forward(x),
            None => x,
        };
        match self.pooling {
            Pooling::MeanThenNorm => norm(last.mean_dim(1).reshape([b, d])),
            // LayerNorm is per token: norming token 0 alone is the same.
            Pooling::FirstToken => norm(last.narrow(1, 0, 1).reshape([b, d])),
            Pooling::NormThenMean => {
                let last = match &self.norm {
                    Some(n) => n.forward(last),
                    None => last,
                };
                last.mean_dim(1).reshape([b, d])
            }
        }
    }

    /// Logits `(batch, classes)` from features `(batch, d)`. An encoder
    /// without a head (from a pretraining checkpoint) is
    /// [`InputError::NoHead`]; features of another width, or none, are
    /// [`InputError::FeatureShape`].
    pub fn forward_head(&self, features: Tensor<B, 2>) -> Result<Tensor<B, 2>, InputError> {
        let (dropout, head) = self.head.as_ref().ok_or(InputError::NoHead)?;
        let found = features.dims();
        let width = self.width();
        // A batch of 0 would reach the matrix product (see `input`).
        if found[0] == 0 || found[1] != width {
            return Err(InputError::FeatureShape { found, width });
        }
        Ok(head.forward(dropout.forward(features)))
    }
}

impl<B: Backend> From<VideoMaeClassifier<B>> for VideoEncoder<B> {
    fn from(m: VideoMaeClassifier<B>) -> Self {
        let pooling = if m.uses_mean_pooling() {
            Pooling::MeanThenNorm
        } else {
            Pooling::FirstToken
        };
        VideoEncoder {
            encoder: m.encoder,
            norm: Some(m.norm),
            head: Some((m.head_dropout, m.head)),
            pooling,
        }
    }
}

impl<B: Backend> From<VideoMaePretraining<B>> for VideoEncoder<B> {
    /// Keeps the encoder and its norm; the decoder is dropped.
    fn from(m: VideoMaePretraining<B>) -> Self {
        VideoEncoder {
            encoder: m.encoder,
            norm: m.encoder_norm,
            head: None,
            pooling: Pooling::NormThenMean,
        }
    }
}

impl<B: Backend> From<LoadedModel<B>> for VideoEncoder<B> {
    fn from(m: LoadedModel<B>) -> Self {
        match m {
            LoadedModel::Classifier(m) => (*m).into(),
            LoadedModel::Pretraining(m) => (*m).into(),
        }
    }
}

/// Loads any checkpoint [`load`] reads (a Hugging Face folder or its
/// `model.safetensors`, classifier or pretraining, including folders
/// written by [`save_hf`](crate::checkpoint::save_hf); an original `.pth`
/// with the `config.json` beside it or `config`) as a [`VideoEncoder`]:
/// a classifier keeps its pooling, norm and head, a pretraining model its
/// encoder and final norm ([`Pooling::NormThenMean`], no head).
///
/// ```no_run
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// let device = Default::default();
/// let (config, encoder) = videomae::checkpoint::load_encoder::<Flex>("videomae-base".as_ref(), None, &device)?;
/// let s = config.image_size;
/// let clip = Tensor::<Flex, 5>::zeros([1, config.num_frames, config.num_channels, s, s], &device);
/// println!("{}", encoder.forward_features(clip)?); // (1, hidden_size)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_encoder<B: Backend>(
    path: &Path,
    config: Option<VideoMaeConfig>,
    device: &B::Device,
) -> Result<(VideoMaeConfig, VideoEncoder<B>), CheckpointError> {
    let (config, model) = load(path, config, device)?;
    Ok((config, model.into()))
}
