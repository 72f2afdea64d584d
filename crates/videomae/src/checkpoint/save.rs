//! tubelet's own checkpoints: the Hugging Face layout (`config.json` +
//! `model.safetensors`), so that [`super::load_hf`] and transformers both
//! read them. Files are written beside the target and renamed into place,
//! so a crash never leaves a half-written checkpoint.

use std::path::Path;

use burn::module::Param;
use burn::nn::conv::Conv3d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use super::{CheckpointError, LoadedModel};
use crate::config::VideoMaeConfig;
use crate::io::write_atomic;
use crate::model::{Block, Encoder};

/// Named tensors in HF layout, in the order they are collected.
#[derive(Default)]
struct Export(Vec<(String, Vec<usize>, Vec<u8>)>);

impl Export {
    fn put<B: Backend, const D: usize>(&mut self, key: String, t: Tensor<B, D>) {
        let shape = t.dims().to_vec();
        let values: Vec<f32> = t
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("converted to f32");
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.0.push((key, shape, bytes));
    }

    fn param<B: Backend, const D: usize>(&mut self, key: String, p: &Param<Tensor<B, D>>) {
        self.put(key, p.val());
    }

    fn linear<B: Backend>(&mut self, prefix: &str, l: &Linear<B>) {
        // Burn stores [in, out]; PyTorch [out, in].
        self.put(format!("{prefix}.weight"), l.weight.val().transpose());
        if let Some(b) = &l.bias {
            self.param(format!("{prefix}.bias"), b);
        }
    }

    fn norm<B: Backend>(&mut self, prefix: &str, n: &LayerNorm<B>) {
        self.param(format!("{prefix}.weight"), &n.gamma);
        if let Some(b) = &n.beta {
            self.param(format!("{prefix}.bias"), b);
        }
    }

    fn conv<B: Backend>(&mut self, prefix: &str, c: &Conv3d<B>) {
        self.param(format!("{prefix}.weight"), &c.weight);
        if let Some(b) = &c.bias {
            self.param(format!("{prefix}.bias"), b);
        }
    }

    fn block<B: Backend>(&mut self, prefix: &str, block: &Block<B>) {
        let a = format!("{prefix}.attention.attention");
        let qkv = block.attn.qkv.weight.val().transpose(); // [3d, d]
        let d = qkv.dims()[1];
        for (i, name) in ["query", "key", "value"].iter().enumerate() {
            self.put(
                format!("{a}.{name}.weight"),
                qkv.clone().narrow(0, i * d, d),
            );
        }
        if let Some(q) = &block.attn.q_bias {
            self.param(format!("{a}.q_bias"), q);
        }
        if let Some(v) = &block.attn.v_bias {
            self.param(format!("{a}.v_bias"), v);
        }
        self.linear(
            &format!("{prefix}.attention.output.dense"),
            &block.attn.proj,
        );
        self.norm(&format!("{prefix}.layernorm_before"), &block.norm1);
        self.norm(&format!("{prefix}.layernorm_after"), &block.norm2);
        self.linear(&format!("{prefix}.intermediate.dense"), &block.fc1);
        self.linear(&format!("{prefix}.output.dense"), &block.fc2);
    }

    fn encoder<B: Backend>(&mut self, e: &Encoder<B>) {
        self.conv(
            "videomae.embeddings.patch_embeddings.projection",
            &e.patch_embed,
        );
        for (i, b) in e.blocks.iter().enumerate() {
            self.block(&format!("videomae.encoder.layer.{i}"), b);
        }
    }
}

/// Saves `model` as a Hugging Face folder in `dir` (created if needed):
/// `config.json` (the config with `architectures`, and `use_mean_pooling`
/// set to what the weights hold) and `model.safetensors`. A config whose
/// sizes are not the model's is a [`CheckpointError::Keys`] error and
/// nothing is written.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{save_hf, CheckpointError, LoadedModel};
/// use videomae::{model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-save-hf-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let device = Default::default();
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// save_hf(&LoadedModel::Classifier(Box::new(model)), &config, &dir)?;
/// assert!(dir.join("config.json").is_file() && dir.join("model.safetensors").is_file());
/// let text = std::fs::read_to_string(dir.join("config.json"))?;
/// assert_eq!(VideoMaeConfig::from_hf_json(&text)?.hidden_size, 48);
/// // A config that does not describe the model is refused.
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// let model = LoadedModel::Classifier(Box::new(model));
/// let wider = VideoMaeConfig { hidden_size: 64, ..config };
/// let err = save_hf(&model, &wider, &dir.join("other")).unwrap_err();
/// assert!(matches!(err, CheckpointError::Keys { .. }));
/// assert!(!dir.join("other").exists()); // nothing written
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_hf<B: Backend>(
    model: &LoadedModel<B>,
    config: &VideoMaeConfig,
    dir: &Path,
) -> Result<(), CheckpointError> {
    let mut export = Export::default();
    let mut config = config.clone();
    let architecture = match model {
        LoadedModel::Classifier(m) => {
            export.encoder(&m.encoder);
            config.use_mean_pooling = m.uses_mean_pooling();
            let norm = if m.uses_mean_pooling() {
                "fc_norm"
            } else {
                "videomae.layernorm"
            };
            export.norm(norm, &m.norm);
            export.linear("classifier", &m.head);
            config.num_labels = m.head.weight.dims()[1];
            "VideoMAEForVideoClassification"
        }
        LoadedModel::Pretraining(m) => {
            export.encoder(&m.encoder);
            // transformers keeps the encoder norm exactly when this is false.
            config.use_mean_pooling = m.encoder_norm.is_none();
            if let Some(n) = &m.encoder_norm {
                export.norm("videomae.layernorm", n);
            }
            export.linear("encoder_to_decoder", &m.encoder_to_decoder);
            export.param("mask_token".into(), &m.mask_token);
            for (i, b) in m.decoder.blocks.iter().enumerate() {
                export.block(&format!("decoder.decoder_layers.{i}"), b);
            }
            export.norm("decoder.norm", &m.decoder.norm);
            export.linear("decoder.head", &m.decoder.head);
            "VideoMAEForPreTraining"
        }
    };
    // A config that does not describe the model would save a checkpoint
    // that no loader accepts: refuse it before writing anything.
    let pretraining = matches!(model, LoadedModel::Pretraining(_));
    let saved = export
        .0
        .iter()
        .map(|(k, shape, _)| (k.clone(), shape.clone()))
        .collect();
    super::shapes::compare(&config, pretraining, &saved, |k| k.to_owned())?;
    std::fs::create_dir_all(dir).map_err(CheckpointError::io(dir))?;
    let mut json = serde_json::to_value(&config).expect("config serialises");
    json["architectures"] = serde_json::json!([architecture]);
    json["model_type"] = serde_json::json!("videomae");
    let text = serde_json::to_string_pretty(&json).expect("json serialises") + "\n";
    let views = export
        .0
        .iter()
        .map(|(k, shape, bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("f32 bytes");
            (k.clone(), view)
        })
        .collect::<Vec<_>>();
    // Each file is written beside its target and renamed into place, with
    // the mode File::create gives (safetensors' own temporary file is 0600).
    write_atomic(&dir.join("model.safetensors"), |tmp| {
        safetensors::serialize_to_file(views, None, tmp).map_err(|e| e.to_string())
    })?;
    write_atomic(&dir.join("config.json"), |tmp| {
        std::fs::write(tmp, text).map_err(|e| e.to_string())
    })?;
    Ok(())
}
