//! The pretraining loop (see the module docs of [`run`](super)).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use videomae::masking::{MaskRng, RunningCellMask, TubeMask};
use videomae::pretrain::{PretrainMasks, VideoMaePretraining};

use super::PretrainConfig;
use super::checkpoint::{
    CheckpointError, TrainerState, latest_checkpoint, load_checkpoint, save_checkpoint,
};
use super::preview::{curves_png, reconstruct, save_png};
use crate::data::{Batch, Batches, ClipLoader, SkipReport};
use crate::train::{AdamW, CosineSchedule, clip_scale, grad_norm, scaled_lr};

/// One optimizer step's numbers (a line of `metrics.jsonl`).
///
/// ```
/// let m = ssl_pretrain::run::StepMetrics { step: 1, loss: 0.9, lr: 1e-4, grad_norm: 2.0,
///     clips_per_s: 10.0, data_wait: 0.1 };
/// assert_eq!(serde_json::to_value(&m)?["step"], 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Steps done, this one included.
    pub step: u64,
    /// The step's loss (mean over its reconstructed tokens).
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Clips (not views) per second over the whole step.
    pub clips_per_s: f64,
    /// Fraction of the step spent waiting for the loader.
    pub data_wait: f64,
}

/// What a finished run did.
///
/// ```
/// use std::sync::Arc;
/// use burn::backend::{Autodiff, Flex};
/// use ssl_pretrain::data::*;
/// use ssl_pretrain::run::{PretrainConfig, Trainer, latest_checkpoint, load_checkpoint, tiny_model};
/// # let out = std::env::temp_dir().join(format!("ssl-doc-trainer-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&out);
/// // A stand-in for FFmpeg: two clips of flat grey views.
/// let clips: Vec<ClipEntry> = ["a", "b"].iter()
///     .map(|id| ClipEntry { id: id.to_string(), location: ClipLocation::File(format!("{id}.mp4").into()) })
///     .collect();
/// let load: Arc<ClipFn> = Arc::new(|_: &ClipEntry, c: &LoaderConfig, _: &mut _| {
///     let n = c.num_frames * 3 * c.crop.input_size * c.crop.input_size;
///     Ok(vec![ClipView { pixels: vec![0.5; n], crop: CropBox { x: 0, y: 0, w: 1, h: 1 } }; c.num_sample])
/// });
/// let mut config = PretrainConfig { model: tiny_model(), total_steps: 2, save_every: 1, ..Default::default() };
/// config.loader = LoaderConfig { num_frames: 8, batch_size: 1, num_sample: 1, workers: 1,
///     crop: MultiScaleCrop { input_size: 64, ..Default::default() }, ..Default::default() };
/// let loader = ClipLoader::with_fn(Arc::new(clips), config.loader.clone(), load);
/// let mut trainer = Trainer::<Autodiff<Flex>>::open(config.clone(), &out, false, Default::default())?;
/// let summary = trainer.run(&loader, None, &mut |m| assert!(m.loss.is_finite()))?;
/// assert_eq!(summary.steps, 2);
/// let last = latest_checkpoint(&out)?.expect("a checkpoint");
/// let (_model, optimizer, state) = load_checkpoint::<Flex>(&last, &config, &Default::default())?;
/// assert_eq!((state.step, optimizer.steps), (2, 2));
/// # std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Steps done in all.
    pub steps: u64,
    /// The last checkpoint written.
    pub checkpoint: PathBuf,
    /// Clips skipped and loaded in this session.
    pub skipped: SkipReport,
}

