//! Runs a VideoMAE checkpoint on a batch of clips and writes its outputs:
//! the tool for checking a conversion against PyTorch, and tubelet's parity
//! harness.
//!
//! ```text
//! cargo run --release -p videomae --example videomae_forward -- \
//!     --checkpoint <HF folder | model.safetensors | model.pth> \
//!     --input in.safetensors --output out.safetensors [--compare ref.safetensors]
//! ```
//!
//! `in.safetensors` holds `pixel_values` f32 `(B, T, C, H, W)` (Hugging
//! Face's layout, ImageNet-normalised) and, for pretraining checkpoints,
//! `bool_masked_pos` u8 `(B, N)` (1 = hidden from the encoder). Pretraining
//! writes `logits` `(B, masked, 3*t*p^2)` and `loss` `[1]` exactly as
//! transformers' `VideoMAEForPreTraining` (norm_pix_loss) computes them for
//! that mask; with an extra `decoder_mask` u8 `(B, N)` (1 = not
//! reconstructed) it decodes as VideoMAE V2 and also writes `valid` u8
//! `(B, M)`, since clips may reconstruct different numbers of tokens.
//! Classifiers write `logits` `(B, classes)`.
//!
//! `.pth` files carry no config: the `config.json` beside them is used,
//! else `--config`, else one inferred from the weights and the input size.
//! `--compare` prints the max abs difference of every output present in a
//! reference file and fails above `--tolerance`. Built with `--features
//! cuda`, `--device cuda` runs on the GPU.
//!
//! Bad input is an error, never a crash or a silent NaN: pixels or masks
//! whose shapes do not fit the config (an empty batch included), NaN or
//! infinite pixels, and NaN or infinite outputs (named, with their count)
//! all exit non-zero. `--allow-non-finite` turns the last two into warnings
//! and writes the raw outputs. The output is written atomically, with the
//! mode a new file gets (0644 under the usual umask).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use safetensors::{Dtype, SafeTensors};
use videomae::VideoMaeConfig;
use videomae::burn::tensor::backend::Backend;
use videomae::burn::tensor::{Tensor, TensorData};
use videomae::checkpoint::{LoadedModel, infer_original_config, load};
use videomae::input::check_finite_values;
use videomae::io::{Inputs, f32_tensor, read_file, read_inputs, write_safetensors};
use videomae::pretrain::PretrainMasks;

#[derive(Parser)]
#[command(about = "Run a VideoMAE checkpoint on clips and write its outputs")]
struct Args {
    /// Hugging Face folder (config.json + model.safetensors) or an original
    /// VideoMAE / VideoMAE V2 .pth.
    #[arg(long)]
    checkpoint: PathBuf,
    /// safetensors with pixel_values (and bool_masked_pos, decoder_mask).
    #[arg(long)]
    input: PathBuf,
    /// Where to write logits (and loss, valid).
    #[arg(long)]
    output: PathBuf,
    /// A config.json for checkpoints without one.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Reference outputs to compare with.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Largest accepted max abs difference with --compare (finite, >= 0).
    #[arg(long, default_value_t = 1e-4, value_parser = parse_tolerance)]
    tolerance: f32,
    /// cpu, or cuda when built with --features cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Run the forward pass this many times (>= 1) and print the mean time.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    repeat: u64,
    /// Run on NaN or infinite pixels and write NaN or infinite outputs,
    /// with a warning, instead of failing.
    #[arg(long)]
    allow_non_finite: bool,
}

fn parse_tolerance(s: &str) -> Result<f32, String> {
    let t: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if t.is_finite() && t >= 0.0 {
        Ok(t)
    } else {
        Err(format!("{s} is not a finite number >= 0"))
    }
}

/// `(name, dtype, shape, little-endian bytes)`.
type Outputs = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;

