//! `load_encoder` on every checkpoint kind of the committed fixtures:
//! features against hand computations (a plain-Rust mean and LayerNorm over
//! transformers' or the encoder's hidden states), logits against
//! transformers, `.pth` and saved-then-reloaded checkpoints against HF
//! ones, and shapes that do not fit as typed errors.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use safetensors::SafeTensors;
use videomae::checkpoint::{load, load_encoder, load_hf_pretraining, save_hf};
use videomae::features::{Pooling, VideoEncoder};
use videomae::input::InputError;

mod common;
use common::{fixture, max_abs_diff, read_f32};

type B = Flex;

/// The classification fixture's `pixel_values`, `(2, 4, 3, 32, 32)` (the
/// pretraining fixture's model takes the same clip size).
fn pixels() -> Tensor<B, 5> {
    let bytes = std::fs::read(fixture("classify_tiny/inputs.safetensors")).unwrap();
    let (values, shape) = read_f32(&SafeTensors::deserialize(&bytes).unwrap(), "pixel_values");
    let shape: [usize; 5] = shape.try_into().unwrap();
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

/// A tensor of a fixture's safetensors file.
fn fixture_tensor(file: &str, name: &str) -> (Vec<f32>, Vec<usize>) {
    let bytes = std::fs::read(fixture(file)).unwrap();
    read_f32(&SafeTensors::deserialize(&bytes).unwrap(), name)
}

/// LayerNorm of one row, by hand.
fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<f32> {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    x.iter()
        .zip(gamma.iter().zip(beta))
        .map(|(&v, (&g, &b))| ((v as f64 - mean) / (var + eps).sqrt() * g as f64 + b as f64) as f32)
        .collect()
}

/// Mean over tokens of `(batch, tokens, d)` values, by hand.
fn mean_tokens(x: &[f32], [b, n, d]: [usize; 3]) -> Vec<f32> {
    (0..b)
        .flat_map(|i| {
            (0..d).map(move |k| (0..n).map(|t| x[(i * n + t) * d + k]).sum::<f32>() / n as f32)
        })
        .collect()
}

fn values(t: Tensor<B, 2>) -> Vec<f32> {
    t.into_data().to_vec().unwrap()
}

#[test]
fn hf_classifier_features_are_fc_norm_of_the_mean_and_head_gives_its_logits() {
    let (config, encoder) =
        load_encoder::<B>(&fixture("classify_tiny"), None, &Default::default()).unwrap();
    assert_eq!(encoder.pooling(), Pooling::MeanThenNorm);
    assert_eq!(encoder.num_labels(), Some(5));
    let features = encoder.forward_features(pixels()).unwrap();
    assert_eq!(features.dims(), [2, config.hidden_size]);
    // Truth: transformers' last hidden state, averaged, then fc_norm (eps
    // 1e-5, PyTorch's LayerNorm default that transformers keeps), by hand.
    let (last, shape) = fixture_tensor("classify_tiny/outputs.safetensors", "hidden_states_2");
    let mean = mean_tokens(&last, shape.try_into().unwrap());
    let (gamma, _) = fixture_tensor("classify_tiny/model.safetensors", "fc_norm.weight");
    let (beta, _) = fixture_tensor("classify_tiny/model.safetensors", "fc_norm.bias");
    let truth: Vec<f32> = mean
        .chunks(32)
        .flat_map(|row| layer_norm(row, &gamma, &beta, 1e-5))
        .collect();
    let diff = max_abs_diff(features.clone(), &truth);
    assert!(diff <= 1e-4, "features: max abs diff {diff}");
    let (logits, _) = fixture_tensor("classify_tiny/outputs.safetensors", "logits");
    let diff = max_abs_diff(encoder.forward_head(features).unwrap(), &logits);
    assert!(diff <= 1e-4, "logits: max abs diff {diff}");
}

#[test]
fn pth_classifier_gives_the_features_of_its_hf_folder() {
    let device = Default::default();
    let (_, hf) = load_encoder::<B>(&fixture("classify_tiny"), None, &device).unwrap();
    let (_, pth) = load_encoder::<B>(&fixture("classify_tiny/model.pth"), None, &device).unwrap();
    assert_eq!(pth.pooling(), Pooling::MeanThenNorm);
    let want = values(hf.forward_features(pixels()).unwrap());
    let diff = max_abs_diff(pth.forward_features(pixels()).unwrap(), &want);
    assert!(diff <= 1e-6, "pth vs HF features: max abs diff {diff}");
}

#[test]
fn pretraining_checkpoints_give_the_mean_of_normed_encoder_outputs() {
    let device = Default::default();
    // Truth: the pretraining model's own encoder on all tokens, then its
    // final norm (videomae.layernorm, eps 1e-12 from config.json) and the
    // mean, by hand.
    let (_, pretraining) = load_hf_pretraining::<B>(&fixture("pretrain_tiny"), &device).unwrap();
    let enc = &pretraining.encoder;
    let last = enc.forward_tokens(enc.embed(pixels()));
    let dims = last.dims();
    let last: Vec<f32> = last.into_data().to_vec().unwrap();
    let (gamma, _) = fixture_tensor(
        "pretrain_tiny/model.safetensors",
        "videomae.layernorm.weight",
    );
    let (beta, _) = fixture_tensor("pretrain_tiny/model.safetensors", "videomae.layernorm.bias");
    let normed: Vec<f32> = last
        .chunks(dims[2])
        .flat_map(|row| layer_norm(row, &gamma, &beta, 1e-12))
        .collect();
    let truth = mean_tokens(&normed, dims);
    for path in ["pretrain_tiny", "pretrain_tiny/model.pth"] {
        let (_, encoder) = load_encoder::<B>(&fixture(path), None, &device).unwrap();
        assert_eq!(encoder.pooling(), Pooling::NormThenMean, "{path}");
        assert!(encoder.norm.is_some(), "{path}: the encoder norm is kept");
        let features = encoder.forward_features(pixels()).unwrap();
        let diff = max_abs_diff(features.clone(), &truth);
        assert!(diff <= 1e-4, "{path}: max abs diff {diff}");
        assert_eq!(encoder.num_labels(), None);
        assert_eq!(
            encoder.forward_head(features).unwrap_err(),
            InputError::NoHead
        );
    }
}

#[test]
fn saved_then_reloaded_classifier_gives_the_same_features_and_logits() {
    let device = Default::default();
    let tmp = tempfile::tempdir().unwrap();
    let (config, model) = load::<B>(&fixture("classify_tiny"), None, &device).unwrap();
    save_hf(&model, &config, tmp.path()).unwrap();
    let (_, original) = load_encoder::<B>(&fixture("classify_tiny"), None, &device).unwrap();
    let (again, reloaded) = load_encoder::<B>(tmp.path(), None, &device).unwrap();
    assert_eq!(again, config);
    let want = original.forward_features(pixels()).unwrap();
    let got = reloaded.forward_features(pixels()).unwrap();
    assert_eq!(values(got.clone()), values(want.clone()));
    let (want, got) = (
        original.forward_head(want).unwrap(),
        reloaded.forward_head(got).unwrap(),
    );
    assert_eq!(values(got), values(want));
}

#[test]
fn shapes_that_do_not_fit_the_encoder_are_typed_errors() {
    let device = Default::default();
    let (_, encoder) = load_encoder::<B>(&fixture("classify_tiny"), None, &device).unwrap();
    let empty = Tensor::<B, 5>::zeros([0, 4, 3, 32, 32], &device);
    assert_eq!(
        encoder.forward_features(empty).unwrap_err(),
        InputError::EmptyBatch
    );
    let small = Tensor::<B, 5>::zeros([1, 4, 3, 16, 16], &device);
    assert!(matches!(
        encoder.forward_features(small).unwrap_err(),
        InputError::PixelShape {
            found: [1, 4, 3, 16, 16],
            size: 32,
            ..
        }
    ));
    let narrow = Tensor::<B, 2>::zeros([1, 31], &device);
    let err = encoder.forward_head(narrow).unwrap_err();
    assert_eq!(
        err,
        InputError::FeatureShape {
            found: [1, 31],
            width: 32
        }
    );
    assert_eq!(
        err.to_string(),
        "features have shape [1, 31], this head takes (batch >= 1, 32)"
    );
    let none = Tensor::<B, 2>::zeros([0, 32], &device);
    assert_eq!(
        encoder.forward_head(none).unwrap_err(),
        InputError::FeatureShape {
            found: [0, 32],
            width: 32
        }
    );
}

#[test]
fn pretraining_model_without_encoder_norm_averages_raw_outputs() {
    // Hugging Face pretraining checkpoints with use_mean_pooling: true
    // carry no encoder norm.
    let (_, mut pretraining) =
        load_hf_pretraining::<B>(&fixture("pretrain_tiny"), &Default::default()).unwrap();
    pretraining.encoder_norm = None;
    let enc = &pretraining.encoder;
    let last = enc.forward_tokens(enc.embed(pixels()));
    let dims = last.dims();
    let truth = mean_tokens(&last.into_data().to_vec().unwrap(), dims);
    let encoder = VideoEncoder::from(pretraining);
    assert!(encoder.norm.is_none());
    let diff = max_abs_diff(encoder.forward_features(pixels()).unwrap(), &truth);
    assert!(diff <= 1e-5, "max abs diff {diff}");
}
