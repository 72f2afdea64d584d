//! Hostile and broken input at videomae's public boundary (issue 10):
//! shapes that do not fit the model, NaN and infinity, configs that would
//! allocate without bound, damaged safetensors files, file modes. The
//! `videomae_forward` example's side is `forward_cli_hostile.rs`.
//!
//! Byte-level fuzzing of the safetensors readers runs `PROPTEST_CASES`
//! cases (64 by default); a longer run:
//! `PROPTEST_CASES=100000 cargo test -p videomae --test api_hostile fuzz`.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use proptest::prelude::*;
use safetensors::Dtype;
use videomae::VideoMaeConfig;
use videomae::checkpoint::{CheckpointError, LoadedModel, load_hf, safetensors_shapes, save_hf};
use videomae::input::{InputError, check_finite};
use videomae::io::{parse_inputs, write_safetensors};
use videomae::model::VideoMaeClassifier;
use videomae::pretrain::{PretrainMasks, VideoMaePretraining};

mod common;
use common::{Counting, allocated_by, cases, fixture, mutate};
#[cfg(unix)]
use common::{mode, new_file_mode};

type B = Flex;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A tiny config: 4 frames of 32 x 32, 8 tokens.
fn tiny() -> VideoMaeConfig {
    let text = std::fs::read_to_string(fixture("classify_tiny/config.json")).unwrap();
    VideoMaeConfig::from_hf_json(&text).unwrap()
}

fn zeros(shape: [usize; 5]) -> Tensor<B, 5> {
    Tensor::zeros(shape, &Default::default())
}

#[test]
fn classifier_rejects_pixels_that_do_not_fit() {
    let model = VideoMaeClassifier::<B>::init(&tiny(), &Default::default());
    // Batch 0 used to crash inside the matrix product (exit 139).
    assert_eq!(
        model.try_forward(zeros([0, 4, 3, 32, 32])).unwrap_err(),
        InputError::EmptyBatch
    );
    for bad in [
        [1, 2, 3, 32, 32],  // frames
        [1, 4, 1, 32, 32],  // channels
        [1, 4, 3, 64, 64],  // size
        [1, 4, 3, 32, 64],  // not square
        [1, 8, 3, 16, 32],  // same count of values, other layout
        [1, 16, 3, 16, 16], // same token count (8), other clip size
    ] {
        let err = model.try_forward(zeros(bad)).unwrap_err();
        assert!(
            matches!(err, InputError::PixelShape { found, frames: 4, channels: 3, size: 32 } if found == bad),
            "{bad:?}: {err}"
        );
    }
    let logits = model.try_forward(zeros([2, 4, 3, 32, 32])).unwrap();
    assert_eq!(logits.dims(), [2, 5]);
    // The panicking entry point says why, not a Burn reshape message.
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        model.forward(zeros([1, 2, 3, 32, 32]))
    }))
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("this model takes (batch, 4, 3, 32, 32)"),
        "{message}"
    );
}

#[test]
fn pretraining_rejects_masks_for_another_batch_or_size() {
    let config = tiny();
    let model = VideoMaePretraining::<B>::init(&config, &Default::default());
    let mask = |n: usize| (0..n).map(|i| i % 2 == 0).collect::<Vec<bool>>();
    let two = PretrainMasks::dual(&[mask(8), mask(8)], None).unwrap();
    let err = model
        .try_forward(zeros([1, 4, 3, 32, 32]), &two)
        .unwrap_err();
    assert_eq!(err, InputError::MaskBatch { found: 2, batch: 1 });
    let long = PretrainMasks::dual(&[mask(16)], None).unwrap();
    let err = model
        .try_forward(zeros([1, 4, 3, 32, 32]), &long)
        .unwrap_err();
    assert_eq!(
        err,
        InputError::MaskTokens {
            found: 16,
            tokens: 8
        }
    );
    let err = model
        .try_forward(zeros([0, 4, 3, 32, 32]), &two)
        .unwrap_err();
    assert_eq!(err, InputError::EmptyBatch);
    let one = PretrainMasks::dual(&[mask(8)], None).unwrap();
    assert!(model.try_forward(zeros([1, 4, 3, 32, 32]), &one).is_ok());
    // One channel: the model builds, its target needs RGB.
    let grey = VideoMaeConfig {
        num_channels: 1,
        ..config
    };
    assert_eq!(
        grey.validate_pretraining().unwrap_err().0,
        "num_channels 1: pretraining needs 3 (RGB, ImageNet statistics)"
    );
    let model = VideoMaePretraining::<B>::init(&grey, &Default::default());
    let err = model
        .try_forward(zeros([1, 4, 1, 32, 32]), &one)
        .unwrap_err();
    assert_eq!(err, InputError::Channels(1));
}

