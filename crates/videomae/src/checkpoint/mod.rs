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

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::conv::Conv3d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::config::{ConfigError, VideoMaeConfig};
use crate::io::{FileError, read_file};
use crate::model::VideoMaeClassifier;
use crate::pretrain::VideoMaePretraining;

/// A checkpoint that cannot be loaded.
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
    #[error("{}", keys_message(missing, unexpected, mismatched))]
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

/// Keys and shapes named in a [`CheckpointError::Keys`] message, per list.
const KEYS_SHOWN: usize = 5;
/// Longest key name shown in a message (a hostile file's names are
/// arbitrary strings).
const KEY_CHARS: usize = 120;

fn short_key(key: &str) -> String {
    match key.char_indices().nth(KEY_CHARS) {
        Some((i, _)) => format!("{}...", &key[..i]),
        None => key.to_owned(),
    }
}

/// "missing 2 (a, b); unexpected 1000 (k0, ..., k4, ...)": the first few
/// items of each non-empty list and its length, so that a config with
/// 100,000 layers gives a short message.
fn keys_message(
    missing: &[String],
    unexpected: &[String],
    mismatched: &[(String, Vec<usize>, Vec<usize>)],
) -> String {
    fn list(label: &str, items: Vec<String>, total: usize) -> Option<String> {
        (total > 0).then(|| {
            let more = if total > items.len() { ", ..." } else { "" };
            format!("{label} {total} ({}{more})", items.join(", "))
        })
    }
    let names = |v: &[String]| v.iter().take(KEYS_SHOWN).map(|k| short_key(k)).collect();
    let shapes = mismatched
        .iter()
        .take(KEYS_SHOWN)
        .map(|(k, want, got)| format!("{}: expected {want:?}, found {got:?}", short_key(k)))
        .collect();
    let parts: Vec<String> = [
        list("missing", names(missing), missing.len()),
        list("unexpected", names(unexpected), unexpected.len()),
        list("mis-shaped", shapes, mismatched.len()),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!("checkpoint does not match the model: {}", parts.join("; "))
}

/// Ok when all three lists are empty, else [`CheckpointError::Keys`] with
/// each list's repeats removed (first occurrence kept): the original
/// layout names q, k and v of a block by one fused key.
fn keys_result(
    missing: Vec<String>,
    unexpected: Vec<String>,
    mut mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
) -> Result<(), CheckpointError> {
    let unique = |v: Vec<String>| {
        let mut seen = HashSet::new();
        v.into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect::<Vec<_>>()
    };
    let mut seen = HashSet::new();
    mismatched.retain(|(k, _, _)| seen.insert(k.clone()));
    let (missing, unexpected) = (unique(missing), unique(unexpected));
    if missing.is_empty() && unexpected.is_empty() && mismatched.is_empty() {
        Ok(())
    } else {
        Err(CheckpointError::Keys {
            missing,
            unexpected,
            mismatched,
        })
    }
}

/// A loaded model of either kind.
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

/// Named tensors, `(shape, values)`.
type TensorMap = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// IEEE half to single precision, exactly (subnormals, infinities and
/// NaN included).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise.
            let shift = f.leading_zeros() - 21;
            let frac = (f << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (frac << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 to single precision: its bits are the upper half of an f32's.
fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// Tensors of a file, consumed key by key; problems are collected so that
/// one error lists them all.
struct Weights {
    tensors: TensorMap,
    missing: Vec<String>,
    mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl Weights {
    fn new(tensors: TensorMap) -> Self {
        Weights {
            tensors,
            missing: Vec::new(),
            mismatched: Vec::new(),
        }
    }

    fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// Reads every tensor of a safetensors file. The read takes the file's
    /// real size, and safetensors checks every tensor's byte length against
    /// its shape and dtype before any is converted.
    fn from_safetensors(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = read_file(path, u64::MAX)?;
        let format = CheckpointError::format(path);
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| format(format!("not a valid safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let data = view.data();
            let values: Vec<f32> = match view.dtype() {
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                Dtype::F64 => data
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                    .collect(),
                Dtype::BF16 => data
                    .chunks_exact(2)
                    .map(|b| bf16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
                // Weights saved from mixed-precision training.
                Dtype::F16 => data
                    .chunks_exact(2)
                    .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
                other => {
                    return Err(format(format!(
                        "tensor {name}: unsupported dtype {other:?}"
                    )));
                }
            };
            tensors.insert(name, (view.shape().to_vec(), values));
        }
        Ok(Weights::new(tensors))
    }

    /// The values of `key` if it has `shape`; records the problem otherwise.
    fn take(&mut self, key: &str, shape: &[usize]) -> Option<Vec<f32>> {
        match self.tensors.remove(key) {
            None => {
                self.missing.push(key.to_owned());
                None
            }
            Some((found, _)) if found != shape => {
                self.mismatched
                    .push((key.to_owned(), shape.to_vec(), found));
                None
            }
            Some((_, values)) => Some(values),
        }
    }

    /// Ok when every key was used and found; `rename` maps key names back
    /// to the file's own names for the error.
    fn finish(self, rename: impl Fn(&str) -> String) -> Result<(), CheckpointError> {
        let unexpected: Vec<String> = self.tensors.keys().map(|k| rename(k)).collect();
        let missing: Vec<String> = self.missing.iter().map(|k| rename(k)).collect();
        let mismatched = self
            .mismatched
            .into_iter()
            .map(|(k, a, b)| (rename(&k), a, b))
            .collect();
        keys_result(missing, unexpected, mismatched)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_safetensors_weights_convert_exactly() {
        // Used to be "unsupported dtype F16".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let half: Vec<u8> = [0x3c00u16, 0x0001, 0xc000, 0x7bff]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let bf16: Vec<u8> = [0x3f80u16, 0xc0a0]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        crate::io::write_safetensors(
            &path,
            &[
                ("h".into(), Dtype::F16, vec![2, 2], half),
                ("b".into(), Dtype::BF16, vec![2], bf16),
            ],
        )
        .unwrap();
        let w = Weights::from_safetensors(&path).unwrap();
        // 2^-24 (the smallest subnormal), -2 and 65504 (the largest half).
        assert_eq!(
            w.tensors["h"],
            (vec![2, 2], vec![1.0, 5.960_464_5e-8, -2.0, 65504.0])
        );
        assert_eq!(w.tensors["b"], (vec![2], vec![1.0, -5.0]));
    }
}
