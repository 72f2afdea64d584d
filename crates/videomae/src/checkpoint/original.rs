//! Original VideoMAE / VideoMAE V2 `.pth` checkpoints (the PyTorch code of
//! the papers): weights under `model` or `module` (or at the top level),
//! an optional `_orig_mod.` prefix (`torch.compile`), fused
//! `attn.qkv.weight` `[3D, D]` split in order q, k, v, and `q_bias` /
//! `v_bias`. The file is read by tubelet's own strict, bounded `.pth`
//! reader (the `pth` module): its pickle interpreter builds tensors and
//! dictionaries and executes no code from the file; a damaged or crafted
//! file is an error naming the file and the tensor's key.
//!
//! Keys are renamed to Hugging Face's names and loaded by the same strict
//! code; errors name the file's own keys.

use std::path::Path;

use burn::tensor::backend::Backend;

use super::hf::{DECODER_HEAD, hf_classifier, hf_pretraining};
use super::shapes::compare;
use super::{CheckpointError, LoadedModel, TensorMap, Weights};
use crate::config::VideoMaeConfig;

use super::pth::read_state_dict;

/// Block sub-keys: original name, Hugging Face name (fused qkv aside).
const BLOCK_KEYS: [(&str, &str); 14] = [
    ("norm1.weight", "layernorm_before.weight"),
    ("norm1.bias", "layernorm_before.bias"),
    ("norm2.weight", "layernorm_after.weight"),
    ("norm2.bias", "layernorm_after.bias"),
    ("attn.q_bias", "attention.attention.q_bias"),
    ("attn.v_bias", "attention.attention.v_bias"),
    ("attn.proj.weight", "attention.output.dense.weight"),
    ("attn.proj.bias", "attention.output.dense.bias"),
    ("mlp.fc1.weight", "intermediate.dense.weight"),
    ("mlp.fc1.bias", "intermediate.dense.bias"),
    ("mlp.fc2.weight", "output.dense.weight"),
    ("mlp.fc2.bias", "output.dense.bias"),
    ("attn.qkv.bias", "attention.attention.qkv.bias"),
    ("attn.qkv.weight", "attention.attention.qkv.weight"),
];

/// Top-level renames: original prefix, Hugging Face prefix. Pretraining
/// checkpoints put the encoder under `encoder.`; classifiers do not.
const TOP_KEYS: [(&str, &str); 11] = [
    (
        "encoder.patch_embed.proj.",
        "videomae.embeddings.patch_embeddings.projection.",
    ),
    (
        "patch_embed.proj.",
        "videomae.embeddings.patch_embeddings.projection.",
    ),
    ("encoder.blocks.", "videomae.encoder.layer."),
    ("blocks.", "videomae.encoder.layer."),
    ("decoder.blocks.", "decoder.decoder_layers."),
    ("encoder.norm.", "videomae.layernorm."),
    ("norm.", "videomae.layernorm."),
    ("head.", "classifier."),
    ("fc_norm.", "fc_norm."),
    ("decoder.norm.", "decoder.norm."),
    ("decoder.head.", "decoder.head."),
];

/// The Hugging Face name of an original key (`None`: no counterpart, kept
/// as is and reported as unexpected). The fused `qkv.weight` maps to a
/// pseudo-key that the loader splits.
///
/// ```
/// use videomae::checkpoint::original_to_hf_key;
/// assert_eq!(original_to_hf_key("blocks.3.attn.q_bias").as_deref(),
///     Some("videomae.encoder.layer.3.attention.attention.q_bias"));
/// assert_eq!(original_to_hf_key("head.weight").as_deref(), Some("classifier.weight"));
/// assert_eq!(original_to_hf_key("pos_embed"), None); // no counterpart: reported unexpected
/// ```
pub fn original_to_hf_key(key: &str) -> Option<String> {
    if key == "mask_token" || key == "encoder_to_decoder.weight" {
        return Some(key.to_owned());
    }
    for (orig, hf) in TOP_KEYS {
        let Some(rest) = key.strip_prefix(orig) else {
            continue;
        };
        if !orig.ends_with("blocks.") {
            return Some(format!("{hf}{rest}"));
        }
        let (index, sub) = rest.split_once('.')?;
        index.parse::<usize>().ok()?;
        let (_, hf_sub) = BLOCK_KEYS.iter().find(|(o, _)| *o == sub)?;
        return Some(format!("{hf}{index}.{hf_sub}"));
    }
    None
}

