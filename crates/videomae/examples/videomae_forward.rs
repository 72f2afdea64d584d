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

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use videomae::VideoMaeConfig;
use videomae::burn::tensor::backend::Backend;
use videomae::burn::tensor::{Tensor, TensorData};
use videomae::checkpoint::{LoadedModel, infer_original_config, load};
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
    /// Largest accepted max abs difference with --compare.
    #[arg(long, default_value_t = 1e-4)]
    tolerance: f32,
    /// cpu, or cuda when built with --features cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Run the forward pass this many times and print the mean time.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

type Outputs = Vec<(String, Vec<usize>, Vec<u8>)>;

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

fn run<B: Backend>(args: &Args, device: &B::Device) -> Result<(), String> {
    let bytes = std::fs::read(&args.input).map_err(|e| format!("{}: {e}", args.input.display()))?;
    let input =
        SafeTensors::deserialize(&bytes).map_err(|e| format!("{}: {e}", args.input.display()))?;
    let (pixels, shape) = f32_tensor(&input, "pixel_values")?;
    let shape: [usize; 5] = shape
        .try_into()
        .map_err(|s| format!("pixel_values must be (B, T, C, H, W), got {s:?}"))?;
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
    let pixels = Tensor::<B, 5>::from_data(TensorData::new(pixels, shape), device);
    let mut outputs: Outputs = Vec::new();
    let start = Instant::now();
    for _ in 0..args.repeat {
        outputs = forward(&model, pixels.clone(), &input)?;
    }
    eprintln!(
        "forward: {:.1} ms per batch of {} (mean of {})",
        start.elapsed().as_secs_f64() * 1e3 / args.repeat as f64,
        shape[0],
        args.repeat
    );
    let views = outputs
        .iter()
        .map(|(k, s, b)| {
            let dtype = if k == "valid" { Dtype::U8 } else { Dtype::F32 };
            (
                k.clone(),
                TensorView::new(dtype, s.clone(), b).expect("sizes"),
            )
        })
        .collect::<Vec<_>>();
    safetensors::serialize_to_file(views, None, &args.output)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    if let Some(reference) = &args.compare {
        compare(&outputs, reference, args.tolerance)?;
    }
    Ok(())
}

fn read_config(args: &Args, [_, frames, _, size, _]: [usize; 5]) -> Result<VideoMaeConfig, String> {
    let from_file = |p: &Path| -> Result<VideoMaeConfig, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        VideoMaeConfig::from_hf_json(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    if let Some(p) = &args.config {
        return from_file(p);
    }
    let ckpt = &args.checkpoint;
    let beside = if ckpt.is_dir() {
        ckpt.join("config.json")
    } else {
        ckpt.with_file_name("config.json")
    };
    if beside.exists() {
        return from_file(&beside);
    }
    eprintln!("no config.json: inferring the config from the weights and the input size");
    infer_original_config(ckpt, frames, size).map_err(|e| e.to_string())
}

fn forward<B: Backend>(
    model: &LoadedModel<B>,
    pixels: Tensor<B, 5>,
    input: &SafeTensors,
) -> Result<Outputs, String> {
    let mut out = Vec::new();
    match model {
        LoadedModel::Classifier(m) => out.push(f32_output("logits", m.forward(pixels))),
        LoadedModel::Pretraining(m) => {
            let encoder = bool_rows(input, "bool_masked_pos")?
                .ok_or("a pretraining checkpoint needs bool_masked_pos in the input")?;
            let decoder = bool_rows(input, "decoder_mask")?;
            let masks =
                PretrainMasks::dual(&encoder, decoder.as_deref()).map_err(|e| e.to_string())?;
            let o = m.forward(pixels.clone(), &masks);
            out.push(f32_output("loss", m.loss(&o)));
            if decoder.is_some() {
                let valid = o.valid.clone();
                let dims = valid.dims().to_vec();
                let v: Vec<f32> = valid.into_data().convert::<f32>().to_vec().expect("f32");
                out.push(("valid".into(), dims, v.iter().map(|&x| x as u8).collect()));
            }
            out.push(f32_output("logits", o.logits()));
        }
    }
    Ok(out)
}

fn f32_output<B: Backend, const D: usize>(
    name: &str,
    t: Tensor<B, D>,
) -> (String, Vec<usize>, Vec<u8>) {
    let dims = t.dims().to_vec();
    let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().expect("f32");
    (
        name.into(),
        dims,
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    )
}

fn f32_tensor(st: &SafeTensors, name: &str) -> Result<(Vec<f32>, Vec<usize>), String> {
    let t = st.tensor(name).map_err(|e| format!("{name}: {e}"))?;
    if t.dtype() != Dtype::F32 {
        return Err(format!("{name} must be f32, is {:?}", t.dtype()));
    }
    let v = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((v, t.shape().to_vec()))
}

/// A u8/bool `(B, N)` tensor as one mask per row, if present.
fn bool_rows(st: &SafeTensors, name: &str) -> Result<Option<Vec<Vec<bool>>>, String> {
    let Ok(t) = st.tensor(name) else {
        return Ok(None);
    };
    match (t.dtype(), t.shape()) {
        (Dtype::U8 | Dtype::BOOL, [_, n]) if *n > 0 => Ok(Some(
            t.data()
                .chunks(*n)
                .map(|r| r.iter().map(|&v| v != 0).collect())
                .collect(),
        )),
        (d, s) => Err(format!("{name} must be u8 (B, N), is {d:?} {s:?}")),
    }
}

fn compare(outputs: &Outputs, reference: &Path, tolerance: f32) -> Result<(), String> {
    let bytes = std::fs::read(reference).map_err(|e| format!("{}: {e}", reference.display()))?;
    let st =
        SafeTensors::deserialize(&bytes).map_err(|e| format!("{}: {e}", reference.display()))?;
    let mut worst = 0f32;
    let mut compared = 0;
    for (name, shape, data) in outputs.iter().filter(|o| o.0 != "valid") {
        let Ok((want, want_shape)) = f32_tensor(&st, name) else {
            continue;
        };
        if &want_shape != shape {
            return Err(format!("{name}: shape {shape:?}, reference {want_shape:?}"));
        }
        let diff = data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
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
