//! [`VideoMaeConfig`]: the sizes of a VideoMAE / VideoMAE V2 model, with the
//! field names of Hugging Face's `config.json`, so an HF config deserialises
//! directly.

use serde::{Deserialize, Serialize};

/// A config that cannot describe a model.
///
/// ```
/// use videomae::VideoMaeConfig;
/// let config = VideoMaeConfig { hidden_size: 100, ..VideoMaeConfig::base() }; // 12 heads
/// let err = config.validate().unwrap_err();
/// assert_eq!(err.0, "hidden_size 100 is not divisible by 12 heads");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid VideoMAE config: {0}")]
pub struct ConfigError(pub String);

/// Sizes and options of a VideoMAE model (encoder, pretraining decoder,
/// classifier). Field names follow Hugging Face's `VideoMAEConfig`; fields
/// HF does not have (`drop_path_rate`, `use_learnable_pos_emb`) default to
/// the reference code's values.
///
/// ```
/// use videomae::VideoMaeConfig;
/// let base = VideoMaeConfig::base();
/// assert_eq!(base.num_tokens(), 1568); // 8 x 14 x 14
/// assert_eq!(base.with_labels(400).num_parameters_classifier(), 86_534_800);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoMaeConfig {
    /// Input height and width in pixels.
    pub image_size: usize,
    /// Spatial patch size.
    pub patch_size: usize,
    /// Input channels.
    pub num_channels: usize,
    /// Frames per clip.
    pub num_frames: usize,
    /// Frames per tubelet (temporal patch size).
    pub tubelet_size: usize,
    /// Encoder width D.
    pub hidden_size: usize,
    /// Encoder depth.
    pub num_hidden_layers: usize,
    /// Encoder attention heads.
    pub num_attention_heads: usize,
    /// Encoder MLP hidden size.
    pub intermediate_size: usize,
    /// Activation; only `"gelu"` (exact, erf-based) is supported.
    pub hidden_act: String,
    /// Dropout after attention projection and MLP (0 in the reference).
    pub hidden_dropout_prob: f64,
    /// Dropout on attention weights (0 in the reference).
    pub attention_probs_dropout_prob: f64,
    /// Std of the truncated-normal initialisation.
    pub initializer_range: f64,
    /// LayerNorm epsilon of the encoder blocks. HF's default is 1e-12; the
    /// original VideoMAE code uses 1e-6 (SPEC); checkpoints carry theirs.
    pub layer_norm_eps: f64,
    /// Whether the attention has learned q and v biases (the k bias is zero).
    /// transformers 5 writes this key as `qv_bias`.
    #[serde(alias = "qv_bias")]
    pub qkv_bias: bool,
    /// Classifier input: mean of all tokens then `fc_norm` (true), or the
    /// encoder's final norm and token 0 (false).
    pub use_mean_pooling: bool,
    /// Decoder width.
    pub decoder_hidden_size: usize,
    /// Decoder depth.
    pub decoder_num_hidden_layers: usize,
    /// Decoder attention heads.
    pub decoder_num_attention_heads: usize,
    /// Decoder MLP hidden size.
    pub decoder_intermediate_size: usize,
    /// Whether the pretraining target is normalised per patch.
    pub norm_pix_loss: bool,
    /// LayerNorm epsilon of the classifier's `fc_norm` and the decoder's
    /// final norm: 1e-5 in Hugging Face's code (PyTorch's default, not in
    /// its config.json), 1e-6 in the original code (the presets).
    pub fc_norm_eps: f64,
    /// Classes of the classifier head (HF: `len(id2label)`).
    pub num_labels: usize,
    /// Stochastic depth rate, increasing linearly over the blocks (fine-tuning).
    pub drop_path_rate: f64,
    /// Dropout before the classifier head.
    pub head_dropout: f64,
}