/// The original name of a Hugging Face key, for error messages.
fn hf_to_original_key(key: &str, pretraining: bool) -> String {
    let enc = if pretraining { "encoder." } else { "" };
    for (hf, orig) in [
        (
            "videomae.embeddings.patch_embeddings.projection.",
            format!("{enc}patch_embed.proj."),
        ),
        ("videomae.encoder.layer.", format!("{enc}blocks.")),
        ("decoder.decoder_layers.", "decoder.blocks.".to_owned()),
        ("videomae.layernorm.", format!("{enc}norm.")),
        ("classifier.", "head.".to_owned()),
    ] {
        let Some(rest) = key.strip_prefix(hf) else {
            continue;
        };
        if !hf.ends_with("layer.") && !hf.ends_with("layers.") {
            return format!("{orig}{rest}");
        }
        let Some((index, sub)) = rest.split_once('.') else {
            break;
        };
        let sub = match sub {
            "attention.attention.query.weight"
            | "attention.attention.key.weight"
            | "attention.attention.value.weight" => "attn.qkv.weight",
            s => BLOCK_KEYS
                .iter()
                .find(|(_, h)| *h == s)
                .map_or(s, |(o, _)| o),
        };
        return format!("{orig}{index}.{sub}");
    }
    key.to_owned()
}

/// Renames original keys to Hugging Face's and splits each fused qkv
/// weight into query, key and value (in that order).
fn to_hf_names(state: TensorMap) -> TensorMap {
    let mut out = TensorMap::new();
    for (key, (shape, values)) in state {
        let Some(hf) = original_to_hf_key(&key) else {
            out.insert(key, (shape, values));
            continue;
        };
        match hf.strip_suffix("qkv.weight") {
            Some(stem) if shape.len() == 2 && shape[1].checked_mul(3) == Some(shape[0]) => {
                let part = values.len() / 3;
                for (i, name) in ["query", "key", "value"].iter().enumerate() {
                    let v = values[i * part..(i + 1) * part].to_vec();
                    out.insert(
                        format!("{stem}{name}.weight"),
                        (vec![shape[1], shape[1]], v),
                    );
                }
            }
            // A mis-shaped qkv stays whole and is reported unexpected.
            _ => {
                out.insert(hf, (shape, values));
            }
        }
    }
    out
}

/// Loads an original VideoMAE / VideoMAE V2 `.pth` checkpoint as a
/// classifier or a pretraining model (whichever its keys hold). The file
/// has no config: pass the model's (see [`infer_original_config`]). Any
/// missing, unexpected or mis-shaped key fails, named as in the file.
///
/// ```no_run
/// // Needs a real checkpoint, e.g. VideoMAE V2's vit_g_hybrid_pt_1200e.pth.
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{infer_original_config, load_original, LoadedModel};
/// let path = std::path::Path::new("vit_g_hybrid_pt_1200e.pth");
/// let config = infer_original_config(path, 16, 224)?;
/// match load_original::<Flex>(path, &config, &Default::default())? {
///     LoadedModel::Pretraining(m) => println!("{} decoder blocks", m.decoder.blocks.len()),
///     LoadedModel::Classifier(m) => println!("{} classes", m.head.weight.dims()[1]),
/// }
/// # Ok::<(), videomae::checkpoint::CheckpointError>(())
/// ```
pub fn load_original<B: Backend>(
    path: &Path,
    config: &VideoMaeConfig,
    device: &B::Device,
) -> Result<LoadedModel<B>, CheckpointError> {
    config.validate()?;
    let state = to_hf_names(read_state_dict(path)?);
    let pretraining = state.contains_key(DECODER_HEAD);
    let found = state
        .iter()
        .map(|(k, (s, _))| (k.clone(), s.clone()))
        .collect();
    let mut w = Weights::new(state);
    let config = VideoMaeConfig {
        // The V2 pretraining encoder always ends with a norm; a classifier
        // pools with fc_norm when the file has one.
        use_mean_pooling: !pretraining && !w.contains("videomae.layernorm.weight"),
        ..config.clone()
    };
    if pretraining {
        config.validate_pretraining()?;
    }
    // Keys and shapes first: a config that does not fit the file (a
    // mistyped or hostile size) fails before its model is allocated.
    compare(&config, pretraining, &found, |k| {
        hf_to_original_key(k, pretraining)
    })?;
    let model = if pretraining {
        LoadedModel::Pretraining(Box::new(hf_pretraining(&mut w, &config, device)))
    } else {
        LoadedModel::Classifier(Box::new(hf_classifier(&mut w, &config, device)))
    };
    w.finish(|k| hf_to_original_key(k, pretraining))?;
    Ok(model)
}

