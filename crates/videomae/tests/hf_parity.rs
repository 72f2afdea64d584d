//! The Burn classifier against Hugging Face's VideoMAEForVideoClassification
//! on the committed fixture: every hidden state and the logits within 1e-4;
//! and strict loading.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
mod common;

use common::read_f32;
use safetensors::SafeTensors;
use videomae::checkpoint::{CheckpointError, load_hf_classifier};

type B = Flex;

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn max_abs_diff<const D: usize>(ours: Tensor<B, D>, reference: &[f32]) -> f32 {
    let ours: Vec<f32> = ours.into_data().to_vec().unwrap();
    assert_eq!(ours.len(), reference.len());
    ours.iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn classifier_matches_hugging_face() {
    let device = Default::default();
    let (config, model) = load_hf_classifier::<B>(&dir("classify_tiny"), &device).unwrap();
    let inputs = std::fs::read(dir("classify_tiny").join("inputs.safetensors")).unwrap();
    let inputs = SafeTensors::deserialize(&inputs).unwrap();
    let outputs = std::fs::read(dir("classify_tiny").join("outputs.safetensors")).unwrap();
    let outputs = SafeTensors::deserialize(&outputs).unwrap();
    let (pixels, shape) = read_f32(&inputs, "pixel_values");
    let shape: [usize; 5] = shape.try_into().unwrap();
    let pixels = Tensor::<B, 5>::from_data(TensorData::new(pixels, shape), &device);

    let states = model.encoder.hidden_states(pixels.clone());
    assert_eq!(states.len(), config.num_hidden_layers + 1);
    for (i, s) in states.iter().enumerate() {
        let (reference, _) = read_f32(&outputs, &format!("hidden_states_{i}"));
        let diff = max_abs_diff(s.clone(), &reference);
        assert!(diff <= 1e-4, "hidden state {i}: max abs diff {diff}");
    }
    let (reference, _) = read_f32(&outputs, "logits");
    let diff = max_abs_diff(model.forward(pixels), &reference);
    assert!(diff <= 1e-4, "logits: max abs diff {diff}");
}

#[test]
fn missing_extra_and_misshaped_keys_are_named() {
    let src = dir("classify_tiny");
    let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .filter(|(k, _)| k != "videomae.encoder.layer.1.attention.attention.v_bias")
        .map(|(k, v)| (k, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    owned.push((
        "extra.weight".into(),
        safetensors::Dtype::F32,
        vec![1],
        vec![0; 4],
    ));
    for t in owned.iter_mut().filter(|t| t.0 == "classifier.bias") {
        t.2 = vec![1, 5];
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(k, d, s, b)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("config.json"), tmp.path().join("config.json")).unwrap();
    safetensors::serialize_to_file(views, None, &tmp.path().join("model.safetensors")).unwrap();
    let err = load_hf_classifier::<B>(tmp.path(), &Default::default()).unwrap_err();
    match &err {
        CheckpointError::Keys {
            missing,
            unexpected,
            mismatched,
        } => {
            assert_eq!(
                missing,
                &["videomae.encoder.layer.1.attention.attention.v_bias"]
            );
            assert_eq!(unexpected, &["extra.weight"]);
            assert_eq!(
                mismatched,
                &[("classifier.bias".to_owned(), vec![5], vec![1, 5])]
            );
        }
        e => panic!("unexpected error {e}"),
    }
    assert!(err.to_string().contains("v_bias"));
}

#[test]
fn constructed_models_have_the_published_parameter_counts() {
    use burn::module::Module;
    use videomae::VideoMaeConfig;
    use videomae::model::VideoMaeClassifier;
    let device = Default::default();
    for (labels, expected) in [(400, 86_534_800), (101, 86_304_869)] {
        let config = VideoMaeConfig::base().with_labels(labels);
        let model = VideoMaeClassifier::<B>::init(&config, &device);
        assert_eq!(model.num_params(), expected);
        assert_eq!(config.num_parameters_classifier(), expected);
    }
}
