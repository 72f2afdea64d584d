//! VideoMAE V2 pretraining from the command line.
//!
//! ```sh
//! cargo run --release -p ssl-pretrain --example pretrain -- \
//!     --data out/quickstart/shards --model tiny --out runs/tiny --steps 200 --batch 4
//! # continue after an interruption (same flags plus --resume):
//! cargo run --release -p ssl-pretrain --example pretrain -- \
//!     --data out/quickstart/shards --model tiny --out runs/tiny --steps 200 --batch 4 --resume
//! ```
//!
//! `--data` is a VideoMAE list (`path 0 -1`), a `manifest.jsonl`, a folder
//! of WebDataset shards (`shard-NNNNNN.tar`, members decoded in place) or a
//! folder of clips. The run folder gets `config.json` (the whole recipe),
//! `metrics.jsonl` (step, loss, lr, grad norm, clips/s, data-wait),
//! `checkpoints/step-NNNNNNNN/` (Hugging Face layout + optimizer + trainer
//! state, the last `--keep-last`), `previews/step-NNNNNNNN.png` (input,
//! encoder view and reconstruction of a fixed clip at each checkpoint),
//! `curves.png` (loss and learning rate), `export/` (the final model alone, which
//! transformers' `VideoMAEForPreTraining.from_pretrained` reads) and
//! `skipped_clips.json`. With `--features cuda`, `--device cuda` trains on
//! the GPU.

use std::path::{Path, PathBuf};

// Clips are large buffers (a 16x224 view is 9.6 MB): with glibc's malloc
// every one is a fresh mmap, and page faults took a third of the views'
// time. mimalloc reuses the memory. (Binaries choose the allocator; the
// library does not.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::Arc;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ssl_pretrain::burn::backend::Autodiff;
use ssl_pretrain::burn::tensor::backend::AutodiffBackend;
use ssl_pretrain::data::{
    ClipEntry, ClipSource, MultiScaleCrop, index_shards, read_manifest, read_pretrain_list,
    scan_clip_folder,
};
use ssl_pretrain::run::{PretrainConfig, Trainer, tiny_model};
use videomae::VideoMaeConfig;