impl Default for VideoMaeConfig {
    /// ViT-B/16, 16 frames at 224 (HF's defaults).
    fn default() -> Self {
        VideoMaeConfig {
            image_size: 224,
            patch_size: 16,
            num_channels: 3,
            num_frames: 16,
            tubelet_size: 2,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            hidden_dropout_prob: 0.0,
            attention_probs_dropout_prob: 0.0,
            initializer_range: 0.02,
            layer_norm_eps: 1e-12,
            qkv_bias: true,
            use_mean_pooling: true,
            decoder_hidden_size: 384,
            decoder_num_hidden_layers: 4,
            decoder_num_attention_heads: 6,
            decoder_intermediate_size: 1536,
            norm_pix_loss: true,
            fc_norm_eps: 1e-5,
            num_labels: 2,
            drop_path_rate: 0.0,
            head_dropout: 0.0,
        }
    }
}

/// Burn's config trait: `save(path)` / `load(path)` as JSON, as Burn
/// saves configs next to artifacts. `load` does not validate; checkpoint
/// loaders do.
impl burn::config::Config for VideoMaeConfig {}

impl VideoMaeConfig {
    fn sized(
        d: usize,
        depth: usize,
        heads: usize,
        mlp: usize,
        patch: usize,
        dec: (usize, usize),
    ) -> Self {
        VideoMaeConfig {
            hidden_size: d,
            num_hidden_layers: depth,
            num_attention_heads: heads,
            intermediate_size: mlp,
            patch_size: patch,
            decoder_hidden_size: dec.0,
            decoder_num_attention_heads: dec.1,
            // The decoder's MLP ratio is the encoder's (SPEC).
            decoder_intermediate_size: dec.0 * mlp / d,
            layer_norm_eps: 1e-6,
            fc_norm_eps: 1e-6,
            ..VideoMaeConfig::default()
        }
    }

    /// ViT-S/16: D 384, depth 12, 6 heads, decoder 192 / 3 heads.
    pub fn small() -> Self {
        Self::sized(384, 12, 6, 1536, 16, (192, 3))
    }

    /// ViT-B/16: D 768, depth 12, 12 heads, decoder 384 / 6 heads.
    pub fn base() -> Self {
        Self::sized(768, 12, 12, 3072, 16, (384, 6))
    }

    /// ViT-L/16: D 1024, depth 24, 16 heads, decoder 512 / 8 heads.
    pub fn large() -> Self {
        Self::sized(1024, 24, 16, 4096, 16, (512, 8))
    }

    /// ViT-H/16: D 1280, depth 32, 16 heads, decoder 512 / 8 heads (V2).
    pub fn huge() -> Self {
        Self::sized(1280, 32, 16, 5120, 16, (512, 8))
    }

    /// ViT-g/14: D 1408, depth 40, 16 heads, MLP 6144, decoder 512 / 8 heads
    /// with MLP 2234 (512 x 6144 / 1408, truncated as in the reference).
    pub fn giant() -> Self {
        Self::sized(1408, 40, 16, 6144, 14, (512, 8))
    }

    /// This config with an `n`-class head.
    pub fn with_labels(mut self, n: usize) -> Self {
        self.num_labels = n;
        self
    }

