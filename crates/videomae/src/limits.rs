//! Bounds on a [`VideoMaeConfig`], far above the published sizes (ViT-g:
//! width 1408, MLP 6144, 40 blocks, 2048 tokens at 16 frames of 224): a
//! hostile or mistyped `config.json` must not make a loader allocate without
//! bound (the model, or the position tables built from the config alone),
//! nor produce NaN from a zero epsilon or a drop rate of 1.

use crate::config::{ConfigError, VideoMaeConfig};

/// Largest accepted input side in pixels.
pub const MAX_IMAGE_SIZE: usize = 8192;
/// Largest accepted number of input channels.
pub const MAX_CHANNELS: usize = 64;
/// Largest accepted number of frames per clip.
pub const MAX_FRAMES: usize = 4096;
/// Largest accepted width (hidden, MLP, decoder sizes); ViT-g's MLP is 6144.
pub const MAX_WIDTH: usize = 65_536;
/// Largest accepted depth (encoder or decoder); ViT-g has 40 blocks.
pub const MAX_LAYERS: usize = 1024;
/// Largest accepted number of classes.
pub const MAX_LABELS: usize = 1_000_000;
/// Largest accepted sinusoid table, tokens x width values (512 MiB of
/// f32); ViT-g at 16 frames of 224 pixels needs 2.9 million.
pub const MAX_POSITION_VALUES: usize = 1 << 27;

/// Upper bounds far above ViT-g (and the rates and epsilons in their
/// ranges): a hostile or mistyped `config.json` must not make the
/// loader allocate without bound (model, position tables) or produce
/// NaN from a zero epsilon or a drop rate of 1.
pub(crate) fn check(config: &VideoMaeConfig) -> Result<(), ConfigError> {
    let fail = |m: String| Err(ConfigError(m));
    for (name, v, max) in [
        ("image_size", config.image_size, MAX_IMAGE_SIZE),
        ("num_channels", config.num_channels, MAX_CHANNELS),
        ("num_frames", config.num_frames, MAX_FRAMES),
        ("hidden_size", config.hidden_size, MAX_WIDTH),
        ("intermediate_size", config.intermediate_size, MAX_WIDTH),
        ("decoder_hidden_size", config.decoder_hidden_size, MAX_WIDTH),
        (
            "decoder_intermediate_size",
            config.decoder_intermediate_size,
            MAX_WIDTH,
        ),
        ("num_hidden_layers", config.num_hidden_layers, MAX_LAYERS),
        (
            "decoder_num_hidden_layers",
            config.decoder_num_hidden_layers,
            MAX_LAYERS,
        ),
        ("num_labels", config.num_labels, MAX_LABELS),
    ] {
        if v > max {
            return fail(format!("{name} {v} is above the limit {max}"));
        }
    }
    // The fixed sinusoid tables (tokens x width) are built from the
    // config alone, not from the weights.
    let table = config.num_tokens() * config.hidden_size.max(config.decoder_hidden_size);
    if table > MAX_POSITION_VALUES {
        return fail(format!(
            "{} tokens x width {} = {table} position values, above the limit {MAX_POSITION_VALUES}",
            config.num_tokens(),
            config.hidden_size.max(config.decoder_hidden_size)
        ));
    }
    for (name, eps) in [
        ("layer_norm_eps", config.layer_norm_eps),
        ("fc_norm_eps", config.fc_norm_eps),
    ] {
        if !(eps > 0.0 && eps <= 1.0) {
            return fail(format!("{name} {eps} is not in (0, 1]"));
        }
    }
    for (name, p) in [
        ("hidden_dropout_prob", config.hidden_dropout_prob),
        (
            "attention_probs_dropout_prob",
            config.attention_probs_dropout_prob,
        ),
        ("drop_path_rate", config.drop_path_rate),
        ("head_dropout", config.head_dropout),
    ] {
        if !(0.0..1.0).contains(&p) {
            return fail(format!("{name} {p} is not in [0, 1)"));
        }
    }
    if !(config.initializer_range.is_finite() && config.initializer_range >= 0.0) {
        return fail(format!(
            "initializer_range {} is not a finite value >= 0",
            config.initializer_range
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits must never refuse a real model: every published preset
    /// (ViT-S to ViT-g) as a classifier and a pretraining model, at the
    /// clip sizes used for pretraining and fine-tuning (16 to 64 frames,
    /// 224 to 448 pixels and beyond).
    #[test]
    fn published_presets_at_fine_tuning_sizes_pass() {
        for (name, preset) in [
            ("small", VideoMaeConfig::small()),
            ("base", VideoMaeConfig::base()),
            ("large", VideoMaeConfig::large()),
            ("huge", VideoMaeConfig::huge()),
            ("giant", VideoMaeConfig::giant()),
        ] {
            let sides: &[usize] = if preset.patch_size == 14 {
                &[224, 336, 448, 518]
            } else {
                &[224, 320, 384, 448, 512]
            };
            for &image_size in sides {
                for num_frames in [8, 16, 32, 64] {
                    let c = VideoMaeConfig {
                        image_size,
                        num_frames,
                        ..preset.clone()
                    }
                    .with_labels(710);
                    let what = format!("{name} {num_frames}x{image_size}");
                    c.validate().unwrap_or_else(|e| panic!("{what}: {e}"));
                    c.validate_pretraining()
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                }
            }
        }
    }

    #[test]
    fn a_table_just_over_the_limit_is_refused_by_name() {
        // 8192 / 16 = 512 tokens a side, 2 slices: 524,288 tokens; at
        // width 512 that is 2^28 values, twice the limit.
        let c = VideoMaeConfig {
            image_size: 8192,
            num_frames: 4,
            hidden_size: 512,
            num_attention_heads: 8,
            ..VideoMaeConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("524288 tokens x width 512 = 268435456 position values"),
            "{e}"
        );
    }
}