#[test]
fn non_finite_values_are_counted_and_named() {
    let device = Default::default();
    let t = Tensor::<B, 2>::from_data(
        TensorData::new(
            vec![1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, 2.0],
            [2, 3],
        ),
        &device,
    );
    let e = check_finite("logits", &t).unwrap_err();
    assert_eq!((e.name.as_str(), e.count, e.total), ("logits", 3, 6));
    assert_eq!(
        e.to_string(),
        "logits: 3 of 6 values are not finite (NaN or infinite)"
    );
    assert!(check_finite("loss", &Tensor::<B, 1>::ones([4], &device)).is_ok());
}

#[test]
fn config_fields_out_of_range_are_rejected() {
    let err = |json: &str| VideoMaeConfig::from_hf_json(json).unwrap_err().0;
    assert!(err(r#"{"num_hidden_layers": 100000}"#).contains("num_hidden_layers 100000"));
    assert!(err(r#"{"decoder_num_hidden_layers": 5000}"#).contains("decoder_num_hidden_layers"));
    assert!(err(r#"{"hidden_size": 131072, "num_attention_heads": 1}"#).contains("hidden_size"));
    assert!(err(r#"{"layer_norm_eps": 0.0}"#).contains("layer_norm_eps"));
    assert!(err(r#"{"layer_norm_eps": -1e-6}"#).contains("layer_norm_eps"));
    assert!(err(r#"{"hidden_dropout_prob": 1.0}"#).contains("hidden_dropout_prob"));
    assert!(err(r#"{"drop_path_rate": -0.1}"#).contains("drop_path_rate"));
    assert!(err(r#"{"initializer_range": -1}"#).contains("initializer_range"));
    // 8192 pixels with 1-pixel patches: a position table of 10^12 values.
    assert!(err(r#"{"image_size": 8192, "patch_size": 1}"#).contains("position values"));
    // A wrong type names its field.
    assert!(err(r#"{"image_size": 224, "num_frames": -3}"#).contains("\"num_frames\""));
    // NaN is not JSON, but a Rust caller can build it.
    let nan = VideoMaeConfig {
        fc_norm_eps: f64::NAN,
        ..VideoMaeConfig::base()
    };
    assert!(nan.validate().unwrap_err().0.contains("fc_norm_eps"));
    for preset in [VideoMaeConfig::giant(), VideoMaeConfig::huge()] {
        preset.validate_pretraining().unwrap();
    }
}

#[test]
fn key_errors_stay_short_and_keep_every_key() {
    let missing: Vec<String> = (0..100_000)
        .map(|i| format!("videomae.encoder.layer.{i}.output.dense.weight"))
        .collect();
    let err = CheckpointError::Keys {
        missing: missing.clone(),
        unexpected: vec!["x".repeat(10_000)],
        mismatched: vec![("classifier.bias".into(), vec![5], vec![1, 5])],
    };
    let text = err.to_string();
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert!(text.contains("missing 100000 (videomae.encoder.layer.0.output.dense.weight,"));
    assert!(text.contains(", ...); unexpected 1 (xxx"));
    assert!(text.contains("mis-shaped 1 (classifier.bias: expected [5], found [1, 5])"));
    let CheckpointError::Keys { missing: kept, .. } = err else {
        unreachable!()
    };
    assert_eq!(kept, missing);
}

/// A copy of a fixture folder, with `config.json` edited by `edit`.
fn folder_with_config(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture(name).join("model.safetensors"),
        tmp.path().join("model.safetensors"),
    )
    .unwrap();
    let text = std::fs::read_to_string(fixture(name).join("config.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut json);
    std::fs::write(tmp.path().join("config.json"), json.to_string()).unwrap();
    tmp
}

#[test]
fn a_config_that_does_not_fit_the_weights_fails_before_building() {
    // A wrong hidden_size used to build the model before the weights were
    // compared: reading a parameter's shape materialises it, so this config
    // allocated over 1 GB (tens of GB at hidden_size 16384); now
    // the header's shapes are compared first.
    let tmp = folder_with_config("classify_tiny", |j| {
        j["hidden_size"] = 4096.into();
        j["intermediate_size"] = 16384.into();
    });
    let (result, bytes) = allocated_by(|| load_hf::<B>(tmp.path(), None, &Default::default()));
    let Err(CheckpointError::Keys { mismatched, .. }) = result else {
        panic!("expected a key error");
    };
    assert!(
        mismatched.iter().any(|(k, want, got)| {
            k == "videomae.embeddings.patch_embeddings.projection.weight"
                && want == &vec![4096, 3, 2, 16, 16]
                && got == &vec![32, 3, 2, 16, 16]
        }),
        "{mismatched:?}"
    );
    assert!(bytes < 16 << 20, "{bytes} bytes allocated");
}

#[test]
fn saving_with_a_config_of_another_size_writes_nothing() {
    let model = VideoMaeClassifier::<B>::init(&tiny(), &Default::default());
    let other = VideoMaeConfig {
        num_hidden_layers: 3,
        ..tiny()
    };
    let tmp = tempfile::tempdir().unwrap();
    let err = save_hf(
        &LoadedModel::Classifier(Box::new(model)),
        &other,
        tmp.path(),
    )
    .unwrap_err();
    let CheckpointError::Keys { unexpected, .. } = &err else {
        panic!("{err}");
    };
    assert!(unexpected.is_empty());
    // A block is 15 tensors: q, k, v, their 2 biases, 4 norm tensors and
    // 3 linear layers of weight and bias.
    assert!(
        err.to_string()
            .contains("missing 15 (videomae.encoder.layer.2."),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn unclear_file_system_messages_are_replaced() {
    let empty = tempfile::tempdir().unwrap();
    let err = load_hf::<B>(empty.path(), None, &Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("no config.json or model.safetensors in this folder"),
        "{err}"
    );
    let pth = empty.path().join("model.pth");
    std::fs::copy(fixture("classify_tiny/model.pth"), &pth).unwrap();
    let err = videomae::checkpoint::load::<B>(&pth, None, &Default::default()).unwrap_err();
    assert!(
        err.to_string().contains("no config.json beside it"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn written_files_get_the_mode_of_a_new_file() {
    let tmp = tempfile::tempdir().unwrap();
    let want = new_file_mode(tmp.path());
    let out = tmp.path().join("out.safetensors");
    write_safetensors(&out, &[("a".into(), Dtype::F32, vec![1], vec![0; 4])]).unwrap();
    assert_eq!(mode(&out), want);
    let model = VideoMaeClassifier::<B>::init(&tiny(), &Default::default());
    save_hf(
        &LoadedModel::Classifier(Box::new(model)),
        &tiny(),
        tmp.path(),
    )
    .unwrap();
    assert_eq!(mode(&tmp.path().join("model.safetensors")), want);
    assert_eq!(mode(&tmp.path().join("config.json")), want);
    // No temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "config.json",
            "model.safetensors",
            "out.safetensors",
            "probe"
        ]
    );
}

#[test]
fn a_header_claiming_huge_tensors_allocates_nothing_of_that_size() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("model.safetensors");
    let header =
        br#"{"a":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 16]);
    std::fs::write(&path, &bytes).unwrap();
    let (result, allocated) = allocated_by(|| safetensors_shapes(&path));
    let err = result.unwrap_err().to_string();
    assert!(err.contains("declares 4000000000000 bytes"), "{err}");
    assert!(allocated < 1 << 20, "{allocated} bytes");
    // A header length past the end of the file.
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = safetensors_shapes(&path).unwrap_err().to_string();
    assert!(err.contains("exceeds the file"), "{err}");
}

/// [`mutate`], with a fourth kind that writes `len` over the safetensors
/// header length.
fn damage(valid: &[u8], kind: u8, at: usize, byte: u8, len: u64, splice: &[u8]) -> Vec<u8> {
    if kind % 4 == 3 {
        let mut b = valid.to_vec();
        b[..8].copy_from_slice(&len.to_le_bytes());
        return b;
    }
    mutate(valid, kind, at, byte, splice)
}

proptest! {
    #![proptest_config(cases())]

    /// The input reader of `videomae_forward` on damaged and arbitrary
    /// bytes: a typed error or a valid input, no panic, and no allocation
    /// beyond a small multiple of the file.
    #[test]
    fn fuzz_input_reader(kind in 0u8..5, at in any::<usize>(), byte in any::<u8>(),
                         len in any::<u64>(), splice in prop::collection::vec(any::<u8>(), 0..64)) {
        let valid = std::fs::read(fixture("pretrain_tiny/inputs.safetensors")).unwrap();
        let bytes = if kind == 4 { splice.clone() } else { damage(&valid, kind, at, byte, len, &splice) };
        let (result, allocated) = allocated_by(|| parse_inputs(&bytes));
        prop_assert!(allocated <= 4 * bytes.len() + (1 << 20), "{} bytes", allocated);
        if let Ok(inputs) = result {
            let [b, t, c, h, w] = inputs.shape;
            prop_assert_eq!(inputs.pixel_values.len(), b * t * c * h * w);
            for rows in [&inputs.bool_masked_pos, &inputs.decoder_mask].into_iter().flatten() {
                prop_assert_eq!(rows.len(), b);
            }
        }
    }

    /// The config reader on damaged and arbitrary text: a typed error or
    /// a config that validates, no panic.
    #[test]
    fn fuzz_config_reader(kind in 0u8..4, at in any::<usize>(), byte in any::<u8>(),
                          splice in prop::collection::vec(any::<u8>(), 0..32)) {
        let valid = std::fs::read(fixture("classify_tiny/config.json")).unwrap();
        let bytes = match kind {
            3 => splice.clone(),
            // The header-length mutation means nothing for JSON.
            k => mutate(&valid, k % 3, at, byte, &splice),
        };
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(config) = VideoMaeConfig::from_hf_json(&text) {
            prop_assert!(config.validate().is_ok());
        }
    }

    /// The checkpoint loader on a damaged `model.safetensors`: a typed
    /// error or a model, no panic, bounded allocation.
    #[test]
    fn fuzz_checkpoint_reader(kind in 0u8..5, at in any::<usize>(), byte in any::<u8>(),
                              len in any::<u64>(), splice in prop::collection::vec(any::<u8>(), 0..64)) {
        let valid = std::fs::read(fixture("classify_tiny/model.safetensors")).unwrap();
        let bytes = if kind == 4 { splice.clone() } else { damage(&valid, kind, at, byte, len, &splice) };
        let tmp = tempfile::tempdir().unwrap();
        std::fs::copy(fixture("classify_tiny/config.json"), tmp.path().join("config.json")).unwrap();
        std::fs::write(tmp.path().join("model.safetensors"), &bytes).unwrap();
        let (result, allocated) =
            allocated_by(|| load_hf::<B>(tmp.path(), None, &Default::default()).map(|_| ()));
        prop_assert!(allocated <= 16 * valid.len() + (8 << 20), "{} bytes", allocated);
        if let Err(e) = result {
            prop_assert!(e.to_string().len() < 2000);
        }
    }
}
