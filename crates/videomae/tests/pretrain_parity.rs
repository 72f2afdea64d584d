//! The Burn pretraining model against Hugging Face's VideoMAEForPreTraining
//! (v1 decoding, norm_pix_loss) and against VideoMAE V2's dual-masking
//! forward composed from the same HF modules, on the committed fixture; the
//! same weights read from the original `.pth` layout; and tubelet's own
//! save/load round trip.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
mod common;

use common::{max_abs_diff, read_f32};
use safetensors::SafeTensors;
use videomae::VideoMaeConfig;
use videomae::checkpoint::{LoadedModel, load, load_hf_pretraining, load_original, save_hf};
use videomae::pretrain::{PretrainMasks, VideoMaePretraining};

type B = Flex;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pretrain_tiny")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn pixels() -> Tensor<B, 5> {
    let bytes = read("inputs.safetensors");
    let inputs = SafeTensors::deserialize(&bytes).unwrap();
    let (values, shape) = read_f32(&inputs, "pixel_values");
    Tensor::from_data(
        TensorData::new(values, <[usize; 5]>::try_from(shape).unwrap()),
        &Default::default(),
    )
}

/// `name` (u8, (B, N)) of a safetensors file as one bool mask per clip.
fn masks(file: &str, name: &str) -> Vec<Vec<bool>> {
    let bytes = read(file);
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor(name).unwrap();
    let n = t.shape()[1];
    t.data()
        .chunks(n)
        .map(|r| r.iter().map(|&v| v != 0).collect())
        .collect()
}

/// Every hidden state on the visible tokens, the logits of every masked
/// token and the loss, as transformers computes them.
fn assert_matches_hf(model: &VideoMaePretraining<B>) {
    let bytes = read("outputs.safetensors");
    let outputs = SafeTensors::deserialize(&bytes).unwrap();
    let masks = PretrainMasks::dual(&masks("inputs.safetensors", "bool_masked_pos"), None).unwrap();
    let states = model
        .encoder
        .hidden_states_of(model.visible_embeddings(pixels(), &masks));
    for (i, s) in states.into_iter().enumerate() {
        let (reference, _) = read_f32(&outputs, &format!("hidden_states_{i}"));
        let diff = max_abs_diff(s, &reference);
        assert!(diff <= 1e-4, "hidden state {i}: max abs diff {diff}");
    }
    let out = model.forward(pixels(), &masks);
    let (reference, shape) = read_f32(&outputs, "logits");
    assert_eq!(out.logits().dims().to_vec(), shape);
    let diff = max_abs_diff(out.logits(), &reference);
    assert!(diff <= 1e-4, "logits: max abs diff {diff}");
    let (reference, _) = read_f32(&outputs, "loss");
    let diff = max_abs_diff(model.loss(&out), &reference);
    assert!(diff <= 1e-4, "loss: max abs diff {diff}");
}

#[test]
fn hugging_face_pretraining_checkpoint_matches() {
    let (_, model) = load_hf_pretraining::<B>(&dir(), &Default::default()).unwrap();
    assert!(
        model.encoder_norm.is_some(),
        "use_mean_pooling=false keeps the norm"
    );
    assert_matches_hf(&model);
}

#[test]
fn original_pth_pretraining_checkpoint_matches() {
    let config =
        VideoMaeConfig::from_hf_json(&std::fs::read_to_string(dir().join("config.json")).unwrap())
            .unwrap();
    let model = load_original::<B>(&dir().join("model.pth"), &config, &Default::default()).unwrap();
    let LoadedModel::Pretraining(model) = model else {
        panic!("decoder keys make a pretraining model");
    };
    assert_matches_hf(&model);
}

#[test]
fn v2_dual_masking_matches_clip_by_clip_reference() {
    let (_, model) = load_hf_pretraining::<B>(&dir(), &Default::default()).unwrap();
    let encoder = masks("inputs_v2.safetensors", "encoder_mask");
    let decoder = masks("inputs_v2.safetensors", "decoder_mask");
    let masks = PretrainMasks::dual(&encoder, Some(&decoder)).unwrap();
    let counts: Vec<usize> = masks.decode().iter().map(Vec::len).collect();
    assert!(
        counts[0] != counts[1],
        "the fixture pads one clip: {counts:?}"
    );
    let bytes = read("outputs_v2.safetensors");
    let outputs = SafeTensors::deserialize(&bytes).unwrap();
    let out = model.forward(pixels(), &masks);
    let [_, m, values] = out.logits().dims();
    for (i, &count) in counts.iter().enumerate() {
        let (reference, _) = read_f32(&outputs, &format!("logits_{i}"));
        let ours = out.logits().narrow(0, i, 1).narrow(1, 0, count);
        let diff = max_abs_diff(ours, &reference);
        assert!(diff <= 1e-4, "clip {i} logits: max abs diff {diff}");
        assert!(count <= m && reference.len() == count * values);
    }
    let (reference, _) = read_f32(&outputs, "loss_v2");
    let diff = max_abs_diff(model.loss(&out), &reference);
    assert!(diff <= 1e-4, "V2 loss: max abs diff {diff}");
}

#[test]
fn saved_checkpoints_load_back_identically() {
    let device = Default::default();
    let tmp = tempfile::tempdir().unwrap();
    let (config, model) = load(&dir(), None, &device).unwrap();
    save_hf::<B>(&model, &config, tmp.path()).unwrap();
    let (again, reloaded) = load::<B>(tmp.path(), None, &device).unwrap();
    assert_eq!(again, config);
    let LoadedModel::Pretraining(reloaded) = reloaded else {
        panic!("saved as pretraining");
    };
    assert_matches_hf(&reloaded);
    // The written config is one transformers reads: HF names, architecture.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(json["architectures"][0], "VideoMAEForPreTraining");
    assert_eq!(json["decoder_hidden_size"], 16);
    assert_eq!(json["use_mean_pooling"], false);
    assert!(!tmp.path().join(".model.safetensors.tmp").exists());
}