/// A run that cannot start or go on.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use ssl_pretrain::run::{PretrainConfig, RunError, Trainer};
/// let bad = PretrainConfig { total_steps: 0, ..Default::default() };
/// let err = Trainer::<Autodiff<Flex>>::open(bad, "runs/x".as_ref(), false, Default::default()).err().unwrap();
/// assert!(matches!(err, RunError::Config(_)));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The recipe is invalid.
    #[error("invalid pretraining config: {0}")]
    Config(String),
    /// The data source cannot be used.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A checkpoint cannot be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A run folder file cannot be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The loss or the gradients stopped being finite: the run stops, the
    /// last good checkpoint is kept.
    #[error("non-finite {what} ({value}) at step {step}; last good checkpoint: {}", last_checkpoint.as_ref().map_or("none".to_string(), |p| p.display().to_string()))]
    NonFinite {
        /// `loss` or `gradient norm`.
        what: &'static str,
        /// The value.
        value: f64,
        /// The step that produced it (1-based).
        step: u64,
        /// The newest checkpoint on disk.
        last_checkpoint: Option<PathBuf>,
    },
    /// No clip of the source could be loaded for a whole epoch.
    #[error(
        "an epoch gave no batch: every clip failed or the source has fewer clips than a batch ({skipped} skipped)"
    )]
    NoBatches {
        /// Clips skipped in that epoch.
        skipped: u64,
    },
}

