//! Real pretraining runs on CPU (tiny model, clips made with the `ffmpeg`
//! command line): the loss falls, a resumed run repeats the uninterrupted
//! run's losses exactly, a non-finite loss stops the run naming the step
//! and keeping the last good checkpoint, and checkpoints of another recipe
//! or damaged files are refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use burn::backend::{Autodiff, Flex};
use ssl_pretrain::data::{ClipLoader, LoaderConfig, MultiScaleCrop, scan_clip_folder};
use ssl_pretrain::run::{
    CheckpointError, PretrainConfig, RunError, StepMetrics, Trainer, latest_checkpoint,
    load_checkpoint, tiny_model,
};

type B = Autodiff<Flex>;

/// Six short moving test patterns (ffmpeg's testsrc2 at different rates
/// and sizes), 40 frames each.
fn clips(dir: &Path) -> PathBuf {
    let out = dir.join("clips");
    std::fs::create_dir_all(&out).unwrap();
    for (i, (w, h, rate)) in [
        (80, 64, 10),
        (96, 72, 8),
        (64, 64, 12),
        (120, 80, 6),
        (72, 96, 10),
        (100, 70, 9),
    ]
    .iter()
    .enumerate()
    {
        let source = format!("testsrc2=s={w}x{h}:r={rate}");
        common::lavfi_video(
            &source,
            40,
            &["-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "8"],
            &out.join(format!("clip{i}.mp4")),
        );
    }
    out
}

fn config(steps: u64) -> PretrainConfig {
    let model = tiny_model();
    PretrainConfig {
        loader: LoaderConfig {
            num_frames: model.num_frames,
            sampling_rate: 2,
            crop: MultiScaleCrop {
                input_size: model.image_size,
                ..MultiScaleCrop::default()
            },
            num_sample: 2,
            batch_size: 2,
            workers: 2,
            prefetch: 4,
            seed: 3,
            ..LoaderConfig::default()
        },
        model,
        // Scaled by 2 clips / 256: 1e-3 per step at the peak.
        base_lr: 0.128,
        min_lr: 0.0128,
        warmup_steps: 3,
        total_steps: steps,
        accum_steps: 1,
        save_every: 4,
        keep_last: 2,
        seed: 5,
        ..PretrainConfig::default()
    }
}

fn loader(dir: &Path, config: &PretrainConfig) -> ClipLoader {
    let source = scan_clip_folder(dir).unwrap();
    ClipLoader::new(Arc::new(source), config.loader.clone()).unwrap()
}

fn run(
    config: &PretrainConfig,
    clips: &Path,
    out: &Path,
    resume: bool,
    stop_after: Option<u64>,
) -> Vec<StepMetrics> {
    let mut trainer = Trainer::<B>::open(config.clone(), out, resume, Default::default()).unwrap();
    let mut seen = Vec::new();
    trainer
        .run(&loader(clips, config), stop_after, &mut |m| {
            seen.push(m.clone())
        })
        .unwrap();
    seen
}

fn metrics_file(out: &Path) -> Vec<StepMetrics> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_loss_falls_and_a_resumed_run_repeats_the_same_losses() {
    let dir = tempfile::tempdir().unwrap();
    let clips = clips(dir.path());
    let steps = 24;
    let whole = run(
        &config(steps),
        &clips,
        &dir.path().join("whole"),
        false,
        None,
    );
    assert_eq!(whole.len(), steps as usize);
    let mean = |m: &[StepMetrics]| m.iter().map(|m| m.loss).sum::<f64>() / m.len() as f64;
    let (first, last) = (mean(&whole[..4]), mean(&whole[steps as usize - 4..]));
    eprintln!("loss {first:.4} -> {last:.4}");
    assert!(
        last < 0.9 * first,
        "loss did not fall by 10%: {first} -> {last}"
    );
    assert_eq!(metrics_file(&dir.path().join("whole")), whole);

    // Stop after 10 steps (a checkpoint at 8 and a final one at 10), then
    // resume in a new trainer: the same losses, bit for bit.
    let split = dir.path().join("split");
    let part = run(&config(steps), &clips, &split, false, Some(10));
    let rest = run(&config(steps), &clips, &split, true, None);
    assert_eq!(part.len() + rest.len(), steps as usize);
    let losses = |m: &[StepMetrics]| {
        m.iter()
            .map(|m| (m.step, m.loss, m.lr, m.grad_norm))
            .collect::<Vec<_>>()
    };
    let resumed: Vec<StepMetrics> = part.into_iter().chain(rest).collect();
    assert_eq!(losses(&resumed), losses(&whole));
    assert_eq!(losses(&metrics_file(&split)), losses(&whole));
    // keep_last 2: the final checkpoint and the one before.
    let kept = std::fs::read_dir(split.join("checkpoints"))
        .unwrap()
        .count();
    assert_eq!(kept, 2);
    // The final checkpoint is a Hugging Face pretraining model.
    let last = latest_checkpoint(&split).unwrap().unwrap();
    assert!(last.ends_with("step-00000024"));
    videomae::checkpoint::load_hf_pretraining::<Flex>(&last, &Default::default()).unwrap();
    // Pictures: loss and lr curves, and a reconstruction per checkpoint of
    // one fixed clip (the same in both sessions of the split run).
    let curves = image::open(split.join("curves.png")).unwrap();
    assert_eq!((curves.width(), curves.height()), (720, 480));
    let (t, s) = (
        tiny_model().num_frames as u32,
        tiny_model().image_size as u32,
    );
    for step in [8, 10, 12, 24] {
        let preview = image::open(split.join(format!("previews/step-{step:08}.png"))).unwrap();
        assert_eq!((preview.width(), preview.height()), (t * s, 3 * s));
    }
    let a = std::fs::read(split.join("previews/step-00000024.png")).unwrap();
    let b = std::fs::read(dir.path().join("whole/previews/step-00000024.png")).unwrap();
    assert_eq!(a, b, "the resumed run drew another clip or another model");
}

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let clips = clips(dir.path());
    let mut c = config(20);
    c.save_every = 1;
    c.warmup_steps = 0;
    c.base_lr = 1e12;
    c.min_lr = 1e12;
    let out = dir.path().join("run");
    let mut trainer = Trainer::<B>::open(c.clone(), &out, false, Default::default()).unwrap();
    let err = trainer
        .run(&loader(&clips, &c), None, &mut |_| {})
        .unwrap_err();
    let RunError::NonFinite {
        step,
        last_checkpoint,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert!(*step >= 2, "{err}");
    let kept = last_checkpoint
        .as_ref()
        .expect("a checkpoint before the failure");
    assert!(kept.ends_with(format!("step-{:08}", step - 1)), "{err}");
    assert!(err.to_string().contains(&format!("step {step}")), "{err}");
    load_checkpoint::<Flex>(kept, &c, &Default::default()).unwrap();
}

#[test]
fn checkpoints_of_another_recipe_or_damaged_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clips = clips(dir.path());
    let out = dir.path().join("run");
    run(&config(4), &clips, &out, false, None);
    let last = latest_checkpoint(&out).unwrap().unwrap();
    // Another recipe.
    let mut other = config(4);
    other.mask_ratio = 0.75;
    let err = load_checkpoint::<Flex>(&last, &other, &Default::default()).unwrap_err();
    assert!(
        matches!(&err, CheckpointError::OtherRecipe { fields, .. } if fields.contains("mask_ratio")),
        "{err}"
    );
    let err = Trainer::<B>::open(other, &out, true, Default::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("mask_ratio"), "{err}");
    // A new run into a folder with checkpoints is refused, not overwritten.
    let err = Trainer::<B>::open(config(4), &out, false, Default::default())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("already holds checkpoints"),
        "{err}"
    );
    // A truncated optimizer file.
    let opt = last.join("optimizer.safetensors");
    let bytes = std::fs::read(&opt).unwrap();
    std::fs::write(&opt, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_checkpoint::<Flex>(&last, &config(4), &Default::default()).unwrap_err();
    assert!(matches!(err, CheckpointError::Invalid { .. }), "{err}");
}