    /// Reads an HF `config.json` (unknown keys are ignored, as HF does;
    /// `num_labels` comes from `id2label` when present). A value of the
    /// wrong type names its field.
    pub fn from_hf_json(text: &str) -> Result<Self, ConfigError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        let mut config: VideoMaeConfig = match serde_json::from_value(value.clone()) {
            Ok(c) => c,
            Err(e) => return Err(ConfigError(Self::field_error(&value, e))),
        };
        if let Some(labels) = value.get("id2label").and_then(|v| v.as_object()) {
            config.num_labels = labels.len();
        }
        config.validate()?;
        Ok(config)
    }

    /// serde's message for a whole-object failure does not say which field
    /// failed: each field is tried alone to find the first that does.
    fn field_error(value: &serde_json::Value, whole: serde_json::Error) -> String {
        if let Some(object) = value.as_object() {
            for (key, v) in object {
                let one = serde_json::json!({ key: v });
                if let Err(e) = serde_json::from_value::<VideoMaeConfig>(one) {
                    return format!("field {key:?}: {e}");
                }
            }
        }
        whole.to_string()
    }

    /// Checks that the sizes describe a model.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: String| Err(ConfigError(m));
        if self.hidden_act != "gelu" {
            return fail(format!(
                "hidden_act {:?}: only \"gelu\" (erf) is supported",
                self.hidden_act
            ));
        }
        for (name, v) in [
            ("image_size", self.image_size),
            ("patch_size", self.patch_size),
            ("num_channels", self.num_channels),
            ("num_frames", self.num_frames),
            ("tubelet_size", self.tubelet_size),
            ("hidden_size", self.hidden_size),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("decoder_hidden_size", self.decoder_hidden_size),
            (
                "decoder_num_attention_heads",
                self.decoder_num_attention_heads,
            ),
            ("decoder_intermediate_size", self.decoder_intermediate_size),
        ] {
            if v == 0 {
                return fail(format!("{name} must be positive"));
            }
        }
        if !self.image_size.is_multiple_of(self.patch_size) {
            return fail(format!(
                "image_size {} is not a multiple of patch_size {}",
                self.image_size, self.patch_size
            ));
        }
        if !self.num_frames.is_multiple_of(self.tubelet_size) {
            return fail(format!(
                "num_frames {} is not a multiple of tubelet_size {}",
                self.num_frames, self.tubelet_size
            ));
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return fail(format!(
                "hidden_size {} is not divisible by {} heads",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !self
            .decoder_hidden_size
            .is_multiple_of(self.decoder_num_attention_heads)
        {
            return fail(format!(
                "decoder_hidden_size {} is not divisible by {} heads",
                self.decoder_hidden_size, self.decoder_num_attention_heads
            ));
        }
        crate::limits::check(self)
    }

    /// [`VideoMaeConfig::validate`] plus what the pretraining model needs:
    /// 3 channels (its target un-normalises with the RGB ImageNet
    /// statistics and its head splits values by 3 channels).
    pub fn validate_pretraining(&self) -> Result<(), ConfigError> {
        self.validate()?;
        if self.num_channels != 3 {
            return Err(ConfigError(format!(
                "num_channels {}: pretraining needs 3 (RGB, ImageNet statistics)",
                self.num_channels
            )));
        }
        Ok(())
    }

    /// Tokens per clip: (frames / tubelet) x (size / patch)^2.
    pub fn num_tokens(&self) -> usize {
        self.temporal_slices() * self.tokens_per_slice()
    }

    /// Token grid side: image_size / patch_size.
    pub fn grid_size(&self) -> usize {
        self.image_size / self.patch_size
    }

    /// Tokens per temporal slice.
    pub fn tokens_per_slice(&self) -> usize {
        self.grid_size() * self.grid_size()
    }

    /// Temporal slices: num_frames / tubelet_size.
    pub fn temporal_slices(&self) -> usize {
        self.num_frames / self.tubelet_size
    }

    /// Values a pretraining decoder predicts per token: channels x tubelet x
    /// patch^2 (1536 for 3 x 2 x 16 x 16).
    pub fn patch_values(&self) -> usize {
        self.num_channels * self.tubelet_size * self.patch_size * self.patch_size
    }

    fn block_parameters(d: usize, mlp: usize, qkv_bias: bool) -> usize {
        let norms = 2 * 2 * d;
        let attention = 3 * d * d + if qkv_bias { 2 * d } else { 0 } + d * d + d;
        let mlp = d * mlp + mlp + mlp * d + d;
        norms + attention + mlp
    }

    /// Parameters of the encoder: tubelet embedding and blocks (the fixed
    /// sinusoid table is not a parameter).
    pub fn num_parameters_encoder(&self) -> usize {
        let d = self.hidden_size;
        let embed = self.patch_values() * d + d;
        embed
            + self.num_hidden_layers
                * Self::block_parameters(d, self.intermediate_size, self.qkv_bias)
    }

    /// Parameters of a `VideoMAEForVideoClassification`: encoder, `fc_norm`
    /// (mean pooling) or the final norm, and the head.
    pub fn num_parameters_classifier(&self) -> usize {
        let d = self.hidden_size;
        self.num_parameters_encoder() + 2 * d + d * self.num_labels + self.num_labels
    }

    /// Parameters of a `VideoMAEForPreTraining`: encoder, its final norm
    /// (present when `use_mean_pooling` is false, as in HF's pretraining
    /// configs), `encoder_to_decoder` (no bias), `mask_token`, decoder blocks,
    /// norm and head.
    pub fn num_parameters_pretraining(&self) -> usize {
        let (d, dd) = (self.hidden_size, self.decoder_hidden_size);
        let decoder = self.decoder_num_hidden_layers
            * Self::block_parameters(dd, self.decoder_intermediate_size, self.qkv_bias)
            + 2 * dd
            + dd * self.patch_values()
            + self.patch_values();
        let final_norm = if self.use_mean_pooling { 0 } else { 2 * d };
        self.num_parameters_encoder() + final_norm + d * dd + dd + decoder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_match_the_published_ones() {
        // SPEC section 2; hand-checked: patch 1,180,416 + 12 x 7,087,104 +
        // fc_norm 1,536 + head 307,600 = 86,534,800.
        assert_eq!(
            VideoMaeConfig::base()
                .with_labels(400)
                .num_parameters_classifier(),
            86_534_800
        );
        assert_eq!(
            VideoMaeConfig::base()
                .with_labels(101)
                .num_parameters_classifier(),
            86_304_869
        );
        assert_eq!(
            VideoMaeConfig::giant()
                .with_labels(51)
                .num_parameters_classifier(),
            1_011_682_611
        );
    }

    #[test]
    fn presets_follow_the_size_table() {
        let g = VideoMaeConfig::giant();
        assert_eq!(
            (g.hidden_size, g.num_hidden_layers, g.patch_size),
            (1408, 40, 14)
        );
        assert_eq!(g.decoder_intermediate_size, 2234);
        assert_eq!(g.num_tokens(), 8 * 16 * 16);
        let s = VideoMaeConfig::small();
        assert_eq!(
            (
                s.decoder_hidden_size,
                s.decoder_num_attention_heads,
                s.decoder_intermediate_size
            ),
            (192, 3, 768)
        );
        for c in [
            s,
            VideoMaeConfig::base(),
            VideoMaeConfig::large(),
            VideoMaeConfig::huge(),
            g,
        ] {
            c.validate().unwrap();
            assert_eq!(c.layer_norm_eps, 1e-6);
        }
    }

    #[test]
    fn burn_config_save_and_load_round_trip() {
        use burn::config::Config;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = VideoMaeConfig::giant().with_labels(51);
        config.save(&path).unwrap();
        assert_eq!(VideoMaeConfig::load(&path).unwrap(), config);
        // The file is HF-named JSON: the HF reader takes it too.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(VideoMaeConfig::from_hf_json(&text).unwrap(), config);
    }

    #[test]
    fn reads_a_hugging_face_config() {
        let text = r#"{
            "architectures": ["VideoMAEForVideoClassification"], "model_type": "videomae",
            "hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6,
            "intermediate_size": 1536, "layer_norm_eps": 1e-12, "use_mean_pooling": true,
            "id2label": {"0": "a", "1": "b", "2": "c"}, "torch_dtype": "float32"
        }"#;
        let c = VideoMaeConfig::from_hf_json(text).unwrap();
        assert_eq!(
            (c.hidden_size, c.num_labels, c.layer_norm_eps),
            (384, 3, 1e-12)
        );
        assert_eq!(c.decoder_hidden_size, 384); // HF default
        let bad = VideoMaeConfig::from_hf_json(r#"{"hidden_act": "relu"}"#).unwrap_err();
        assert!(bad.0.contains("relu"));
        let bad = VideoMaeConfig::from_hf_json(r#"{"hidden_size": 100}"#).unwrap_err();
        assert!(bad.0.contains("divisible"));
    }
}
