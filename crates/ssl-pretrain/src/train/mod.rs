//! The pieces of the pretraining loop that must match the reference
//! exactly: AdamW with its two parameter groups and PyTorch's update,
//! global-norm gradient clipping, and the warm-up + cosine schedule.

mod adamw;
mod schedule;

pub use adamw::{
    AdamW, AdamWSettings, AdamWState, NO_DECAY_NAMES, clip_scale, grad_norm, named_parameters,
    no_weight_decay,
};
pub use schedule::{CosineSchedule, scaled_lr};
