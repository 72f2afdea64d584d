//! # videomae: VideoMAE / VideoMAE V2 in Burn
//!
//! The model core of tubelet (Tong et al., "VideoMAE", NeurIPS 2022; Wang et
//! al., "VideoMAE V2: Scaling Video Masked Autoencoders with Dual Masking",
//! CVPR 2023).
//!
//! What is here:
//! - [`VideoMaeConfig`]: presets small/base/large/huge/giant and any custom
//!   size, with Hugging Face `config.json` field names
//!   ([`VideoMaeConfig::from_hf_json`]) and parameter counts that match the
//!   published ones (ViT-B + 400 classes = 86,534,800);
//! - [`model`]: the encoder (Conv3d tubelet embedding, fixed sinusoid
//!   positions, pre-norm blocks with q/v biases, exact GELU, stochastic
//!   depth in training) and the classifier (mean pooling + `fc_norm`, or
//!   token 0 + final norm; dropout; `forward_features` / `forward_head`);
//! - [`pretrain`]: the masked-autoencoder model (encoder on visible tokens,
//!   `encoder_to_decoder`, mask token, decoder) with v1 decoding and V2 dual
//!   masking, and its loss as tensor ops on any backend;
//! - [`masking`] (tube and running-cell masks, loss positions) and
//!   [`target`] (normalised-pixel target, on slices and as tensors);
//! - [`input`] (shape checks at the models' `try_forward` entry points,
//!   finiteness checks) and [`io`] (the safetensors input of a forward
//!   pass, bounded by the file's real size; atomic output);
//! - [`features`]: [`checkpoint::load_encoder`] loads any checkpoint kind
//!   as one [`features::VideoEncoder`]: pooled `forward_features` from
//!   pixels, `forward_head` to logits when there is a classifier head;
//! - [`checkpoint`]: strict loading of Hugging Face checkpoints (pretraining
//!   and classification) and of original VideoMAE / V2 `.pth` files (read
//!   without executing pickle code), and saving in the HF layout. Missing,
//!   unexpected and mis-shaped keys are one error naming them.
//!
//! Every hidden state, the logits and the loss match transformers within
//! 1e-4 on the committed fixtures (`tools/gen_videomae_fixtures.py`), for HF
//! and `.pth` checkpoints; V2 dual masking matches a clip-by-clip reference
//! built from transformers' own modules. The `videomae_forward` example
//! runs any checkpoint on a safetensors input and compares outputs.
//!
//! Backends: `burn::backend::Flex` (CPU) everywhere; the `cuda` feature
//! builds burn-cuda (Burn 0.21.0, offline; see docs/ARCHITECTURE.md).

//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► frame selection ─► shards ─► [model used by pretraining and fine-tuning] ─► report
//! ```
//! It depends on no sibling crate: `ssl-pretrain` and `finetune-bench`
//! compose on top of it, never the other way round.
//!
//! ## Examples
//! Classify with a Hugging Face checkpoint folder (`config.json` +
//! `model.safetensors`) on the CPU backend:
//! ```no_run
//! use videomae::burn::backend::Flex;
//! use videomae::burn::tensor::Tensor;
//! let device = Default::default();
//! let (config, model) =
//!     videomae::checkpoint::load_hf_classifier::<Flex>("videomae-base-finetuned-kinetics".as_ref(), &device)?;
//! let s = config.image_size;
//! let pixels = Tensor::<Flex, 5>::zeros([1, config.num_frames, 3, s, s], &device);
//! let logits = model.forward(pixels); // (1, classes)
//! # Ok::<(), videomae::checkpoint::CheckpointError>(())
//! ```
//!
//! Draw the dual masks of one pretraining step:
//! ```
//! use videomae::masking::{MaskRng, RunningCellMask, TubeMask, target_positions};
//! use videomae::VideoMaeConfig;
//!
//! let config = VideoMaeConfig::base();
//! let mut rng = MaskRng::seed(42);
//! let encoder = TubeMask::new(&config, 0.9)?.sample(&mut rng);
//! let decoder = RunningCellMask::new(&config, 0.5)?.sample(&mut rng);
//! let targets = target_positions(&encoder, Some(&decoder));
//! assert_eq!(encoder.iter().filter(|m| !**m).count(), 160); // visible tokens
//! assert!(targets.len() < 1408); // a subset of the 1408 masked tokens
//! # Ok::<(), videomae::masking::MaskError>(())
//! ```

#![deny(missing_docs)]

/// The Burn version this crate is built on, for naming backends and tensors.
pub use burn;

pub mod checkpoint;
mod config;
pub mod features;
pub mod input;
pub mod io;
mod limits;
pub mod masking;
pub mod model;
mod pos;
pub mod pretrain;
pub mod target;
pub mod tensors;

pub use config::{ConfigError, VideoMaeConfig};
pub use limits::{
    MAX_CHANNELS, MAX_FRAMES, MAX_IMAGE_SIZE, MAX_LABELS, MAX_LAYERS, MAX_POSITION_VALUES,
    MAX_WIDTH,
};
pub use pos::sinusoid_table;
