//! Strict checkpoint import. Every key of the file must be used and every
//! parameter of the model must be found with its shape; otherwise the error
//! names the missing, unexpected and mis-shaped keys (a loader that leaves
//! q/v biases at zero is a known bug elsewhere).
//!
//! Formats:
//! - Hugging Face folders, `config.json` + `model.safetensors`, of
//!   `VideoMAEForPreTraining` and `VideoMAEForVideoClassification`
//!   ([`load_hf`]); tubelet saves its own models in that same layout
//!   ([`save_hf`]), so transformers loads them too;
//! - original VideoMAE / VideoMAE V2 `.pth` files ([`load_original`]),
//!   read by tubelet's own strict, bounded reader (`pth`): a zip container
//!   and a pickle interpreter that builds values and executes nothing.
//!
//! [`load`] picks the format from the path.

mod hf;
mod original;
mod pth;
mod save;
mod shapes;

pub use crate::features::load_encoder;
pub use hf::{load_hf, load_hf_classifier, load_hf_pretraining};
pub use original::{infer_original_config, load_original, original_to_hf_key};
pub use save::save_hf;
pub use shapes::{expected_shapes, safetensors_shapes};

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::conv::Conv3d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::config::{ConfigError, VideoMaeConfig};
use crate::io::{FileError, read_file};
use crate::model::VideoMaeClassifier;
use crate::pretrain::VideoMaePretraining;
pub(crate) use crate::tensors::TensorMap;
use crate::tensors::{KeyMismatch, NamedTensors as Weights};

/// A checkpoint that cannot be loaded.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{load_hf, CheckpointError};
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-empty-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// std::fs::create_dir_all(&dir)?;
/// let err = load_hf::<Flex>(&dir, None, &Default::default()).unwrap_err();
/// assert!(matches!(&err, CheckpointError::Format { message, .. }
///     if message.starts_with("no config.json or model.safetensors")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a valid checkpoint.
    #[error("{}: {message}", path.display())]
    Format {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Keys do not match the model. The message names the first few of
    /// each list and counts them; the fields hold them all.
    #[error("{}", KeyMismatch { missing: missing.clone(), unexpected: unexpected.clone(), mismatched: mismatched.clone() })]
    Keys {
        /// Parameters the file lacks.
        missing: Vec<String>,
        /// Keys the model does not use.
        unexpected: Vec<String>,
        /// `(key, expected shape, found shape)`.
        mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    },
}

impl CheckpointError {
    /// `CheckpointError::Io` for `path`, as a `map_err` argument.
    fn io(path: &Path) -> impl Fn(std::io::Error) -> CheckpointError + Copy + '_ {
        move |source| CheckpointError::Io {
            path: path.into(),
            source,
        }
    }

    /// `CheckpointError::Format` for `path`, as a `map_err` argument.
    fn format(path: &Path) -> impl Fn(String) -> CheckpointError + Copy + '_ {
        move |message| CheckpointError::Format {
            path: path.into(),
            message,
        }
    }
}

impl From<FileError> for CheckpointError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io { path, source } => CheckpointError::Io { path, source },
            FileError::Format { path, message } => CheckpointError::Format { path, message },
        }
    }
}

impl From<KeyMismatch> for CheckpointError {
    fn from(k: KeyMismatch) -> Self {
        CheckpointError::Keys {
            missing: k.missing,
            unexpected: k.unexpected,
            mismatched: k.mismatched,
        }
    }
}

/// Ok when all three lists are empty, else [`CheckpointError::Keys`] with
/// each list's repeats removed ([`KeyMismatch::new`]).
fn keys_result(
    missing: Vec<String>,
    unexpected: Vec<String>,
    mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
) -> Result<(), CheckpointError> {
    let problems = KeyMismatch::new(missing, unexpected, mismatched);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.into())
    }
}

/// A loaded model of either kind.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{load_hf, save_hf, LoadedModel};
/// use videomae::{pretrain::VideoMaePretraining, VideoMaeConfig};
/// // A tiny ViT and decoder, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     decoder_hidden_size: 24, decoder_num_hidden_layers: 1,
///     decoder_num_attention_heads: 2, decoder_intermediate_size: 48,
///     ..VideoMaeConfig::small() };
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-loaded-model-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let device = Default::default();
/// let model = VideoMaePretraining::<Flex>::init(&config, &device);
/// save_hf(&LoadedModel::Pretraining(Box::new(model)), &config, &dir)?;
/// match load_hf::<Flex>(&dir, None, &device)? {
///     (_, LoadedModel::Pretraining(model)) => assert_eq!(model.decoder.blocks.len(), 1),
///     (_, LoadedModel::Classifier(_)) => unreachable!("the weights have a decoder"),
/// }
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub enum LoadedModel<B: Backend> {
    /// `VideoMAEForVideoClassification`.
    Classifier(Box<VideoMaeClassifier<B>>),
    /// `VideoMAEForPreTraining`.
    Pretraining(Box<VideoMaePretraining<B>>),
}