/// A config for an original `.pth` from its tensor shapes and the clip
/// size it is used at: widths, depths, patch, tubelet, MLP sizes and
/// classes come from the weights; heads from the published sizes (64-wide
/// heads otherwise); norms use the original code's eps 1e-6.
///
/// ```
/// use videomae::checkpoint::{infer_original_config, CheckpointError};
/// let path = std::env::temp_dir()
///     .join(format!("videomae-doc-not-a-pth-{}.pth", std::process::id()));
/// std::fs::write(&path, b"not a checkpoint")?;
/// let err = infer_original_config(&path, 16, 224).unwrap_err();
/// assert!(matches!(err, CheckpointError::Format { .. }));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn infer_original_config(
    path: &Path,
    num_frames: usize,
    image_size: usize,
) -> Result<VideoMaeConfig, CheckpointError> {
    let state = to_hf_names(read_state_dict(path)?);
    let shape = |k: &str| state.get(k).map(|(s, _)| s.clone());
    let missing = |k: &str| CheckpointError::Keys {
        missing: vec![k.to_owned()],
        unexpected: vec![],
        mismatched: vec![],
    };
    let embed = "videomae.embeddings.patch_embeddings.projection.weight";
    let e = shape(embed).ok_or_else(|| missing(embed))?;
    let [d, c, t, p, _]: [usize; 5] = e.clone().try_into().map_err(|_| CheckpointError::Keys {
        missing: vec![],
        unexpected: vec![],
        mismatched: vec![(embed.to_owned(), vec![0; 5], e)],
    })?;
    let depth = |prefix: &str| {
        (0..)
            .take_while(|i| state.contains_key(&format!("{prefix}{i}.layernorm_before.weight")))
            .count()
    };
    // `first`, not `[0]`: a file may hold a 0-d tensor under any name.
    let first = |k: &str| shape(k).and_then(|s| s.first().copied());
    let mlp = |prefix: &str| first(&format!("{prefix}0.intermediate.dense.weight"));
    let heads = |w: usize| match w {
        192 => 3,
        384 => 6,
        512 => 8,
        768 => 12,
        1024 | 1280 | 1408 => 16,
        _ => (w / 64).max(1),
    };
    let enc = "videomae.encoder.layer.";
    let dec = "decoder.decoder_layers.";
    let mut config = VideoMaeConfig {
        image_size,
        num_frames,
        num_channels: c,
        tubelet_size: t,
        patch_size: p,
        hidden_size: d,
        num_hidden_layers: depth(enc),
        num_attention_heads: heads(d),
        intermediate_size: mlp(enc).unwrap_or(d.saturating_mul(4)),
        layer_norm_eps: 1e-6,
        fc_norm_eps: 1e-6,
        use_mean_pooling: state.contains_key("fc_norm.weight"),
        qkv_bias: state.contains_key(&format!("{enc}0.attention.attention.q_bias")),
        ..VideoMaeConfig::default()
    };
    if let Some(n) = first("classifier.weight") {
        config.num_labels = n;
    }
    if let Some(n) = first("encoder_to_decoder.weight") {
        config.decoder_hidden_size = n;
        config.decoder_num_attention_heads = heads(n);
        config.decoder_num_hidden_layers = depth(dec);
        config.decoder_intermediate_size = mlp(dec).unwrap_or(n.saturating_mul(4));
    }
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_round_trip() {
        for (orig, hf) in [
            (
                "blocks.3.attn.q_bias",
                "videomae.encoder.layer.3.attention.attention.q_bias",
            ),
            (
                "encoder.blocks.0.mlp.fc2.bias",
                "videomae.encoder.layer.0.output.dense.bias",
            ),
            (
                "decoder.blocks.1.norm1.weight",
                "decoder.decoder_layers.1.layernorm_before.weight",
            ),
            (
                "patch_embed.proj.weight",
                "videomae.embeddings.patch_embeddings.projection.weight",
            ),
            ("head.bias", "classifier.bias"),
            ("decoder.head.bias", "decoder.head.bias"),
            ("encoder.norm.weight", "videomae.layernorm.weight"),
        ] {
            assert_eq!(original_to_hf_key(orig).as_deref(), Some(hf), "{orig}");
            let pretraining = orig.starts_with("encoder") || orig.starts_with("decoder");
            assert_eq!(hf_to_original_key(hf, pretraining), orig);
        }
        assert_eq!(original_to_hf_key("blocks.x.norm1.weight"), None);
        assert_eq!(original_to_hf_key("pos_embed"), None);
        assert_eq!(
            hf_to_original_key(
                "videomae.encoder.layer.2.attention.attention.key.weight",
                false
            ),
            "blocks.2.attn.qkv.weight"
        );
    }
}
