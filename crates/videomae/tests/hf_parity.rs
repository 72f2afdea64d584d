//! The Burn classifier against Hugging Face's VideoMAEForVideoClassification
//! on the committed fixture: every hidden state and the logits within 1e-4;
//! and strict loading.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
mod common;

use common::{max_abs_diff, read_f32};
use safetensors::SafeTensors;
use videomae::checkpoint::{CheckpointError, load_hf_classifier};

type B = Flex;

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn classifier_matches_hugging_face() {
    let (config, model) =
        load_hf_classifier::<B>(&dir("classify_tiny"), &Default::default()).unwrap();
    let outputs = std::fs::read(dir("classify_tiny").join("outputs.safetensors")).unwrap();
    let outputs = SafeTensors::deserialize(&outputs).unwrap();
    let states = model.encoder.hidden_states(classify_pixels());
    assert_eq!(states.len(), config.num_hidden_layers + 1);
    for (i, s) in states.iter().enumerate() {
        let (reference, _) = read_f32(&outputs, &format!("hidden_states_{i}"));
        let diff = max_abs_diff(s.clone(), &reference);
        assert!(diff <= 1e-4, "hidden state {i}: max abs diff {diff}");
    }
    assert_classifier_logits(&model);
}

/// The classification fixture's `pixel_values`.
fn classify_pixels() -> Tensor<B, 5> {
    let inputs = std::fs::read(dir("classify_tiny").join("inputs.safetensors")).unwrap();
    let inputs = SafeTensors::deserialize(&inputs).unwrap();
    let (pixels, shape) = read_f32(&inputs, "pixel_values");
    let shape: [usize; 5] = shape.try_into().unwrap();
    Tensor::from_data(TensorData::new(pixels, shape), &Default::default())
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

/// Logits of a loaded classifier on the fixture inputs, within 1e-4.
fn assert_classifier_logits(model: &videomae::model::VideoMaeClassifier<B>) {
    let outputs = std::fs::read(dir("classify_tiny").join("outputs.safetensors")).unwrap();
    let outputs = SafeTensors::deserialize(&outputs).unwrap();
    let (reference, _) = read_f32(&outputs, "logits");
    let diff = max_abs_diff(model.forward(classify_pixels()), &reference);
    assert!(diff <= 1e-4, "logits: max abs diff {diff}");
}

#[test]
fn original_pth_classifier_matches_hugging_face() {
    // The .pth holds the weights under "module" with "_orig_mod." and a
    // fused qkv; the config comes from the HF folder beside it.
    let path = dir("classify_tiny").join("model.pth");
    let (_, model) = videomae::checkpoint::load::<B>(&path, None, &Default::default()).unwrap();
    let videomae::checkpoint::LoadedModel::Classifier(model) = model else {
        panic!("no decoder keys: a classifier");
    };
    assert!(model.uses_mean_pooling(), "fc_norm in the file");
    assert_classifier_logits(&model);
}

#[test]
fn original_pth_with_bad_keys_names_them_in_its_own_layout() {
    // A config with one block and one class more than the file: the
    // missing block and the mis-shaped head are named as the file names
    // them, not in Hugging Face's names.
    let path = dir("classify_tiny").join("model.pth");
    let config_text = std::fs::read_to_string(dir("classify_tiny").join("config.json")).unwrap();
    let mut config = videomae::VideoMaeConfig::from_hf_json(&config_text).unwrap();
    config.num_hidden_layers += 1;
    config.num_labels += 1;
    let err =
        videomae::checkpoint::load_original::<B>(&path, &config, &Default::default()).unwrap_err();
    let CheckpointError::Keys {
        missing,
        unexpected,
        mismatched,
    } = &err
    else {
        panic!("unexpected error {err}");
    };
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert!(
        missing.contains(&"blocks.2.attn.qkv.weight".to_owned()),
        "{missing:?}"
    );
    assert!(
        missing.contains(&"blocks.2.attn.v_bias".to_owned()),
        "{missing:?}"
    );
    assert!(
        missing.contains(&"blocks.2.mlp.fc1.weight".to_owned()),
        "{missing:?}"
    );
    assert_eq!(
        missing.iter().filter(|k| k.ends_with("qkv.weight")).count(),
        1,
        "q, k and v of one block are one key in the file"
    );
    assert!(
        mismatched.iter().any(|(k, want, got)| k == "head.weight"
            && want == &vec![6, 32]
            && got == &vec![5, 32]),
        "{mismatched:?}"
    );
}

#[test]
fn saved_classifier_loads_back_identically() {
    let device = Default::default();
    let (config, model) = load_hf_classifier::<B>(&dir("classify_tiny"), &device).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let model = videomae::checkpoint::LoadedModel::Classifier(Box::new(model));
    videomae::checkpoint::save_hf(&model, &config, tmp.path()).unwrap();
    let (again, reloaded) = load_hf_classifier::<B>(tmp.path(), &device).unwrap();
    assert_eq!(again, config);
    assert_classifier_logits(&reloaded);
}