fn main() {
    let args = Args::parse();
    let result = match args.device.as_str() {
        "cpu" => run::<videomae::burn::backend::Flex>(&args, &Default::default()),
        #[cfg(feature = "cuda")]
        "cuda" => run::<videomae::burn::backend::Cuda>(&args, &Default::default()),
        other => Err(format!(
            "unknown device {other} (cuda needs --features cuda)"
        )),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// An error, or with `--allow-non-finite` a warning.
fn non_finite(args: &Args, message: String) -> Result<(), String> {
    if args.allow_non_finite {
        eprintln!("warning: {message}");
        Ok(())
    } else {
        Err(format!("{message} (--allow-non-finite writes them anyway)"))
    }
}

/// Refuses an output path that names one of the files read: writing it
/// would destroy an input.
fn check_output(args: &Args) -> Result<(), String> {
    let Ok(out) = std::fs::canonicalize(&args.output) else {
        return Ok(()); // does not exist yet
    };
    let ckpt = &args.checkpoint;
    let mut inputs = vec![args.input.clone(), ckpt.clone()];
    if ckpt.is_dir() {
        inputs.push(ckpt.join("model.safetensors"));
        inputs.push(ckpt.join("config.json"));
    } else {
        inputs.push(ckpt.with_file_name("config.json"));
    }
    inputs.extend(args.config.iter().chain(&args.compare).cloned());
    if inputs
        .iter()
        .any(|p| std::fs::canonicalize(p).is_ok_and(|p| p == out))
    {
        return Err(format!(
            "{}: --output names a file this run reads; choose another path",
            args.output.display()
        ));
    }
    Ok(())
}

fn run<B: Backend>(args: &Args, device: &B::Device) -> Result<(), String> {
    check_output(args)?;
    let input = read_inputs(&args.input).map_err(|e| e.to_string())?;
    if let Err(e) = input.check_finite() {
        non_finite(args, format!("{}: {e}", args.input.display()))?;
    }
    let shape = input.shape;
    let config = read_config(args, shape)?;
    eprintln!(
        "checkpoint {}: hidden {} x {} layers, {} heads, patch {}, tubelet {}, {} frames at {}",
        args.checkpoint.display(),
        config.hidden_size,
        config.num_hidden_layers,
        config.num_attention_heads,
        config.patch_size,
        config.tubelet_size,
        config.num_frames,
        config.image_size
    );
    let (_, model) =
        load::<B>(&args.checkpoint, Some(config), device).map_err(|e| e.to_string())?;
    // Checked before a tensor of that shape is made (an empty batch may
    // carry any other dimensions, and huge ones overflow Burn's strides).
    let encoder = match &model {
        LoadedModel::Classifier(m) => &m.encoder,
        LoadedModel::Pretraining(m) => &m.encoder,
    };
    encoder.check_pixels(shape).map_err(|e| e.to_string())?;
    let mut outputs: Outputs = Vec::new();
    let start = Instant::now();
    for _ in 0..args.repeat {
        let pixels =
            Tensor::<B, 5>::from_data(TensorData::new(input.pixel_values.clone(), shape), device);
        outputs = forward(&model, pixels, &input)?;
    }
    eprintln!(
        "forward: {:.1} ms per batch of {} (mean of {})",
        start.elapsed().as_secs_f64() * 1e3 / args.repeat as f64,
        shape[0],
        args.repeat
    );
    for (name, dtype, _, bytes) in &outputs {
        if *dtype == Dtype::F32
            && let Err(e) = check_finite_values(name, &f32s(bytes))
        {
            non_finite(args, format!("output {e}"))?;
        }
    }
    write_safetensors(&args.output, &outputs).map_err(|e| e.to_string())?;
    if let Some(reference) = &args.compare {
        compare(&outputs, reference, args.tolerance)?;
    }
    Ok(())
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The config: `--config`, else the checkpoint's `config.json`, else (for
/// a `.pth` only) one inferred from its weights and the input size.
fn read_config(args: &Args, [_, frames, _, size, _]: [usize; 5]) -> Result<VideoMaeConfig, String> {
    let from_file = |p: &Path| -> Result<VideoMaeConfig, String> {
        let bytes = read_file(p, 64 << 20).map_err(|e| e.to_string())?;
        let text = std::str::from_utf8(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        VideoMaeConfig::from_hf_json(text).map_err(|e| format!("{}: {e}", p.display()))
    };
    if let Some(p) = &args.config {
        return from_file(p);
    }
    let ckpt = &args.checkpoint;
    if ckpt.is_dir() {
        let absent: Vec<&str> = ["config.json", "model.safetensors"]
            .into_iter()
            .filter(|f| !ckpt.join(f).exists())
            .collect();
        if !absent.is_empty() {
            return Err(format!(
                "{}: no {} in this folder (a Hugging Face checkpoint folder holds config.json \
                 and model.safetensors)",
                ckpt.display(),
                absent.join(" or ")
            ));
        }
        return from_file(&ckpt.join("config.json"));
    }
    if !ckpt.exists() {
        return Err(format!("{}: no such file or folder", ckpt.display()));
    }
    let beside = ckpt.with_file_name("config.json");
    if beside.exists() {
        return from_file(&beside);
    }
    let is_pth = ckpt
        .extension()
        .is_some_and(|e| e == "pth" || e == "pt" || e == "bin");
    if !is_pth {
        return Err(format!(
            "{}: no config.json beside it; pass --config",
            ckpt.display()
        ));
    }
    eprintln!("no config.json: inferring the config from the weights and the input size");
    infer_original_config(ckpt, frames, size).map_err(|e| e.to_string())
}

fn forward<B: Backend>(
    model: &LoadedModel<B>,
    pixels: Tensor<B, 5>,
    input: &Inputs,
) -> Result<Outputs, String> {
    let mut out = Vec::new();
    match model {
        LoadedModel::Classifier(m) => {
            let logits = m.try_forward(pixels).map_err(|e| e.to_string())?;
            out.push(f32_output("logits", logits));
        }
        LoadedModel::Pretraining(m) => {
            let encoder = input
                .bool_masked_pos
                .as_deref()
                .ok_or("a pretraining checkpoint needs bool_masked_pos in the input")?;
            let decoder = input.decoder_mask.as_deref();
            let masks = PretrainMasks::dual(encoder, decoder).map_err(|e| e.to_string())?;
            let o = m.try_forward(pixels, &masks).map_err(|e| e.to_string())?;
            out.push(f32_output("loss", m.loss(&o)));
            if decoder.is_some() {
                let valid = o.valid.clone();
                let dims = valid.dims().to_vec();
                let v: Vec<f32> = valid.into_data().convert::<f32>().to_vec().expect("f32");
                let bytes = v.iter().map(|&x| x as u8).collect();
                out.push(("valid".into(), Dtype::U8, dims, bytes));
            }
            out.push(f32_output("logits", o.logits()));
        }
    }
    Ok(out)
}

fn f32_output<B: Backend, const D: usize>(
    name: &str,
    t: Tensor<B, D>,
) -> (String, Dtype, Vec<usize>, Vec<u8>) {
    let dims = t.dims().to_vec();
    let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().expect("f32");
    (
        name.into(),
        Dtype::F32,
        dims,
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    )
}

fn compare(outputs: &Outputs, reference: &Path, tolerance: f32) -> Result<(), String> {
    let bytes = read_file(reference, u64::MAX).map_err(|e| e.to_string())?;
    let st =
        SafeTensors::deserialize(&bytes).map_err(|e| format!("{}: {e}", reference.display()))?;
    let mut worst = 0f32;
    let mut compared = 0;
    for (name, _, shape, data) in outputs.iter().filter(|o| o.1 == Dtype::F32) {
        let Ok((want, want_shape)) = f32_tensor(&st, name) else {
            continue;
        };
        if &want_shape != shape {
            return Err(format!("{name}: shape {shape:?}, reference {want_shape:?}"));
        }
        let diff = f32s(data)
            .iter()
            .zip(&want)
            // A NaN anywhere is a failure, not a value f32::max skips.
            .map(|(a, b)| {
                if (a - b).is_nan() {
                    f32::INFINITY
                } else {
                    (a - b).abs()
                }
            })
            .fold(0f32, f32::max);
        println!("{name}: max abs diff {diff:.3e}");
        worst = worst.max(diff);
        compared += 1;
    }
    if compared == 0 {
        return Err("the reference has none of the outputs".into());
    }
    if worst > tolerance {
        return Err(format!("max abs diff {worst:.3e} above {tolerance:.0e}"));
    }
    println!("within {tolerance:.0e}");
    Ok(())
}