/// A 64-bit mix of the run seed and a step, for per-step generators.
fn step_seed(seed: u64, step: u64) -> u64 {
    let mut z = seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5151_5151;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A pretraining run on backend `AB` (`Autodiff<Flex>` on CPU,
/// `Autodiff<Cuda>` with the `cuda` feature).
///
/// ```
/// use std::sync::Arc;
/// use burn::backend::{Autodiff, Flex};
/// use ssl_pretrain::data::*;
/// use ssl_pretrain::run::{PretrainConfig, Trainer, latest_checkpoint, load_checkpoint, tiny_model};
/// # let out = std::env::temp_dir().join(format!("ssl-doc-trainer-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&out);
/// // A stand-in for FFmpeg: two clips of flat grey views.
/// let clips: Vec<ClipEntry> = ["a", "b"].iter()
///     .map(|id| ClipEntry { id: id.to_string(), location: ClipLocation::File(format!("{id}.mp4").into()) })
///     .collect();
/// let load: Arc<ClipFn> = Arc::new(|_: &ClipEntry, c: &LoaderConfig, _: &mut _| {
///     let n = c.num_frames * 3 * c.crop.input_size * c.crop.input_size;
///     Ok(vec![ClipView { pixels: vec![0.5; n], crop: CropBox { x: 0, y: 0, w: 1, h: 1 } }; c.num_sample])
/// });
/// let mut config = PretrainConfig { model: tiny_model(), total_steps: 2, save_every: 1, ..Default::default() };
/// config.loader = LoaderConfig { num_frames: 8, batch_size: 1, num_sample: 1, workers: 1,
///     crop: MultiScaleCrop { input_size: 64, ..Default::default() }, ..Default::default() };
/// let loader = ClipLoader::with_fn(Arc::new(clips), config.loader.clone(), load);
/// let mut trainer = Trainer::<Autodiff<Flex>>::open(config.clone(), &out, false, Default::default())?;
/// let summary = trainer.run(&loader, None, &mut |m| assert!(m.loss.is_finite()))?;
/// assert_eq!(summary.steps, 2);
/// let last = latest_checkpoint(&out)?.expect("a checkpoint");
/// let (_model, optimizer, state) = load_checkpoint::<Flex>(&last, &config, &Default::default())?;
/// assert_eq!((state.step, optimizer.steps), (2, 2));
/// # std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Trainer<AB: AutodiffBackend> {
    config: PretrainConfig,
    run_dir: PathBuf,
    device: AB::Device,
    model: VideoMaePretraining<AB>,
    optimizer: AdamW<AB::InnerBackend>,
    state: TrainerState,
    tube: TubeMask,
    cell: Option<RunningCellMask>,
    schedule: CosineSchedule,
    /// A fixed clip view and masks whose reconstruction is drawn at every
    /// checkpoint: `(pixels, masks, encoder mask)`.
    preview: Option<(Vec<f32>, PretrainMasks, Vec<bool>)>,
}

impl<AB: AutodiffBackend> Trainer<AB> {
    /// A new run in `run_dir` (which gets `config.json`), or, when it holds
    /// checkpoints and `resume` is set, the run continued from the newest.
    /// Without `resume`, a folder that already holds checkpoints is an
    /// error rather than overwritten.
    pub fn open(
        config: PretrainConfig,
        run_dir: &Path,
        resume: bool,
        device: AB::Device,
    ) -> Result<Self, RunError> {
        config.validate().map_err(RunError::Config)?;
        let tube = TubeMask::new(&config.model, config.mask_ratio)
            .map_err(|e| RunError::Config(e.to_string()))?;
        let cell = (config.decoder_mask_ratio > 0.0)
            .then(|| RunningCellMask::new(&config.model, config.decoder_mask_ratio))
            .transpose()
            .map_err(|e| RunError::Config(e.to_string()))?;
        let total = config.total_batch();
        let schedule = CosineSchedule {
            base: scaled_lr(config.base_lr, total),
            min: scaled_lr(config.min_lr, total),
            warmup_steps: config.warmup_steps,
            total_steps: config.total_steps,
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RunError::Io { path, source }
        };
        std::fs::create_dir_all(run_dir).map_err(io(run_dir))?;
        let latest = latest_checkpoint(run_dir)?;
        let (model, optimizer, state) = match (latest, resume) {
            (Some(dir), true) => {
                let (model, opt, state) = load_checkpoint::<AB>(&dir, &config, &device)?;
                let opt = AdamW::from_state(config.optimizer.clone(), &opt, &device);
                (model, opt, state)
            }
            (Some(dir), false) => {
                return Err(RunError::Config(format!(
                    "{} already holds checkpoints ({}): pass resume to continue it, or choose a new folder",
                    run_dir.display(),
                    dir.display()
                )));
            }
            (None, _) => {
                AB::seed(&device, step_seed(config.seed, u64::MAX));
                let model = VideoMaePretraining::init(&config.model, &device);
                let state = TrainerState {
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..TrainerState::default()
                };
                (model, AdamW::new(config.optimizer.clone()), state)
            }
        };
        let config_path = run_dir.join("config.json");
        let json =
            serde_json::to_vec_pretty(&config).map_err(|e| RunError::Config(e.to_string()))?;
        std::fs::write(&config_path, json).map_err(io(&config_path))?;
        Ok(Trainer {
            config,
            run_dir: run_dir.to_path_buf(),
            device,
            model,
            optimizer,
            state,
            tube,
            cell,
            schedule,
            preview: None,
        })
    }

    /// Where the run stands.
    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    /// The model being trained.
    pub fn model(&self) -> &VideoMaePretraining<AB> {
        &self.model
    }

    /// The learning-rate schedule.
    pub fn schedule(&self) -> &CosineSchedule {
        &self.schedule
    }

    /// Trains until `config.total_steps` (or until `stop_after` more steps,
    /// when given), calling `on_step` after each step; writes
    /// `metrics.jsonl` and checkpoints, and a final checkpoint.
    pub fn run(
        &mut self,
        loader: &ClipLoader,
        stop_after: Option<u64>,
        on_step: &mut dyn FnMut(&StepMetrics),
    ) -> Result<RunSummary, RunError> {
        let report = Arc::new(Mutex::new(SkipReport::default()));
        let metrics_path = self.run_dir.join("metrics.jsonl");
        let mut metrics = self.metrics_file(&metrics_path)?;
        let mut batches = loader.epoch(self.state.epoch, self.state.position, report.clone());
        let end = stop_after.map_or(self.config.total_steps, |n| {
            (self.state.step + n).min(self.config.total_steps)
        });
        let mut last = latest_checkpoint(&self.run_dir)?;
        self.pick_preview(loader);
        while self.state.step < end {
            let started = Instant::now();
            let mut micro = Vec::with_capacity(self.config.accum_steps);
            let mut waited = 0.0;
            while micro.len() < self.config.accum_steps {
                match batches.next() {
                    Some(batch) => {
                        waited += batch.data_wait.as_secs_f64();
                        self.state.position = batch.next_position;
                        micro.push(batch);
                    }
                    None => {
                        let skipped = report.lock().map_or(0, |r| r.skipped_total());
                        if self.state.position == 0 && micro.is_empty() {
                            return Err(RunError::NoBatches { skipped });
                        }
                        self.state.epoch += 1;
                        self.state.position = 0;
                        batches = self.next_epoch(loader, batches, &report);
                    }
                }
            }
            let m = self.step(&micro, started, waited).map_err(|e| match e {
                RunError::NonFinite {
                    what, value, step, ..
                } => RunError::NonFinite {
                    what,
                    value,
                    step,
                    last_checkpoint: last.clone(),
                },
                other => other,
            })?;
            let line = serde_json::to_string(&m).unwrap_or_default();
            writeln!(metrics, "{line}")
                .and_then(|_| metrics.flush())
                .map_err(|source| RunError::Io {
                    path: metrics_path.clone(),
                    source,
                })?;
            on_step(&m);
            if self.state.step.is_multiple_of(self.config.save_every) || self.state.step == end {
                last = Some(self.save()?);
                self.draw_preview()?;
            }
        }
        let curves = self.run_dir.join("curves.png");
        let all = read_metrics(&metrics_path).map_err(|source| RunError::Io {
            path: metrics_path.clone(),
            source,
        })?;
        save_png(&curves_png(&all), &curves).map_err(|source| RunError::Io {
            path: curves,
            source,
        })?;
        let checkpoint = match last {
            Some(p) => p,
            None => self.save()?,
        };
        let skipped = report.lock().map(|r| r.clone()).unwrap_or_default();
        Ok(RunSummary {
            steps: self.state.step,
            checkpoint,
            skipped,
        })
    }

    /// Writes a checkpoint of the current state now.
    pub fn save(&self) -> Result<PathBuf, RunError> {
        Ok(save_checkpoint(
            &self.run_dir,
            &self.config,
            &self.model.valid(),
            &self.optimizer.state(),
            &self.state,
        )?)
    }

    /// The first view of epoch 0's first clip, with masks from a fixed
    /// seed: the same clip in every session of the run.
    fn pick_preview(&mut self, loader: &ClipLoader) {
        if self.preview.is_some() {
            return;
        }
        let report = Arc::new(Mutex::new(SkipReport::default()));
        let Some(batch) = loader.epoch(0, 0, report).next() else {
            return;
        };
        let per_view: usize = batch.dims[1..].iter().product();
        let Some(pixels) = batch.pixels.get(..per_view) else {
            return;
        };
        let mut rng = MaskRng::seed(step_seed(self.config.seed, u64::MAX - 1));
        let hidden = self.tube.sample(&mut rng);
        let dec = self.cell.as_ref().map(|c| vec![c.sample(&mut rng)]);
        if let Ok(masks) = PretrainMasks::dual(std::slice::from_ref(&hidden), dec.as_deref()) {
            self.preview = Some((pixels.to_vec(), masks, hidden));
        }
    }

    /// `previews/step-NNNNNNNN.png`: input, encoder view and reconstruction
    /// of the preview clip by the current model.
    fn draw_preview(&self) -> Result<(), RunError> {
        let Some((pixels, masks, hidden)) = &self.preview else {
            return Ok(());
        };
        let model = self.model.valid();
        let img = reconstruct(
            &model,
            &self.config.model,
            pixels,
            masks,
            hidden,
            &self.device,
        );
        let path = self
            .run_dir
            .join("previews")
            .join(format!("step-{:08}.png", self.state.step));
        save_png(&img, &path).map_err(|source| RunError::Io { path, source })
    }

    fn next_epoch(
        &self,
        loader: &ClipLoader,
        old: Batches,
        report: &Arc<Mutex<SkipReport>>,
    ) -> Batches {
        drop(old);
        loader.epoch(self.state.epoch, 0, report.clone())
    }

    /// `metrics.jsonl` opened for appending, cut back to the lines of steps
    /// already done (a run killed after logging a step it did not
    /// checkpoint logs that step again when resumed).
    fn metrics_file(&self, path: &Path) -> Result<std::fs::File, RunError> {
        let io = |source| RunError::Io {
            path: path.to_path_buf(),
            source,
        };
        let kept: Vec<String> = match std::fs::read_to_string(path) {
            Ok(text) => text
                .lines()
                .filter(|l| {
                    serde_json::from_str::<StepMetrics>(l).is_ok_and(|m| m.step <= self.state.step)
                })
                .map(str::to_string)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        let mut body = kept.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        std::fs::write(path, body).map_err(io)?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io)
    }

    /// One optimizer step over the micro-batches.
    fn step(
        &mut self,
        micro: &[Batch],
        started: Instant,
        waited: f64,
    ) -> Result<StepMetrics, RunError> {
        let step = self.state.step + 1;
        // Every random draw of a step depends on (seed, step) alone, so a
        // resumed run repeats it exactly.
        AB::seed(&self.device, step_seed(self.config.seed, step));
        let mut rng = MaskRng::seed(step_seed(self.config.seed, step));
        let masks: Vec<PretrainMasks> = micro
            .iter()
            .map(|b| {
                let views = b.dims[0];
                let enc: Vec<Vec<bool>> = (0..views).map(|_| self.tube.sample(&mut rng)).collect();
                let dec: Option<Vec<Vec<bool>>> = self
                    .cell
                    .as_ref()
                    .map(|c| (0..views).map(|_| c.sample(&mut rng)).collect());
                PretrainMasks::dual(&enc, dec.as_deref())
                    .map_err(|e| RunError::Config(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let targets: Vec<usize> = masks
            .iter()
            .map(|m| m.decode().iter().map(Vec::len).sum())
            .collect();
        let total: usize = targets.iter().sum();
        let mut accumulated = GradientsAccumulator::new();
        let mut loss_value = 0.0;
        for ((batch, masks), &count) in micro.iter().zip(&masks).zip(&targets) {
            let pixels = Tensor::<AB, 5>::from_data(
                TensorData::new(batch.pixels.clone(), batch.dims),
                &self.device,
            );
            let loss = self.model.loss(&self.model.forward(pixels, masks));
            let value: f64 = loss.clone().into_scalar().elem();
            if !value.is_finite() {
                return Err(RunError::NonFinite {
                    what: "loss",
                    value,
                    step,
                    last_checkpoint: None,
                });
            }
            // The step's loss is the mean over all its reconstructed tokens:
            // each micro-batch weighs its share of them.
            let weight = count as f64 / total as f64;
            loss_value += value * weight;
            let grads =
                GradientsParams::from_grads(loss.mul_scalar(weight).backward(), &self.model);
            accumulated.accumulate(&self.model, grads);
        }
        let grads = accumulated.grads();
        let norm = grad_norm(&self.model, &grads);
        if !norm.is_finite() {
            return Err(RunError::NonFinite {
                what: "gradient norm",
                value: norm,
                step,
                last_checkpoint: None,
            });
        }
        let lr = self.schedule.at(self.state.step);
        let scale = clip_scale(norm, self.config.clip_grad);
        let model = self.model.clone();
        self.model = self.optimizer.step(lr, model, grads, scale);
        self.state.step = step;
        self.state.loss = Some(loss_value);
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        let clips: usize = micro.iter().map(|b| b.ids.len()).sum();
        Ok(StepMetrics {
            step,
            loss: loss_value,
            lr,
            grad_norm: norm,
            clips_per_s: clips as f64 / elapsed,
            data_wait: (waited / elapsed).min(1.0),
        })
    }
}

/// The steps logged in a `metrics.jsonl` (unparsable lines skipped).
fn read_metrics(path: &Path) -> std::io::Result<Vec<StepMetrics>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}
