//! A pretraining run: the recipe ([`PretrainConfig`]), the loop
//! ([`Trainer`]) and its checkpoints.
//!
//! The loop is hand-written over [`AdamW`](crate::train::AdamW), as Burn's
//! book recommends when its `SupervisedTraining` does not fit: that one
//! checkpoints only at epoch ends and cannot resume mid-epoch. Every step:
//! `accum` loader batches, a tube mask and a running-cell mask per view,
//! the V2 loss per micro-batch weighted by its share of reconstructed
//! tokens (so accumulation gives the full batch's mean), one backward per
//! micro-batch, the global gradient norm (clipped when asked), the
//! scheduled rate, one AdamW step.

mod checkpoint;
mod preview;
mod trainer;

use serde::{Deserialize, Serialize};
use videomae::VideoMaeConfig;

use crate::data::LoaderConfig;
use crate::train::AdamWSettings;

pub use checkpoint::{
    CheckpointError, TrainerState, latest_checkpoint, load_checkpoint, save_checkpoint,
};
pub use preview::{curves_png, reconstruct, reconstruction_strip};
pub use trainer::{RunError, RunSummary, StepMetrics, Trainer};

/// A small ViT for CPU runs and tests: 64x64 pixels, 8 frames, width 96,
/// 2 encoder blocks, a 1-block decoder of width 48.
///
/// ```
/// let c = ssl_pretrain::run::tiny_model();
/// assert!(c.validate_pretraining().is_ok());
/// assert_eq!(c.num_tokens(), 4 * 4 * 4); // (64/16)^2 cells x 8/2 slices
/// ```
pub fn tiny_model() -> VideoMaeConfig {
    VideoMaeConfig {
        image_size: 64,
        num_frames: 8,
        hidden_size: 96,
        num_hidden_layers: 2,
        num_attention_heads: 3,
        intermediate_size: 384,
        decoder_hidden_size: 48,
        decoder_num_hidden_layers: 1,
        decoder_num_attention_heads: 3,
        decoder_intermediate_size: 192,
        ..VideoMaeConfig::small()
    }
}

/// The pretraining recipe, saved as `config.json` in the run folder.
/// Defaults are VideoMAE V2's (ViT-B) except the run length, which is the
/// user's to choose.
///
/// ```
/// use ssl_pretrain::run::PretrainConfig;
/// let c = PretrainConfig::default();
/// assert_eq!((c.mask_ratio, c.decoder_mask_ratio, c.base_lr, c.min_lr), (0.9, 0.5, 1e-3, 1e-5));
/// assert!(c.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PretrainConfig {
    /// The model (Hugging Face field names).
    pub model: VideoMaeConfig,
    /// Clip loading and augmentation.
    pub loader: LoaderConfig,
    /// AdamW.
    pub optimizer: AdamWSettings,
    /// Encoder tube-mask ratio.
    pub mask_ratio: f64,
    /// Decoder running-cell mask ratio; 0 trains VideoMAE v1.
    pub decoder_mask_ratio: f64,
    /// Learning rate per 256 clips of total batch.
    pub base_lr: f64,
    /// Final learning rate per 256 clips.
    pub min_lr: f64,
    /// Linear warm-up, in optimizer steps.
    pub warmup_steps: u64,
    /// Optimizer steps in the whole run.
    pub total_steps: u64,
    /// Loader batches per optimizer step (gradients averaged over them).
    pub accum_steps: usize,
    /// Global gradient-norm clip (`None`: off, as the reference's ViT-B).
    pub clip_grad: Option<f64>,
    /// Checkpoint every this many steps (and at the end).
    pub save_every: u64,
    /// Checkpoints kept (older ones are deleted).
    pub keep_last: usize,
    /// Seed of the masks and the backend's random numbers (the loader has
    /// its own in `loader.seed`).
    pub seed: u64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        let model = VideoMaeConfig::base();
        PretrainConfig {
            loader: LoaderConfig {
                num_frames: model.num_frames,
                ..LoaderConfig::default()
            },
            model,
            optimizer: AdamWSettings::default(),
            mask_ratio: 0.9,
            decoder_mask_ratio: 0.5,
            base_lr: 1e-3,
            min_lr: 1e-5,
            warmup_steps: 0,
            total_steps: 1000,
            accum_steps: 1,
            clip_grad: None,
            save_every: 500,
            keep_last: 3,
            seed: 0,
        }
    }
}

impl PretrainConfig {
    /// Clips per optimizer step: loader batch x accumulation.
    pub fn total_batch(&self) -> usize {
        self.loader.batch_size * self.accum_steps
    }

    /// Ok when the run can start; otherwise the first problem.
    pub fn validate(&self) -> Result<(), String> {
        self.model
            .validate_pretraining()
            .map_err(|e| e.to_string())?;
        self.loader.validate().map_err(|e| e.to_string())?;
        if self.loader.num_frames != self.model.num_frames
            || self.loader.crop.input_size != self.model.image_size
        {
            return Err(format!(
                "the loader gives {} frames of {}px, the model takes {} of {}px",
                self.loader.num_frames,
                self.loader.crop.input_size,
                self.model.num_frames,
                self.model.image_size
            ));
        }
        if !(0.0..1.0).contains(&self.mask_ratio) || !(0.0..1.0).contains(&self.decoder_mask_ratio)
        {
            return Err("mask ratios must lie in [0, 1)".into());
        }
        let rates = [
            self.base_lr,
            self.min_lr,
            self.optimizer.eps,
            self.optimizer.weight_decay,
        ];
        if rates.iter().any(|r| !r.is_finite() || *r < 0.0) {
            return Err("rates, eps and weight decay must be finite and non-negative".into());
        }
        if self.total_steps == 0
            || self.accum_steps == 0
            || self.save_every == 0
            || self.keep_last == 0
        {
            return Err(
                "total_steps, accum_steps, save_every and keep_last must be at least 1".into(),
            );
        }
        if self.clip_grad.is_some_and(|c| !(c > 0.0 && c.is_finite())) {
            return Err("clip_grad must be positive".into());
        }
        Ok(())
    }
}
