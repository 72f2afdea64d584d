//! Checkpoints of a run, each a folder `checkpoints/step-NNNNNNNN/`:
//! - `config.json` + `model.safetensors`: the model in Hugging Face's
//!   `VideoMAEForPreTraining` layout (transformers and
//!   `videomae::checkpoint::load_hf_pretraining` read it as it is);
//! - `optimizer.safetensors`: AdamW's moments in `f32`, `<param>.exp_avg`
//!   and `<param>.exp_avg_sq` by tubelet's parameter paths;
//! - `trainer.json`: step, epoch, loader position, tubelet version, and the
//!   recipe that made it.
//!
//! A checkpoint is written into a hidden temporary folder, every file is
//! synced, and the folder is renamed into place and its parent synced: a
//! kill at any moment leaves either the previous checkpoints or a complete
//! new one. The last `keep_last` are kept.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use safetensors::Dtype;
use serde::{Deserialize, Serialize};
use videomae::checkpoint::{LoadedModel, load_hf_pretraining, save_hf};
use videomae::pretrain::VideoMaePretraining;
use videomae::tensors::NamedTensors;

use super::PretrainConfig;
use crate::train::AdamWState;

/// Where a run stands: what a resumed run continues from.
///
/// ```
/// let s = ssl_pretrain::run::TrainerState::default();
/// assert_eq!((s.step, s.epoch, s.position), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: u64,
    /// Loader epoch in progress.
    pub epoch: u64,
    /// Position in that epoch's clip order where the next batch starts.
    pub position: usize,
    /// Loss of the last step.
    pub loss: Option<f64>,
    /// tubelet version that wrote the state.
    pub version: String,
}

