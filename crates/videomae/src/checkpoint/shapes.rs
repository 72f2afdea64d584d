//! The keys and shapes a config gives a model, compared with a file's
//! before the model is built: a config that does not fit the weights (a
//! mistyped or hostile `hidden_size`, 100,000 layers) fails with the
//! [`CheckpointError::Keys`] error without allocating its model, and a
//! safetensors header is checked against the file's real size before the
//! file is read.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use safetensors::tensor::Metadata;

use super::{CheckpointError, keys_result};
use crate::config::VideoMaeConfig;
use crate::io::open_regular;

/// Largest safetensors header accepted (safetensors' own limit).
const MAX_HEADER_BYTES: u64 = 100_000_000;

type Shapes = Vec<(String, Vec<usize>)>;

/// Every tensor a model for `config` loads, in Hugging Face's names, with
/// its PyTorch shape, in the order the loader takes them: a classifier, or
/// a pretraining model when `pretraining` (with the encoder's final norm
/// exactly when `use_mean_pooling` is false, as in transformers).
///
/// ```
/// use videomae::VideoMaeConfig;
/// use videomae::checkpoint::expected_shapes;
/// let keys = expected_shapes(&VideoMaeConfig::base().with_labels(400), false);
/// let values: usize = keys.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
/// assert_eq!(values, 86_534_800);
/// ```
pub fn expected_shapes(config: &VideoMaeConfig, pretraining: bool) -> Shapes {
    let (d, c, t, p) = (
        config.hidden_size,
        config.num_channels,
        config.tubelet_size,
        config.patch_size,
    );
    let mut out = Shapes::new();
    let embed = "videomae.embeddings.patch_embeddings.projection";
    out.push((format!("{embed}.weight"), vec![d, c, t, p, p]));
    out.push((format!("{embed}.bias"), vec![d]));
    for i in 0..config.num_hidden_layers {
        block(
            &mut out,
            &format!("videomae.encoder.layer.{i}"),
            d,
            config.intermediate_size,
            config.qkv_bias,
        );
    }
    if !pretraining {
        let name = if config.use_mean_pooling {
            "fc_norm"
        } else {
            "videomae.layernorm"
        };
        norm(&mut out, name, d);
        linear(&mut out, "classifier", config.num_labels, d);
        return out;
    }
    let dd = config.decoder_hidden_size;
    if !config.use_mean_pooling {
        norm(&mut out, "videomae.layernorm", d);
    }
    out.push(("encoder_to_decoder.weight".into(), vec![dd, d]));
    out.push(("mask_token".into(), vec![1, 1, dd]));
    for i in 0..config.decoder_num_hidden_layers {
        block(
            &mut out,
            &format!("decoder.decoder_layers.{i}"),
            dd,
            config.decoder_intermediate_size,
            config.qkv_bias,
        );
    }
    norm(&mut out, "decoder.norm", dd);
    linear(&mut out, "decoder.head", config.patch_values(), dd);
    out
}

fn norm(out: &mut Shapes, name: &str, d: usize) {
    out.push((format!("{name}.weight"), vec![d]));
    out.push((format!("{name}.bias"), vec![d]));
}

fn linear(out: &mut Shapes, name: &str, d_out: usize, d_in: usize) {
    out.push((format!("{name}.weight"), vec![d_out, d_in]));
    out.push((format!("{name}.bias"), vec![d_out]));
}

/// One block's keys (Hugging Face's `VideoMAELayer`) under `prefix`.
fn block(out: &mut Shapes, prefix: &str, d: usize, mlp: usize, qkv_bias: bool) {
    let a = format!("{prefix}.attention.attention");
    for part in ["query", "key", "value"] {
        out.push((format!("{a}.{part}.weight"), vec![d, d]));
    }
    if qkv_bias {
        out.push((format!("{a}.q_bias"), vec![d]));
        out.push((format!("{a}.v_bias"), vec![d]));
    }
    linear(out, &format!("{prefix}.attention.output.dense"), d, d);
    norm(out, &format!("{prefix}.layernorm_before"), d);
    norm(out, &format!("{prefix}.layernorm_after"), d);
    linear(out, &format!("{prefix}.intermediate.dense"), mlp, d);
    linear(out, &format!("{prefix}.output.dense"), d, mlp);
}

/// The [`CheckpointError::Keys`] error of `found` (Hugging Face names)
/// against [`expected_shapes`], or Ok when they agree. `rename` maps names
/// to the file's own; lists are deduplicated (the original layout names
/// q, k and v of a block as one fused key).
pub(super) fn compare(
    config: &VideoMaeConfig,
    pretraining: bool,
    found: &BTreeMap<String, Vec<usize>>,
    rename: impl Fn(&str) -> String,
) -> Result<(), CheckpointError> {
    let expected = expected_shapes(config, pretraining);
    let (mut missing, mut mismatched) = (Vec::new(), Vec::new());
    let mut used = HashSet::new();
    for (key, want) in &expected {
        match found.get(key) {
            None => missing.push(rename(key)),
            Some(got) if got != want => {
                mismatched.push((rename(key), want.clone(), got.clone()));
            }
            Some(_) => {}
        }
        used.insert(key.as_str());
    }
    let unexpected: Vec<String> = found
        .keys()
        .filter(|k| !used.contains(k.as_str()))
        .map(|k| rename(k))
        .collect();
    keys_result(missing, unexpected, mismatched)
}

