//! Hugging Face transformers VideoMAE checkpoints: `config.json` +
//! `model.safetensors` of `VideoMAEForPreTraining` and
//! `VideoMAEForVideoClassification`.

use std::path::Path;

use burn::module::Param;
use burn::tensor::backend::Backend;

use super::shapes::{self, safetensors_shapes};
use super::{
    CheckpointError, LoadedModel, Weights, read_config, set_conv, set_linear, set_norm, tensor,
};
use crate::config::VideoMaeConfig;
use crate::model::{Block, Encoder, VideoMaeClassifier};
use crate::pretrain::VideoMaePretraining;

/// The key that tells a pretraining checkpoint from a classifier.
pub(super) const DECODER_HEAD: &str = "decoder.head.weight";

/// Sets a block from Hugging Face's `VideoMAELayer` keys under `prefix`.
pub(super) fn set_hf_block<B: Backend>(
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

fn set_hf_encoder<B: Backend>(w: &mut Weights, encoder: &mut Encoder<B>, device: &B::Device) {
    set_conv(
        w,
        "videomae.embeddings.patch_embeddings.projection",
        &mut encoder.patch_embed,
        device,
    );
    for (i, block) in encoder.blocks.iter_mut().enumerate() {
        set_hf_block(w, &format!("videomae.encoder.layer.{i}"), block, device);
    }
}

/// A classifier for `config` with the weights of `w` (HF key names).
pub(super) fn hf_classifier<B: Backend>(
    w: &mut Weights,
    config: &VideoMaeConfig,
    device: &B::Device,
) -> VideoMaeClassifier<B> {
    let mut model = VideoMaeClassifier::<B>::init(config, device);
    set_hf_encoder(w, &mut model.encoder, device);
    let norm = if config.use_mean_pooling {
        "fc_norm"
    } else {
        "videomae.layernorm"
    };
    set_norm(w, norm, &mut model.norm, device);
    set_linear(w, "classifier", &mut model.head, true, device);
    model
}

/// A pretraining model for `config` with the weights of `w` (HF key
/// names). The encoder has its final norm when `use_mean_pooling` is
/// false, as in transformers.
pub(super) fn hf_pretraining<B: Backend>(
    w: &mut Weights,
    config: &VideoMaeConfig,
    device: &B::Device,
) -> VideoMaePretraining<B> {
    let mut model = VideoMaePretraining::<B>::init(config, device);
    set_hf_encoder(w, &mut model.encoder, device);
    if config.use_mean_pooling {
        model.encoder_norm = None;
    } else if let Some(norm) = model.encoder_norm.as_mut() {
        set_norm(w, "videomae.layernorm", norm, device);
    }
    set_linear(
        w,
        "encoder_to_decoder",
        &mut model.encoder_to_decoder,
        false,
        device,
    );
    let dd = config.decoder_hidden_size;
    if let Some(v) = w.take("mask_token", &[1, 1, dd]) {
        model.mask_token = Param::from_tensor(tensor(v, [1, 1, dd], device));
    }
    for (i, block) in model.decoder.blocks.iter_mut().enumerate() {
        set_hf_block(w, &format!("decoder.decoder_layers.{i}"), block, device);
    }
    set_norm(w, "decoder.norm", &mut model.decoder.norm, device);
    set_linear(w, "decoder.head", &mut model.decoder.head, true, device);
    model
}

/// Which model a folder is loaded as.
#[derive(Clone, Copy)]
enum Kind {
    /// A pretraining model when the weights have a decoder head.
    Either,
    Classifier,
    Pretraining,
}

/// The folder's two files, or an error that says which one is absent and
/// what a checkpoint folder holds (not the bare "No such file" or "Is a
/// directory" of the file system).
fn hf_files(dir: &Path, need_config: bool) -> Result<(), CheckpointError> {
    let format = CheckpointError::format(dir);
    let meta = std::fs::metadata(dir).map_err(CheckpointError::io(dir))?;
    if !meta.is_dir() {
        return Err(format(
            "not a folder: a Hugging Face checkpoint is a folder with config.json and \
             model.safetensors, an original checkpoint a .pth file"
                .into(),
        ));
    }
    let absent: Vec<&str> = ["config.json", "model.safetensors"]
        .into_iter()
        .filter(|f| (need_config || *f != "config.json") && !dir.join(f).exists())
        .collect();
    if !absent.is_empty() {
        return Err(format(format!(
            "no {} in this folder (a Hugging Face checkpoint folder holds config.json and \
             model.safetensors)",
            absent.join(" or ")
        )));
    }
    Ok(())
}

/// Reads `dir`'s config (unless given), checks the weights' keys and shapes
/// against it from the safetensors header (so a config that does not fit
/// never allocates its model), reads the weights, builds the model with
/// `build`, and fails unless every key was used.
fn load_hf_with<M>(
    dir: &Path,
    config: Option<VideoMaeConfig>,
    kind: Kind,
    build: impl FnOnce(&mut Weights, &VideoMaeConfig, bool) -> M,
) -> Result<(VideoMaeConfig, M), CheckpointError> {
    hf_files(dir, config.is_none())?;
    let config = match config {
        Some(c) => {
            c.validate()?;
            c
        }
        // from_hf_json validates.
        None => read_config(&dir.join("config.json"))?,
    };
    let path = dir.join("model.safetensors");
    let shapes = safetensors_shapes(&path)?;
    let pretraining = match kind {
        Kind::Either => shapes.contains_key(DECODER_HEAD),
        Kind::Classifier => false,
        Kind::Pretraining => true,
    };
    if pretraining {
        config.validate_pretraining()?;
    }
    shapes::compare(&config, pretraining, &shapes, |k| k.to_owned())?;
    let mut w = Weights::read_safetensors(&path)?;
    let model = build(&mut w, &config, pretraining);
    w.finish(|k| k.to_owned())?;
    Ok((config, model))
}

/// Loads a Hugging Face folder (`config.json`, `model.safetensors`) as a
/// classifier or a pretraining model, whichever its weights hold; `config`
/// replaces the folder's `config.json` when given.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{load_hf, save_hf, LoadedModel};
/// use videomae::{model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-load-hf-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let device = Default::default();
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// save_hf(&LoadedModel::Classifier(Box::new(model)), &config, &dir)?;
/// let (loaded, model) = load_hf::<Flex>(&dir, None, &device)?;
/// assert_eq!(loaded.hidden_size, 48);
/// assert!(matches!(model, LoadedModel::Classifier(_)));
/// // A config that does not fit the weights is refused before a model is built.
/// let wider = VideoMaeConfig { hidden_size: 64, ..config };
/// assert!(load_hf::<Flex>(&dir, Some(wider), &device).is_err());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_hf<B: Backend>(
    dir: &Path,
    config: Option<VideoMaeConfig>,
    device: &B::Device,
) -> Result<(VideoMaeConfig, LoadedModel<B>), CheckpointError> {
    load_hf_with(dir, config, Kind::Either, |w, config, pretraining| {
        if pretraining {
            LoadedModel::Pretraining(Box::new(hf_pretraining(w, config, device)))
        } else {
            LoadedModel::Classifier(Box::new(hf_classifier(w, config, device)))
        }
    })
}