/// A checkpoint that cannot be written or read.
///
/// ```
/// use ssl_pretrain::run::{CheckpointError, PretrainConfig, load_checkpoint};
/// use burn::backend::Flex;
/// let err = load_checkpoint::<Flex>("no/such/step".as_ref(), &PretrainConfig::default(), &Default::default())
///     .unwrap_err();
/// assert!(matches!(err, CheckpointError::Io { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is damaged or not what it should be.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint was made by another recipe.
    #[error("{}: made by another recipe ({fields}); resume with the run's own config or start a new run", path.display())]
    OtherRecipe {
        /// The checkpoint.
        path: PathBuf,
        /// The settings that differ.
        fields: String,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path, reason: impl ToString) -> CheckpointError {
    CheckpointError::Invalid {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The checkpoint folder name of `step`.
fn step_name(step: u64) -> String {
    format!("step-{step:08}")
}

/// The recipe's settings that change what a run computes, as JSON (the
/// loader's thread counts, checkpoint cadence and retention do not).
fn recipe(config: &PretrainConfig) -> serde_json::Value {
    let mut c = config.clone();
    c.loader.workers = 1;
    c.loader.prefetch = 1;
    c.loader.decoder_threads = 1;
    c.save_every = 1;
    c.keep_last = 1;
    serde_json::to_value(c).unwrap_or_default()
}

fn sync(path: &Path) -> Result<(), CheckpointError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}

/// Writes a checkpoint of `step` under `run_dir/checkpoints/` atomically and
/// deletes all but the newest `config.keep_last`. Returns its folder.
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
pub fn save_checkpoint<B: Backend>(
    run_dir: &Path,
    config: &PretrainConfig,
    model: &VideoMaePretraining<B>,
    optimizer: &AdamWState,
    state: &TrainerState,
) -> Result<PathBuf, CheckpointError> {
    let parent = run_dir.join("checkpoints");
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = step_name(state.step);
    let dir = parent.join(&name);
    let tmp = parent.join(format!(".{name}.tmp"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    let model = LoadedModel::Pretraining(Box::new(model.clone()));
    save_hf(&model, &config.model, &tmp).map_err(|e| invalid(&tmp, e))?;
    let mut tensors = Vec::with_capacity(optimizer.moments.len() * 2);
    for (param, (m, v)) in &optimizer.moments {
        for (suffix, values) in [("exp_avg", m), ("exp_avg_sq", v)] {
            let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
            tensors.push((
                format!("{param}.{suffix}"),
                Dtype::F32,
                vec![values.len()],
                bytes,
            ));
        }
    }
    let opt_path = tmp.join("optimizer.safetensors");
    videomae::io::write_safetensors(&opt_path, &tensors).map_err(|e| invalid(&opt_path, e))?;
    let record = Saved {
        state: state.clone(),
        optimizer_steps: optimizer.steps,
        recipe: recipe(config),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| invalid(&tmp, e))?;
    let state_path = tmp.join("trainer.json");
    std::fs::write(&state_path, json).map_err(io(&state_path))?;
    for file in [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
        "trainer.json",
    ] {
        sync(&tmp.join(file))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io(&dir))?;
    sync(&parent)?;
    let mut all = checkpoints(run_dir)?;
    while all.len() > config.keep_last {
        let (_, old) = all.remove(0);
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(dir)
}

#[derive(Serialize, Deserialize)]
struct Saved {
    state: TrainerState,
    optimizer_steps: u64,
    recipe: serde_json::Value,
}

/// Complete checkpoints of a run, oldest first.
fn checkpoints(run_dir: &Path) -> Result<Vec<(u64, PathBuf)>, CheckpointError> {
    let parent = run_dir.join("checkpoints");
    if !parent.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&parent).map_err(io(&parent))? {
        let path = entry.map_err(io(&parent))?.path();
        let step = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("step-"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(step) = step
            && path.join("trainer.json").is_file()
        {
            out.push((step, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The newest complete checkpoint of a run, if any.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("ssl-doc-latest-{}", std::process::id()));
/// assert_eq!(ssl_pretrain::run::latest_checkpoint(&dir)?, None);
/// # Ok::<(), ssl_pretrain::run::CheckpointError>(())
/// ```
pub fn latest_checkpoint(run_dir: &Path) -> Result<Option<PathBuf>, CheckpointError> {
    Ok(checkpoints(run_dir)?.pop().map(|(_, p)| p))
}

/// Reads a checkpoint folder written by [`save_checkpoint`] for `config`:
/// the model, the optimizer state and the trainer state. A checkpoint of
/// another recipe, a truncated or damaged file, or moments that do not fit
/// the model's parameters are errors.
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
pub fn load_checkpoint<B: Backend>(
    dir: &Path,
    config: &PretrainConfig,
    device: &B::Device,
) -> Result<(VideoMaePretraining<B>, AdamWState, TrainerState), CheckpointError> {
    let state_path = dir.join("trainer.json");
    let bytes = std::fs::read(&state_path).map_err(io(&state_path))?;
    let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| invalid(&state_path, e))?;
    let want = recipe(config);
    if saved.recipe != want {
        let fields = differing(&saved.recipe, &want);
        return Err(CheckpointError::OtherRecipe {
            path: dir.to_path_buf(),
            fields,
        });
    }
    let (_, model) = load_hf_pretraining::<B>(dir, device).map_err(|e| invalid(dir, e))?;
    let opt_path = dir.join("optimizer.safetensors");
    let mut tensors =
        NamedTensors::read_safetensors(&opt_path).map_err(|e| invalid(&opt_path, e))?;
    let mut optimizer = AdamWState {
        steps: saved.optimizer_steps,
        ..AdamWState::default()
    };
    for (param, dims) in crate::train::named_parameters(&model) {
        let n = dims.iter().product::<usize>();
        let (m_key, v_key) = (format!("{param}.exp_avg"), format!("{param}.exp_avg_sq"));
        if !tensors.contains(&m_key) && !tensors.contains(&v_key) {
            continue; // never had a gradient
        }
        if let (Some(m), Some(v)) = (tensors.take(&m_key, &[n]), tensors.take(&v_key, &[n])) {
            optimizer.moments.insert(param, (m, v));
        }
    }
    tensors
        .finish(|k| k.to_string())
        .map_err(|e| invalid(&opt_path, e))?;
    Ok((model, optimizer, saved.state))
}

/// Top-level (and loader) settings whose values differ, for the error.
fn differing(a: &serde_json::Value, b: &serde_json::Value) -> String {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (k, va) in a {
            if b.get(k) != Some(va) {
                out.push(k.clone());
            }
        }
    }
    if out.is_empty() {
        "unknown".into()
    } else {
        out.join(", ")
    }
}