/// The tensor shapes of a safetensors file, from its header alone: the
/// header length is checked against the file's size before it is read, the
/// header is validated by safetensors (dtypes, byte ranges that match each
/// shape, no gaps), and the data it declares must be exactly what follows
/// it in the file. A header claiming huge tensors thus fails without
/// anything of that size being allocated or read.
///
/// ```
/// use videomae::burn::backend::Flex;
/// use videomae::checkpoint::{safetensors_shapes, save_hf, LoadedModel};
/// use videomae::{model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let config = config.with_labels(3);
/// # let dir = std::env::temp_dir().join(format!("videomae-doc-shapes-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let device = Default::default();
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// save_hf(&LoadedModel::Classifier(Box::new(model)), &config, &dir)?;
/// let shapes = safetensors_shapes(&dir.join("model.safetensors"))?;
/// assert_eq!(shapes["classifier.weight"], [3, 48]); // PyTorch's [out, in]
/// let embed = "videomae.embeddings.patch_embeddings.projection.weight";
/// assert_eq!(shapes[embed], [48, 3, 2, 16, 16]); // Conv3d [d, channels, t, p, p]
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn safetensors_shapes(path: &Path) -> Result<BTreeMap<String, Vec<usize>>, CheckpointError> {
    let io = CheckpointError::io(path);
    let format = CheckpointError::format(path);
    let (mut file, size) = open_regular(path)?;
    let mut len = [0u8; 8];
    if size < 8 {
        return Err(format(format!(
            "{size} bytes: too short for a safetensors file"
        )));
    }
    file.read_exact(&mut len).map_err(io)?;
    let n = u64::from_le_bytes(len);
    if n > size - 8 || n > MAX_HEADER_BYTES {
        return Err(format(format!(
            "header length {n} exceeds the file ({size} bytes) or the limit of {MAX_HEADER_BYTES}"
        )));
    }
    let mut header = Vec::with_capacity(n as usize);
    (&mut file).take(n).read_to_end(&mut header).map_err(io)?;
    if header.len() as u64 != n {
        return Err(format("the file ended inside its header".into()));
    }
    let metadata: Metadata = serde_json::from_slice(&header)
        .map_err(|e| format(format!("invalid safetensors header: {e}")))?;
    let infos = metadata.tensors();
    let data = infos.values().map(|i| i.data_offsets.1).max().unwrap_or(0) as u64;
    if data != size - 8 - n {
        return Err(format(format!(
            "the header declares {data} bytes of tensor data, the file holds {}",
            size - 8 - n
        )));
    }
    Ok(infos
        .into_iter()
        .map(|(k, info)| (k, info.shape.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::LoadedModel;
    use crate::model::VideoMaeClassifier;
    use crate::pretrain::VideoMaePretraining;
    use burn::backend::Flex;

    /// The expected keys are exactly what the saver writes for a model
    /// built from the same config (an independent walk of the model), for
    /// both kinds and both poolings.
    #[test]
    fn expected_shapes_are_the_saved_ones() {
        let device = Default::default();
        for (pretraining, pooling, qkv_bias) in [
            (false, true, true),
            (false, false, false),
            (true, true, true),
            (true, false, true),
        ] {
            let config = VideoMaeConfig {
                image_size: 32,
                num_frames: 4,
                hidden_size: 16,
                num_hidden_layers: 2,
                num_attention_heads: 2,
                intermediate_size: 24,
                decoder_hidden_size: 8,
                decoder_num_hidden_layers: 1,
                decoder_num_attention_heads: 2,
                decoder_intermediate_size: 12,
                use_mean_pooling: pooling,
                qkv_bias,
                ..VideoMaeConfig::default()
            }
            .with_labels(3);
            let model = if pretraining {
                let mut m = VideoMaePretraining::<Flex>::init(&config, &device);
                if pooling {
                    m.encoder_norm = None;
                }
                LoadedModel::Pretraining(Box::new(m))
            } else {
                LoadedModel::Classifier(Box::new(VideoMaeClassifier::<Flex>::init(
                    &config, &device,
                )))
            };
            let dir = tempfile::tempdir().unwrap();
            crate::checkpoint::save_hf(&model, &config, dir.path()).unwrap();
            let saved = safetensors_shapes(&dir.path().join("model.safetensors")).unwrap();
            let expected: BTreeMap<String, Vec<usize>> =
                expected_shapes(&config, pretraining).into_iter().collect();
            assert_eq!(
                saved, expected,
                "pretraining {pretraining}, pooling {pooling}"
            );
        }
    }
}
