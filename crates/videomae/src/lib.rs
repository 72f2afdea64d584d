//! # videomae: VideoMAE / VideoMAE V2 in Burn
//!
//! The model core of tubelet (Tong et al., "VideoMAE", NeurIPS 2022; Wang et
//! al., "VideoMAE V2: Scaling Video Masked Autoencoders with Dual Masking",
//! CVPR 2023).
//!
//! **Status.** Working today:
//! - [`VideoMaeConfig`]: presets small/base/large/huge/giant and any custom
//!   size, with Hugging Face `config.json` field names
//!   ([`VideoMaeConfig::from_hf_json`]) and parameter counts that match the
//!   published ones (ViT-B + 400 classes = 86,534,800);
//! - [`model`]: the encoder (Conv3d tubelet embedding, fixed sinusoid
//!   positions, pre-norm blocks with q/v biases, exact GELU) and the
//!   classifier (mean pooling + `fc_norm`, or token 0 + final norm), with
//!   `forward_features` / `forward_head`, in Burn on any backend;
//! - [`checkpoint`]: strict loading of Hugging Face
//!   `VideoMAEForVideoClassification` checkpoints (missing, unexpected and
//!   mis-shaped keys are one error naming them); hidden states and logits
//!   match transformers within 1e-4 on the committed fixture;
//! - [`sinusoid_table`], [`masking`] (tube and running-cell masks, loss
//!   positions) and [`target`] (normalised-pixel target and masked MSE,
//!   matching transformers' pretraining loss on the fixture).
//!
//! **Not implemented yet** (the videomae issue): the pretraining decoder and
//! `VideoMAEForPreTraining` loading, the original `.pth` loader, drop path
//! and dropout in training, the target and losses as tensor ops, the
//! `videomae_forward` example, and benchmarks. Backends: the CPU backend
//! (`burn::backend::Flex`) is what the tests use; the `cuda` feature builds
//! burn-cuda (Burn 0.21.0, see docs/ARCHITECTURE.md) and is not yet
//! exercised on a GPU.
//!
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
pub mod masking;
pub mod model;
mod pos;
pub mod target;

pub use config::{ConfigError, VideoMaeConfig};
pub use pos::sinusoid_table;
