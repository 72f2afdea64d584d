//! Strict checkpoint import. Every key of the file must be used and every
//! parameter of the model must be found with its shape; otherwise the error
//! names the missing, unexpected and mis-shaped keys (a loader that leaves
//! q/v biases at zero is a known bug elsewhere).
//!
//! Supported today: Hugging Face `config.json` + `model.safetensors` of
//! `VideoMAEForVideoClassification` ([`load_hf_classifier`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::conv::Conv3d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::config::{ConfigError, VideoMaeConfig};
use crate::model::{Block, VideoMaeClassifier};

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
    /// Keys do not match the model.
    #[error(
        "checkpoint does not match the model: missing {missing:?}, unexpected {unexpected:?}, mis-shaped {mismatched:?}"
    )]
    Keys {
        /// Parameters the file lacks.
        missing: Vec<String>,
        /// Keys the model does not use.
        unexpected: Vec<String>,
        /// `(key, expected shape, found shape)`.
        mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    },
}

/// Tensors of a file, consumed key by key; problems are collected so that
/// one error lists them all.
struct Weights {
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    missing: Vec<String>,
    mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl Weights {
    fn from_safetensors(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.into(),
            source,
        })?;
        let format = |message: String| CheckpointError::Format {
            path: path.into(),
            message,
        };
        let st = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
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
                    .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
                    .collect(),
                other => {
                    return Err(format(format!(
                        "tensor {name}: unsupported dtype {other:?}"
                    )));
                }
            };
            tensors.insert(name, (view.shape().to_vec(), values));
        }
        Ok(Weights {
            tensors,
            missing: Vec::new(),
            mismatched: Vec::new(),
        })
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

    fn finish(self) -> Result<(), CheckpointError> {
        let unexpected: Vec<String> = self.tensors.into_keys().collect();
        if self.missing.is_empty() && unexpected.is_empty() && self.mismatched.is_empty() {
            Ok(())
        } else {
            Err(CheckpointError::Keys {
                missing: self.missing,
                unexpected,
                mismatched: self.mismatched,
            })
        }
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

/// Sets a block from Hugging Face's `VideoMAELayer` keys under `prefix`.
fn set_hf_block<B: Backend>(
    w: &mut Weights,
    prefix: &str,
    block: &mut Block<B>,
    device: &B::Device,
) {
    let [d, _] = block.attn.qkv.weight.dims();
    let a = format!("{prefix}.attention.attention");
    // query, key and value ([d, d] each, PyTorch layout) fuse into qkv.
    let parts: Vec<Option<Vec<f32>>> = ["query", "key", "value"]
        .iter()
        .map(|p| w.take(&format!("{a}.{p}.weight"), &[d, d]))
        .collect();
    if parts.iter().all(Option::is_some) {
        let fused: Vec<f32> = parts.into_iter().flatten().flatten().collect();
        block.attn.qkv.weight =
            Param::from_tensor(tensor::<B, 2>(fused, [3 * d, d], device).transpose());
    }
    for (name, slot) in [
        ("q_bias", &mut block.attn.q_bias),
        ("v_bias", &mut block.attn.v_bias),
    ] {
        if slot.is_some()
            && let Some(v) = w.take(&format!("{a}.{name}"), &[d])
        {
            *slot = Some(Param::from_tensor(tensor(v, [d], device)));
        }
    }
    set_linear(
        w,
        &format!("{prefix}.attention.output.dense"),
        &mut block.attn.proj,
        true,
        device,
    );
    set_norm(
        w,
        &format!("{prefix}.layernorm_before"),
        &mut block.norm1,
        device,
    );
    set_norm(
        w,
        &format!("{prefix}.layernorm_after"),
        &mut block.norm2,
        device,
    );
    set_linear(
        w,
        &format!("{prefix}.intermediate.dense"),
        &mut block.fc1,
        true,
        device,
    );
    set_linear(
        w,
        &format!("{prefix}.output.dense"),
        &mut block.fc2,
        true,
        device,
    );
}

/// Loads a Hugging Face `VideoMAEForVideoClassification` folder
/// (`config.json`, `model.safetensors`).
pub fn load_hf_classifier<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(VideoMaeConfig, VideoMaeClassifier<B>), CheckpointError> {
    let config_path = dir.join("config.json");
    let text = std::fs::read_to_string(&config_path).map_err(|source| CheckpointError::Io {
        path: config_path.clone(),
        source,
    })?;
    let config = VideoMaeConfig::from_hf_json(&text)?;
    let mut w = Weights::from_safetensors(&dir.join("model.safetensors"))?;
    let mut model = VideoMaeClassifier::<B>::init(&config, device);
    set_conv(
        &mut w,
        "videomae.embeddings.patch_embeddings.projection",
        &mut model.encoder.patch_embed,
        device,
    );
    for (i, block) in model.encoder.blocks.iter_mut().enumerate() {
        set_hf_block(
            &mut w,
            &format!("videomae.encoder.layer.{i}"),
            block,
            device,
        );
    }
    let norm = if config.use_mean_pooling {
        "fc_norm"
    } else {
        "videomae.layernorm"
    };
    set_norm(&mut w, norm, &mut model.norm, device);
    set_linear(&mut w, "classifier", &mut model.head, true, device);
    w.finish()?;
    Ok((config, model))
}
