//! The Hugging Face fixtures (tools/gen_videomae_fixtures.py) checked
//! against the config reader and the analytic parameter counts: the number of
//! values stored in each `model.safetensors` is an independent count.

use std::path::{Path, PathBuf};

use videomae::VideoMaeConfig;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn stored_values(dir: &Path) -> usize {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    tensors
        .tensors()
        .iter()
        .map(|(_, t)| t.shape().iter().product::<usize>())
        .sum()
}

fn config(dir: &Path) -> VideoMaeConfig {
    VideoMaeConfig::from_hf_json(&std::fs::read_to_string(dir.join("config.json")).unwrap())
        .unwrap()
}

#[test]
fn pretraining_fixture_matches_config_and_count() {
    let dir = fixture("pretrain_tiny");
    let c = config(&dir);
    assert_eq!(
        (c.hidden_size, c.decoder_hidden_size, c.num_tokens()),
        (32, 16, 8)
    );
    assert!(c.qkv_bias && !c.use_mean_pooling); // `qv_bias` in transformers 5
    assert_eq!(c.layer_norm_eps, 1e-12);
    assert_eq!(c.num_parameters_pretraining(), stored_values(&dir));
}

#[test]
fn classification_fixture_matches_config_and_count() {
    let dir = fixture("classify_tiny");
    let c = config(&dir);
    assert_eq!((c.num_labels, c.layer_norm_eps), (5, 1e-6));
    assert_eq!(c.num_parameters_classifier(), stored_values(&dir));
}