/// The killed child's side of the test below: trains with a pause after
/// each step so the parent can kill it between checkpoints.
fn killed_child(out: &Path, clips: &Path) {
    let c = config(16);
    let mut trainer = Trainer::<B>::open(c.clone(), out, false, Default::default()).unwrap();
    trainer
        .run(&loader(clips, &c), None, &mut |_| {
            std::thread::sleep(std::time::Duration::from_millis(150))
        })
        .unwrap();
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_same_losses() {
    if let (Some(out), Some(clips)) = (
        std::env::var_os("TUBELET_KILLED_CHILD_OUT"),
        std::env::var_os("TUBELET_KILLED_CHILD_CLIPS"),
    ) {
        killed_child(Path::new(&out), Path::new(&clips));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clips = clips(dir.path());
    let whole = run(&config(16), &clips, &dir.path().join("whole"), false, None);
    // The same test binary, re-run as the child.
    let out = dir.path().join("killed");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_run_killed_with_sigkill_resumes_to_the_same_losses",
            "--exact",
            "--nocapture",
        ])
        .env("TUBELET_KILLED_CHILD_OUT", &out)
        .env("TUBELET_KILLED_CHILD_CLIPS", &clips)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let second = out
        .join("checkpoints")
        .join("step-00000008")
        .join("trainer.json");
    let started = std::time::Instant::now();
    while !second.exists() {
        assert!(
            started.elapsed().as_secs() < 300,
            "the child wrote no checkpoint at step 8"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before being killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let logged = metrics_file(&out).len();
    assert!((8..16).contains(&logged), "killed after {logged} steps");
    let rest = run(&config(16), &clips, &out, true, None);
    assert_eq!(rest.first().map(|m| m.step), Some(9));
    let losses = |m: &[StepMetrics]| {
        m.iter()
            .map(|m| (m.step, m.loss, m.lr, m.grad_norm))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&metrics_file(&out)), losses(&whole));
}