#[derive(Parser, Debug)]
#[command(about = "VideoMAE V2 dual-masking pretraining (tubelet)")]
struct Args {
    /// A VideoMAE list, a manifest.jsonl, a shards folder or a clips folder.
    #[arg(long)]
    data: PathBuf,
    /// tiny, small, base, or a Hugging Face config.json.
    #[arg(long, default_value = "tiny")]
    model: String,
    /// Run folder.
    #[arg(long)]
    out: PathBuf,
    /// Optimizer steps (default: --epochs worth, else 1000).
    #[arg(long)]
    steps: Option<u64>,
    /// Epochs over the data (sets --steps from the clip count).
    #[arg(long)]
    epochs: Option<u64>,
    /// Clips per loader batch (each gives --num-sample views).
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Loader batches per optimizer step.
    #[arg(long, default_value_t = 1)]
    accum: usize,
    /// Learning rate per 256 clips (scaled by batch x accum / 256).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Final learning rate per 256 clips.
    #[arg(long, default_value_t = 1e-5)]
    min_lr: f64,
    /// Warm-up steps (default: 5% of the run).
    #[arg(long)]
    warmup_steps: Option<u64>,
    /// Views per decoded clip.
    #[arg(long, default_value_t = 4)]
    num_sample: usize,
    /// Frame stride (2 for Something-Something-style data).
    #[arg(long, default_value_t = 4)]
    sampling_rate: usize,
    /// Encoder tube-mask ratio.
    #[arg(long, default_value_t = 0.9)]
    mask_ratio: f64,
    /// Decoder running-cell ratio (0: VideoMAE v1).
    #[arg(long, default_value_t = 0.5)]
    decoder_mask_ratio: f64,
    /// Global gradient-norm clip.
    #[arg(long)]
    clip_grad: Option<f64>,
    /// Decoding threads.
    #[arg(long)]
    workers: Option<usize>,
    /// Checkpoint every N steps.
    #[arg(long, default_value_t = 500)]
    save_every: u64,
    /// Checkpoints kept.
    #[arg(long, default_value_t = 3)]
    keep_last: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// cpu, or cuda when built with --features cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Continue the run in --out from its newest checkpoint.
    #[arg(long)]
    resume: bool,
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

fn model_config(name: &str) -> VideoMaeConfig {
    match name {
        "tiny" => tiny_model(),
        "small" => VideoMaeConfig::small(),
        "base" => VideoMaeConfig::base(),
        path => {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{path}: {e}")));
            VideoMaeConfig::from_hf_json(&text).unwrap_or_else(|e| fail(format!("{path}: {e}")))
        }
    }
}

/// The clips of `--data`, by what it is.
fn source(data: &Path) -> Vec<ClipEntry> {
    let result = if data.is_dir() {
        match curation_core::shard::list_shards(data) {
            Ok(shards) if !shards.is_empty() => index_shards(data).map(|(c, without)| {
                if without > 0 {
                    eprintln!("note: {without} samples without a video member");
                }
                c
            }),
            _ => scan_clip_folder(data),
        }
    } else if data.extension().is_some_and(|e| e == "jsonl") {
        read_manifest(data).map(|(c, without)| {
            if without > 0 {
                eprintln!("note: {without} records without media");
            }
            c
        })
    } else {
        read_pretrain_list(data, None)
    };
    result.unwrap_or_else(|e| fail(e))
}

fn recipe(args: &Args, clips: usize) -> PretrainConfig {
    let model = model_config(&args.model);
    let mut c = PretrainConfig::default();
    c.loader.num_frames = model.num_frames;
    c.loader.crop = MultiScaleCrop {
        input_size: model.image_size,
        ..MultiScaleCrop::default()
    };
    c.loader.sampling_rate = args.sampling_rate;
    c.loader.num_sample = args.num_sample;
    c.loader.batch_size = args.batch;
    c.loader.seed = args.seed;
    if let Some(w) = args.workers {
        c.loader.workers = w;
    }
    c.model = model;
    c.accum_steps = args.accum;
    let per_epoch = (clips / (args.batch * args.accum).max(1)).max(1) as u64;
    c.total_steps = match (args.steps, args.epochs) {
        (Some(s), _) => s,
        (None, Some(e)) => e * per_epoch,
        (None, None) => 1000,
    };
    c.warmup_steps = args.warmup_steps.unwrap_or(c.total_steps / 20);
    c.base_lr = args.lr;
    c.min_lr = args.min_lr;
    c.mask_ratio = args.mask_ratio;
    c.decoder_mask_ratio = args.decoder_mask_ratio;
    c.clip_grad = args.clip_grad;
    c.save_every = args.save_every;
    c.keep_last = args.keep_last;
    c.seed = args.seed;
    c
}

fn train<AB: AutodiffBackend>(
    args: &Args,
    config: PretrainConfig,
    clips: Vec<ClipEntry>,
    device: AB::Device,
) {
    let mut trainer = Trainer::<AB>::open(config.clone(), &args.out, args.resume, device)
        .unwrap_or_else(|e| fail(e));
    let s = trainer.schedule();
    let m = &config.model;
    println!(
        "model: width {} depth {} heads {}, decoder {} x {}, {} frames of {}px, {} tokens",
        m.hidden_size,
        m.num_hidden_layers,
        m.num_attention_heads,
        m.decoder_hidden_size,
        m.decoder_num_hidden_layers,
        m.num_frames,
        m.image_size,
        m.num_tokens()
    );
    println!(
        "data: {} clips, {} per batch x {} views x {} accumulated = {} clips per step; {} frames at stride {}",
        clips.len(),
        config.loader.batch_size,
        config.loader.num_sample,
        config.accum_steps,
        config.total_batch(),
        config.loader.num_frames,
        config.loader.sampling_rate
    );
    println!(
        "optimizer: AdamW betas ({}, {}) eps {:e} wd {}; lr {:.3e} (= {} x {} / 256) warm-up {} then cosine to {:.3e} over {} steps; masks {} / {}; clip {:?}",
        config.optimizer.beta1,
        config.optimizer.beta2,
        config.optimizer.eps,
        config.optimizer.weight_decay,
        s.base,
        config.base_lr,
        config.total_batch(),
        s.warmup_steps,
        s.min,
        s.total_steps,
        config.mask_ratio,
        config.decoder_mask_ratio,
        config.clip_grad
    );
    if trainer.state().step > 0 {
        println!(
            "resuming at step {} (epoch {}, clip {})",
            trainer.state().step,
            trainer.state().epoch,
            trainer.state().position
        );
    }
    let loader = ssl_pretrain::data::ClipLoader::new(
        Arc::new(clips) as Arc<dyn ClipSource>,
        config.loader.clone(),
    )
    .unwrap_or_else(|e| fail(e));
    let bar = ProgressBar::new(config.total_steps).with_position(trainer.state().step);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = trainer
        .run(&loader, None, &mut |m| {
            bar.set_position(m.step);
            bar.set_message(format!(
                "loss {:.4} lr {:.2e} |g| {:.3} {:.1} clips/s wait {:.0}%",
                m.loss,
                m.lr,
                m.grad_norm,
                m.clips_per_s,
                m.data_wait * 100.0
            ));
        })
        .unwrap_or_else(|e| {
            bar.abandon();
            fail(e)
        });
    bar.finish();
    let export = args.out.join("export");
    std::fs::create_dir_all(&export).unwrap_or_else(|e| fail(e));
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(summary.checkpoint.join(file), export.join(file)).unwrap_or_else(|e| fail(e));
    }
    let skipped = args.out.join("skipped_clips.json");
    let json = serde_json::to_vec_pretty(&summary.skipped).unwrap_or_default();
    std::fs::write(&skipped, json).unwrap_or_else(|e| fail(e));
    println!(
        "done: {} steps; {} clips loaded, {} skipped ({}); checkpoint {}; export {}",
        summary.steps,
        summary.skipped.loaded,
        summary.skipped.skipped_total(),
        skipped.display(),
        summary.checkpoint.display(),
        export.display()
    );
}

fn main() {
    let args = Args::parse();
    let clips = source(&args.data);
    let config = recipe(&args, clips.len());
    if let Err(e) = config.validate() {
        fail(e);
    }
    match args.device.as_str() {
        "cpu" => train::<Autodiff<ssl_pretrain::burn::backend::Flex>>(
            &args,
            config,
            clips,
            Default::default(),
        ),
        #[cfg(feature = "cuda")]
        "cuda" => train::<Autodiff<ssl_pretrain::burn::backend::Cuda>>(
            &args,
            config,
            clips,
            Default::default(),
        ),
        other => fail(format!(
            "unknown device {other} (cuda needs --features cuda)"
        )),
    }
}
