//! Hostile and broken input to the `videomae_forward` example (issue 10):
//! exit codes and messages for an empty batch, mis-shaped pixels, NaN
//! pixels and outputs, invalid `--tolerance` / `--repeat`, an empty
//! checkpoint folder, an output that names an input; the output's mode.
//!
//! The example binary is the one `cargo test` builds beside the test
//! binaries; a filtered run that did not build it skips these tests (with
//! a message; under CI it fails), and a binary older than the sources
//! fails rather than test old code.

use std::path::{Path, PathBuf};
use std::process::Command;

use safetensors::Dtype;
use safetensors::tensor::TensorView;
use videomae::io::write_safetensors;

mod common;
use common::fixture;
#[cfg(unix)]
use common::{mode, new_file_mode};

/// A copy of the classifier fixture folder.
fn fixture_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["model.safetensors", "config.json"] {
        std::fs::copy(fixture("classify_tiny").join(f), tmp.path().join(f)).unwrap();
    }
    tmp
}

/// The example binary beside this test's. `cargo test` builds examples;
/// a filtered `--test` run does not, and then these tests skip with a
/// message, except under CI (`CI` set), where a missing binary fails. A
/// binary older than the crate's sources would test old code and pass or
/// fail for the wrong reason: that fails too, naming the command to run.
fn example() -> Option<PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples/videomae_forward");
    let Ok(meta) = std::fs::metadata(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is not built (CI runs `cargo test` after building examples)",
            path.display()
        );
        eprintln!(
            "skipped: {} is not built (`cargo build -p videomae --examples`)",
            path.display()
        );
        return None;
    };
    let built = meta.modified().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(newer) = newest_source(&[root.join("src"), root.join("examples")], built) {
        panic!(
            "{} is older than {}: run `cargo build -p videomae --examples` \
             (or plain `cargo test`) first",
            path.display(),
            newer.display()
        );
    }
    Some(path)
}

/// A `.rs` file under `dirs` modified after `than`, if any.
fn newest_source(dirs: &[PathBuf], than: std::time::SystemTime) -> Option<PathBuf> {
    let mut stack = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && meta.modified().is_ok_and(|m| m > than)
            {
                return Some(path);
            }
        }
    }
    None
}

/// Writes a `pixel_values` input of `shape` filled with `value`.
fn input_file(dir: &Path, shape: [usize; 5], value: f32) -> PathBuf {
    let path = dir.join("in.safetensors");
    let n: usize = shape.iter().product();
    let bytes: Vec<u8> = (0..n).flat_map(|_| value.to_le_bytes()).collect();
    let view = TensorView::new(Dtype::F32, shape.to_vec(), &bytes).unwrap();
    safetensors::serialize_to_file([("pixel_values", view)], None, &path).unwrap();
    path
}

/// Runs the example; (exit code, stderr).
fn forward(
    bin: &Path,
    checkpoint: &Path,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> (i32, String) {
    let out = Command::new(bin)
        .arg("--checkpoint")
        .arg(checkpoint)
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn forward_example_rejects_bad_input_and_options() {
    let Some(bin) = example() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = fixture("classify_tiny");
    let out = tmp.path().join("out.safetensors");
    let run = |shape, value, extra: &[&str]| {
        let input = input_file(tmp.path(), shape, value);
        forward(&bin, &ckpt, &input, &out, extra)
    };
    let (code, err) = run([0, 4, 3, 32, 32], 0.0, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("empty batch"), "{err}");
    // An empty batch with absurd other dimensions (0 bytes of data).
    let (code, err) = run([0, 1 << 40, 3, 1 << 30, 1 << 30], 0.0, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("empty batch"), "{err}");
    let (code, err) = run([1, 2, 3, 32, 32], 0.0, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("this model takes (batch, 4, 3, 32, 32)"),
        "{err}"
    );
    let (code, err) = run([1, 4, 3, 32, 32], f32::NAN, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("pixel_values: 12288 of 12288 values are not finite"),
        "{err}"
    );
    assert!(!out.exists(), "no output for a failed run");
    // Asked for raw outputs: a warning for the input and the logits.
    let (code, err) = run([1, 4, 3, 32, 32], f32::NAN, &["--allow-non-finite"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: output logits: 5 of 5 values are not finite"),
        "{err}"
    );
    for bad in [
        ["--tolerance", "nan"],
        ["--tolerance", "-1"],
        ["--tolerance", "inf"],
        ["--repeat", "0"],
    ] {
        let (code, err) = run([1, 4, 3, 32, 32], 0.0, &bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
    let (code, err) = run([1, 4, 3, 32, 32], 0.0, &["--repeat", "2"]);
    assert_eq!(code, 0, "{err}");
    #[cfg(unix)]
    assert_eq!(mode(&out), new_file_mode(tmp.path()));
    let empty = tempfile::tempdir().unwrap();
    let input = input_file(tmp.path(), [1, 4, 3, 32, 32], 0.0);
    let (code, err) = forward(&bin, empty.path(), &input, &out, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no config.json or model.safetensors in this folder"),
        "{err}"
    );
    // An output that names the input would destroy it.
    let before = std::fs::read(&input).unwrap();
    let (code, err) = forward(&bin, &ckpt, &input, &input, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--output names a file this run reads"),
        "{err}"
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn forward_example_fails_on_non_finite_outputs() {
    let Some(bin) = example() else { return };
    // The fixture with a NaN in the classifier bias: finite input, one
    // NaN logit per clip.
    let tmp = fixture_copy();
    let path = tmp.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    for t in owned.iter_mut().filter(|t| t.0 == "classifier.bias") {
        t.3[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    }
    write_safetensors(&path, &owned).unwrap();
    let input = input_file(tmp.path(), [2, 4, 3, 32, 32], 0.5);
    let out = tmp.path().join("out.safetensors");
    let (code, err) = forward(&bin, tmp.path(), &input, &out, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("output logits: 2 of 10 values are not finite"),
        "{err}"
    );
}
