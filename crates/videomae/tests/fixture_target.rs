//! The normalised-pixel target and masked MSE against Hugging Face's
//! `VideoMAEForPreTraining` (norm_pix_loss=True): with the fixture's own
//! logits, our target must give the fixture's loss.

use std::path::Path;

mod common;

use common::read_f32;
use safetensors::SafeTensors;
use videomae::VideoMaeConfig;
use videomae::target::{masked_mse, pixel_target};

#[test]
fn target_and_loss_match_hugging_face() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pretrain_tiny");
    let config =
        VideoMaeConfig::from_hf_json(&std::fs::read_to_string(dir.join("config.json")).unwrap())
            .unwrap();
    let inputs = std::fs::read(dir.join("inputs.safetensors")).unwrap();
    let inputs = SafeTensors::deserialize(&inputs).unwrap();
    let outputs = std::fs::read(dir.join("outputs.safetensors")).unwrap();
    let outputs = SafeTensors::deserialize(&outputs).unwrap();

    let (pixels, shape) = read_f32(&inputs, "pixel_values");
    assert_eq!(shape, [2, 4, 3, 32, 32]);
    let mask = inputs.tensor("bool_masked_pos").unwrap();
    let tokens = config.num_tokens();
    let positions: Vec<Vec<usize>> = mask
        .data()
        .chunks(tokens)
        .map(|m| (0..tokens).filter(|&i| m[i] != 0).collect())
        .collect();
    let (logits, lshape) = read_f32(&outputs, "logits");
    assert_eq!(lshape, [2, positions[0].len(), config.patch_values()]);
    let (loss, _) = read_f32(&outputs, "loss");

    let target = pixel_target(&pixels, 2, &config);
    let ours = masked_mse(&logits, &target, &positions, tokens);
    assert!(
        (ours - loss[0] as f64).abs() <= 1e-4,
        "ours {ours} vs HF {}",
        loss[0]
    );

    // The check can fail: another target (un-normalised pixels) misses it.
    let raw = pixel_target(
        &pixels,
        2,
        &VideoMaeConfig {
            norm_pix_loss: false,
            ..config
        },
    );
    assert!((masked_mse(&logits, &raw, &positions, tokens) - loss[0] as f64).abs() > 1e-2);
}
