//! Learning-rate schedule and scaling, as VideoMAE V2's `utils.cosine_scheduler`
//! and `run_mae_pretraining.py`.
//!
//! - The base and minimum rates scale with the batch: `lr * total_batch /
//!   256`, where the total batch counts clips (not views).
//! - Per step: a linear warm-up from 0 that reaches the base rate on its
//!   last step (`np.linspace(0, base, warmup_steps)`, endpoint included),
//!   then a cosine from the base rate towards the minimum over the remaining
//!   steps, `min + (base - min) / 2 * (1 + cos(pi * i / L))`, `i = 0..L`
//!   (so the minimum itself is never reached).

use serde::{Deserialize, Serialize};

/// A warm-up + cosine schedule over `total_steps` optimizer steps.
///
/// ```
/// use ssl_pretrain::train::CosineSchedule;
/// // The reference's utils.cosine_scheduler(1e-3, 1e-5, 2 epochs, 10 steps, 1 warm-up epoch).
/// let s = CosineSchedule { base: 1e-3, min: 1e-5, warmup_steps: 10, total_steps: 20 };
/// assert_eq!(s.at(0), 0.0);
/// assert!((s.at(9) - 1e-3).abs() < 1e-18); // warm-up end
/// assert!((s.at(15) - 5.05e-4).abs() < 1e-12); // cosine midpoint
/// assert!((s.at(19) - 3.4227e-5).abs() < 1e-9); // last step, above min
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CosineSchedule {
    /// Peak rate (already scaled by the batch).
    pub base: f64,
    /// Rate the cosine tends to.
    pub min: f64,
    /// Warm-up steps.
    pub warmup_steps: u64,
    /// All steps of the run.
    pub total_steps: u64,
}

impl CosineSchedule {
    /// The rate at optimizer step `step` (0-based); past the end, the last
    /// step's rate.
    pub fn at(&self, step: u64) -> f64 {
        let step = step.min(self.total_steps.saturating_sub(1));
        let warm = self.warmup_steps.min(self.total_steps);
        if step < warm {
            // np.linspace(0, base, warm)[step]; one warm-up step is just 0.
            return if warm > 1 {
                self.base * step as f64 / (warm - 1) as f64
            } else {
                0.0
            };
        }
        let span = (self.total_steps - warm) as f64;
        let i = (step - warm) as f64;
        self.min + 0.5 * (self.base - self.min) * (1.0 + (std::f64::consts::PI * i / span).cos())
    }
}

/// The reference's linear scaling rule: `rate * total_batch / 256`.
///
/// ```
/// use ssl_pretrain::train::scaled_lr;
/// // ViT-B V2: 1e-3 at 32 clips x 32 GPUs = 1024 clips -> 4e-3.
/// assert_eq!(scaled_lr(1e-3, 1024), 4e-3);
/// ```
pub fn scaled_lr(rate: f64, total_batch: usize) -> f64 {
    rate * total_batch as f64 / 256.0
}