/// Loads a Hugging Face `VideoMAEForVideoClassification` folder
/// (`config.json`, `model.safetensors`).
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::{Distribution, Tensor}};
/// use videomae::checkpoint::{load_hf_classifier, save_hf, LoadedModel};
/// use videomae::{model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-load-hf-classifier-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let (config, device) = (config.with_labels(3), Default::default());
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// let pixels = Tensor::<Flex, 5>::random([1, 4, 3, 32, 32], Distribution::Default, &device);
/// let before = model.forward(pixels.clone());
/// save_hf(&LoadedModel::Classifier(Box::new(model)), &config, &dir)?;
/// let (loaded, model) = load_hf_classifier::<Flex>(&dir, &device)?;
/// assert_eq!(loaded.num_labels, 3);
/// let diff: f32 = (model.forward(pixels) - before).abs().max().into_scalar();
/// assert!(diff < 1e-6); // the same weights
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_hf_classifier<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(VideoMaeConfig, VideoMaeClassifier<B>), CheckpointError> {
    load_hf_with(dir, None, Kind::Classifier, |w, config, _| {
        hf_classifier(w, config, device)
    })
}

/// Loads a Hugging Face `VideoMAEForPreTraining` folder (`config.json`,
/// `model.safetensors`).
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{load_hf_pretraining, save_hf, LoadedModel};
/// use videomae::{pretrain::VideoMaePretraining, VideoMaeConfig};
/// // A tiny ViT and decoder, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     decoder_hidden_size: 24, decoder_num_hidden_layers: 1,
///     decoder_num_attention_heads: 2, decoder_intermediate_size: 48,
///     ..VideoMaeConfig::small() };
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-load-hf-pretraining-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let device = Default::default();
/// let model = VideoMaePretraining::<Flex>::init(&config, &device);
/// save_hf(&LoadedModel::Pretraining(Box::new(model)), &config, &dir)?;
/// let (loaded, model) = load_hf_pretraining::<Flex>(&dir, &device)?;
/// assert_eq!(loaded.decoder_hidden_size, 24);
/// assert!(model.encoder_norm.is_some()); // saved with its final norm
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_hf_pretraining<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(VideoMaeConfig, VideoMaePretraining<B>), CheckpointError> {
    load_hf_with(dir, None, Kind::Pretraining, |w, config, _| {
        hf_pretraining(w, config, device)
    })
}