/// Loads a checkpoint: a Hugging Face folder (or its `model.safetensors`)
/// with [`load_hf`], a `.pth`/`.pt` file with [`load_original`] and the
/// `config.json` beside it (or `config` when given). The kind (classifier
/// or pretraining) follows the weights.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{load, save_hf, CheckpointError, LoadedModel};
/// use videomae::{model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-load-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let device = Default::default();
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// save_hf(&LoadedModel::Classifier(Box::new(model)), &config, &dir)?;
/// // The folder, or its model.safetensors.
/// let (_, model) = load::<Flex>(&dir.join("model.safetensors"), None, &device)?;
/// assert!(matches!(model, LoadedModel::Classifier(_)));
/// // An original checkpoint carries no config: without one beside it, nothing is read.
/// let pth = dir.join("original").join("checkpoint.pth");
/// let err = load::<Flex>(&pth, None, &device).unwrap_err();
/// assert!(matches!(err, CheckpointError::Format { message, .. }
///     if message.starts_with("no config.json")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load<B: Backend>(
    path: &Path,
    config: Option<VideoMaeConfig>,
    device: &B::Device,
) -> Result<(VideoMaeConfig, LoadedModel<B>), CheckpointError> {
    let is_pth = path
        .extension()
        .is_some_and(|e| e == "pth" || e == "pt" || e == "bin");
    if is_pth {
        let config = match config {
            Some(c) => c,
            None => {
                let beside = path.with_file_name("config.json");
                if !beside.exists() {
                    return Err(CheckpointError::Format {
                        path: path.into(),
                        message: "no config.json beside it: an original checkpoint carries no \
                                  config, put the model's config.json beside it or pass one"
                            .into(),
                    });
                }
                read_config(&beside)?
            }
        };
        let model = load_original(path, &config, device)?;
        return Ok((config, model));
    }
    let dir = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    load_hf(dir, config, device)
}

/// Largest `config.json` read (HF's are a few kB, with labels a few MB).
const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// Reads and validates a `config.json`; errors name the file.
fn read_config(path: &Path) -> Result<VideoMaeConfig, CheckpointError> {
    let format = CheckpointError::format(path);
    let bytes = read_file(path, MAX_CONFIG_BYTES)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| format(format!("not UTF-8: {e}")))?;
    VideoMaeConfig::from_hf_json(text).map_err(|e| format(e.to_string()))
}

fn tensor<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Sets a Linear from PyTorch's `[out, in]` weight (and bias).
fn set_linear<B: Backend>(
    w: &mut Weights,
    prefix: &str,
    linear: &mut Linear<B>,
    bias: bool,
    device: &B::Device,
) {
    let [d_in, d_out] = linear.weight.dims();
    if let Some(v) = w.take(&format!("{prefix}.weight"), &[d_out, d_in]) {
        linear.weight = Param::from_tensor(tensor::<B, 2>(v, [d_out, d_in], device).transpose());
    }
    if bias && let Some(v) = w.take(&format!("{prefix}.bias"), &[d_out]) {
        linear.bias = Some(Param::from_tensor(tensor(v, [d_out], device)));
    }
}

fn set_norm<B: Backend>(
    w: &mut Weights,
    prefix: &str,
    norm: &mut LayerNorm<B>,
    device: &B::Device,
) {
    let [d] = norm.gamma.dims();
    if let Some(v) = w.take(&format!("{prefix}.weight"), &[d]) {
        norm.gamma = Param::from_tensor(tensor(v, [d], device));
    }
    if let Some(v) = w.take(&format!("{prefix}.bias"), &[d]) {
        norm.beta = Some(Param::from_tensor(tensor(v, [d], device)));
    }
}

fn set_conv<B: Backend>(w: &mut Weights, prefix: &str, conv: &mut Conv3d<B>, device: &B::Device) {
    let dims = conv.weight.dims();
    if let Some(v) = w.take(&format!("{prefix}.weight"), &dims) {
        conv.weight = Param::from_tensor(tensor(v, dims, device));
    }
    if let Some(v) = w.take(&format!("{prefix}.bias"), &[dims[0]]) {
        conv.bias = Some(Param::from_tensor(tensor(v, [dims[0]], device)));
    }
}
