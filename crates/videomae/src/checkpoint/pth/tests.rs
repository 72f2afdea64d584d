//! Unit tests of the `.pth` reader on crafted files; values are checked
//! against hand-computed ones. The hostile cases through the public API
//! and the fuzz properties are in `tests/pth_hostile.rs`.

use std::path::{Path, PathBuf};

use super::read_state_dict;
use super::testutil::{Spec, f32_bytes, pth, pth_with, state_dict, state_dict_pth};
use crate::checkpoint::{CheckpointError, TensorMap};

fn write(dir: &tempfile::TempDir, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join("model.pth");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read(bytes: &[u8]) -> Result<TensorMap, CheckpointError> {
    let dir = tempfile::tempdir().unwrap();
    read_state_dict(&write(&dir, bytes))
}

fn error(bytes: &[u8]) -> String {
    match read(bytes) {
        Err(CheckpointError::Format { path, message }) => {
            assert!(path.ends_with("model.pth"));
            message
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}

const SIX: [f32; 6] = [0., 1., 2., 3., 4., 5.];

#[test]
fn a_valid_state_dict_loads_its_values() {
    let b = f32_bytes(&SIX);
    let file = state_dict_pth(Some("model"), &[Spec::f32("w", "0", &[2, 3])], &[("0", &b)]);
    let map = read(&file).unwrap();
    assert_eq!(map["w"], (vec![2, 3], SIX.to_vec()));
}

#[test]
fn strides_are_honoured_for_a_transposed_view() {
    // Storage: [[0,1,2],[3,4,5]]; the saved view is its transpose, size
    // (3,2) stride (1,3), i.e. [[0,3],[1,4],[2,5]].
    let b = f32_bytes(&SIX);
    let mut t = Spec::f32("wt", "0", &[3, 2]);
    t.stride = vec![1, 3];
    let mut row = Spec::f32("row", "0", &[3]);
    row.offset = 3;
    row.numel = 6;
    let file = state_dict_pth(None, &[t, row], &[("0", &b)]);
    let map = read(&file).unwrap();
    assert_eq!(map["wt"], (vec![3, 2], vec![0., 3., 1., 4., 2., 5.]));
    assert_eq!(map["row"], (vec![3], vec![3., 4., 5.]));
}

#[test]
fn a_missing_storage_entry_is_an_error_naming_the_key() {
    let b = f32_bytes(&SIX);
    let file = state_dict_pth(
        Some("model"),
        &[Spec::f32("w", "0", &[2, 3]), Spec::f32("v", "1", &[6])],
        &[("0", &b)],
    );
    let e = error(&file);
    assert!(
        e.contains("tensor v:") && e.contains("archive/data/1 is missing"),
        "{e}"
    );
}

#[test]
fn a_short_or_long_storage_entry_is_an_error() {
    let b = f32_bytes(&SIX);
    for bytes in [&b[..20], &b[..0], &[b.as_slice(), &[0; 4]].concat()[..]] {
        let file = state_dict_pth(None, &[Spec::f32("w", "0", &[2, 3])], &[("0", bytes)]);
        let e = error(&file);
        assert!(e.starts_with("tensor w: entry archive/data/0"), "{e}");
        assert!(e.contains("24"), "{e}");
    }
}

#[test]
fn views_outside_their_storage_are_errors() {
    let b = f32_bytes(&SIX);
    let mut past = Spec::f32("w", "0", &[6]);
    past.offset = 1;
    let mut far = Spec::f32("w", "0", &[1]);
    far.offset = 1 << 40;
    let mut wide = Spec::f32("w", "0", &[2, 3]);
    wide.stride = vec![3, 2];
    for mut t in [past, far, wide] {
        t.numel = 6;
        let file = state_dict_pth(None, &[t], &[("0", &b)]);
        let e = error(&file);
        assert!(
            e.starts_with("tensor w: view") && e.contains("past its storage"),
            "{e}"
        );
    }
}

#[test]
fn negative_strides_sizes_and_offsets_are_errors() {
    let b = f32_bytes(&SIX);
    let mut a = Spec::f32("w", "0", &[2, 3]);
    a.stride = vec![-3, 1];
    let mut c = Spec::f32("w", "0", &[2, 3]);
    c.size = vec![2, -3];
    let mut d = Spec::f32("w", "0", &[2, 3]);
    d.offset = -1;
    let mut e2 = Spec::f32("w", "0", &[2, 3]);
    e2.stride = vec![3];
    for (t, want) in [
        (a, "negative stride"),
        (c, "negative size"),
        (d, "negative storage offset"),
        (e2, "dimensions"),
    ] {
        let file = state_dict_pth(None, &[t], &[("0", &b)]);
        let e = error(&file);
        assert!(e.starts_with("tensor w: ") && e.contains(want), "{e}");
    }
}

#[test]
fn storage_sizes_beyond_the_file_are_refused_before_allocating() {
    let b = f32_bytes(&SIX);
    let mut t = Spec::f32("w", "0", &[6]);
    t.numel = 1 << 60;
    let e = error(&state_dict_pth(None, &[t], &[("0", &b)]));
    assert!(e.contains("more than the file holds"), "{e}");
    // A stride-0 view of one element claiming 2^40 elements.
    let mut t = Spec::f32("w", "0", &[1 << 40]);
    t.numel = 6;
    t.stride = vec![0];
    let e = error(&state_dict_pth(None, &[t], &[("0", &b)]));
    assert!(e.contains("exceed what the file can hold"), "{e}");
}

#[test]
fn unsupported_dtypes_are_errors_naming_the_key() {
    let mut t = Spec::f32("steps", "0", &[2]);
    t.storage = "LongStorage".into();
    let e = error(&state_dict_pth(None, &[t], &[("0", &[0; 16])]));
    assert_eq!(e, "tensor steps: unsupported dtype torch.LongStorage");
}

#[test]
fn one_storage_declared_twice_differently_is_an_error() {
    let b = f32_bytes(&SIX);
    let a = Spec::f32("a", "0", &[6]);
    let mut c = Spec::f32("c", "0", &[3]);
    c.numel = 3;
    let e = error(&state_dict_pth(None, &[a, c], &[("0", &b)]));
    assert!(e.contains("storage 0 is declared as"), "{e}");
}

#[test]
fn top_level_keys_and_prefixes_are_read_as_before() {
    let b = f32_bytes(&SIX);
    for top in [Some("model"), Some("module"), Some("state_dict"), None] {
        let file = state_dict_pth(
            top,
            &[
                Spec::f32("_orig_mod.a", "0", &[6]),
                Spec::f32("module.b", "0", &[6]),
            ],
            &[("0", &b)],
        );
        let map = read(&file).unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"], "{top:?}");
    }
    // Keys that collide once prefixes are removed.
    let file = state_dict_pth(
        None,
        &[
            Spec::f32("_orig_mod.a", "0", &[6]),
            Spec::f32("a", "0", &[6]),
        ],
        &[("0", &b)],
    );
    assert_eq!(error(&file), "key a appears twice");
}

#[test]
fn a_whole_model_save_or_a_bad_legacy_file_gets_a_clear_error() {
    let file = pth(&[("data.pkl", b"\x80\x02N.")]);
    assert!(error(&file).contains("holds a None, not a dict"));
    assert!(error(b"\x80\x02\x8a\x0alegacy").starts_with("legacy format, magic number pickle"));
    assert!(error(b"\x80\x02K\x01.").contains("no torch.save magic number"));
    let legacy = std::fs::read(fixture("legacy.pth")).unwrap();
    // Cut inside the last storage (24 bytes of float32 `w`/`wt`/`row`...).
    let e = error(&legacy[..legacy.len() - 4]);
    assert!(e.contains("runs past the end of the file"), "{e}");
    let e = error(&legacy[..legacy.len() - 24]);
    assert!(
        e.contains("file truncated") || e.contains("runs past"),
        "{e}"
    );
    assert!(error(b"hello").contains("not a PyTorch checkpoint"));
    assert!(error(b"").contains("not a PyTorch checkpoint"));
    let dir = tempfile::tempdir().unwrap();
    match read_state_dict(dir.path()) {
        Err(CheckpointError::Format { message, .. }) => {
            assert_eq!(message, "is a folder, not a file")
        }
        other => panic!("{other:?}"),
    }
    let no_pickle = pth(&[("other", b"x")]);
    assert!(error(&no_pickle).contains("no <archive>/data.pkl"));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pth_protocols")
        .join(name)
}

#[test]
fn pickle_protocols_2_to_5_load_the_same_hand_known_values() {
    // tools/gen_pth_protocol_fixtures.py: the same checkpoint pickled with
    // each protocol and in the legacy format, opaque objects (argparse.Namespace, a bytearray, an
    // optimizer with an int64 tensor) beside the state dict.
    let want: Vec<(&str, Vec<usize>, Vec<f32>)> = vec![
        ("bf16", vec![3], vec![1.0, -0.5, 3.0]),
        ("double", vec![2], vec![0.1f64 as f32, 1e-3f64 as f32]),
        ("half", vec![3], vec![0.5, -1.25, 2.0]),
        ("row", vec![3], vec![4., 5., 6.]),
        ("w", vec![2, 3], vec![1., 2., 3., 4., 5., 6.]),
        ("wt", vec![3, 2], vec![1., 4., 2., 5., 3., 6.]),
    ];
    for file in ["p2.pth", "p3.pth", "p4.pth", "p5.pth", "legacy.pth"] {
        let map = read_state_dict(&fixture(file)).unwrap();
        let got: Vec<(&str, Vec<usize>, Vec<f32>)> = map
            .iter()
            .map(|(k, (s, v))| (k.as_str(), s.clone(), v.clone()))
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn a_data_pkl_over_the_limit_is_refused_unread() {
    // Up to ~100 bytes of values per pickle byte: a 256 MB pickle was
    // read and interpreted; the limit is 16 MB.
    let big = vec![b'N'; super::pickle::MAX_PICKLE + 1];
    let e = error(&pth(&[("data.pkl", &big)]));
    assert_eq!(
        e,
        "entry archive/data.pkl declares 16777217 bytes where at most 16777216 are expected"
    );
}

#[test]
fn compressed_entries_within_bounds_load() {
    let b = f32_bytes(&SIX);
    let pickle = state_dict(None, &[Spec::f32("w", "0", &[2, 3])]);
    let file = pth_with(
        &[("data.pkl", &pickle), ("data/0", &b)],
        zip::CompressionMethod::Deflated,
    );
    assert_eq!(read(&file).unwrap()["w"].1, SIX);
}

/// What a VideoMAE V2 training run saves: fp16 and bf16 weights (amp)
/// under `model`, a Parameter rebuild, DataParallel around a compiled
/// model (`module._orig_mod.`), plus `optimizer` (its own tensors, int
/// keys), `epoch`, `scaler` and `args` (an `argparse.Namespace`, built by
/// NEWOBJ and BUILD). Only the model's tensors are read; half-precision
/// values convert exactly, subnormals, NaN and infinity included.
#[test]
fn a_v2_training_checkpoint_with_half_weights_loads_exact_values() {
    use super::testutil::{global, int, tensor, text};
    let half = [0x3c00u16, 0x0001, 0x7e00, 0xfc00, 0x8400, 0x3bff];
    let bf16 = [0x3f80u16, 0xc0a0];
    let mut w = Spec::f32("module._orig_mod.w", "0", &[2, 3]);
    w.storage = "HalfStorage".into();
    let mut b = Spec::f32("b", "1", &[2]);
    b.storage = "BFloat16Storage".into();
    let moment = Spec::f32("exp_avg", "2", &[6]);

    let mut p = vec![0x80, 2, b'}', b'('];
    text(&mut p, "model");
    p.extend(b"}(");
    text(&mut p, &w.name);
    global(&mut p, "torch._utils", "_rebuild_parameter");
    p.push(b'(');
    tensor(&mut p, &w);
    p.push(0x88);
    global(&mut p, "collections", "OrderedDict");
    p.extend(b")RtR");
    text(&mut p, &b.name);
    tensor(&mut p, &b);
    p.push(b'u');
    // optimizer: {"state": {0: {"exp_avg": tensor, "step": 5}}}
    text(&mut p, "optimizer");
    p.extend(b"}(");
    text(&mut p, "state");
    p.extend(b"}(K\x00}(");
    text(&mut p, &moment.name);
    tensor(&mut p, &moment);
    text(&mut p, "step");
    int(&mut p, 5);
    p.extend(b"uuu");
    text(&mut p, "epoch");
    int(&mut p, 799);
    // scaler: {"scale": 65536.0, "_growth_tracker": 0}
    text(&mut p, "scaler");
    p.extend(b"}(");
    text(&mut p, "scale");
    p.push(b'G');
    p.extend(65536f64.to_be_bytes());
    text(&mut p, "_growth_tracker");
    int(&mut p, 0);
    p.push(b'u');
    // args: argparse.Namespace(model="vit_giant_patch14_224", batch_size=8)
    text(&mut p, "args");
    global(&mut p, "argparse", "Namespace");
    p.extend(b")\x81}(");
    text(&mut p, "model");
    text(&mut p, "vit_giant_patch14_224");
    text(&mut p, "batch_size");
    int(&mut p, 8);
    p.extend(b"ub");
    p.extend(b"u.");

    let le = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let (h, bf, m) = (le(&half), le(&bf16), f32_bytes(&SIX));
    let file = pth(&[
        ("data.pkl", &p),
        ("byteorder", b"little"),
        ("data/0", &h),
        ("data/1", &bf),
        ("data/2", &m),
    ]);
    let map = read(&file).unwrap();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["b", "w"]);
    let (shape, v) = &map["w"];
    assert_eq!(shape, &[2, 3]);
    let want = [
        1.0f32,
        5.960_464_5e-8, // 2^-24, the smallest subnormal
        f32::NAN,
        f32::NEG_INFINITY,
        -6.103_515_6e-5, // -2^-14, the smallest normal
        0.999_511_7,     // 1 - 2^-11
    ];
    for (got, want) in v.iter().zip(want) {
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{got} != {want}"
        );
    }
    assert_eq!(map["b"], (vec![2], vec![1.0, -5.0]));
}

#[test]
fn long_storage_keys_are_looked_up_whole() {
    // Keys were shortened to 60 characters for messages before the entry
    // was looked up, so a long key named an entry that does not exist.
    let key = "k".repeat(80);
    let b = f32_bytes(&SIX);
    let file = state_dict_pth(None, &[Spec::f32("w", &key, &[6])], &[(&key, &b)]);
    assert_eq!(read(&file).unwrap()["w"], (vec![6], SIX.to_vec()));
}

#[test]
fn stacked_wrapper_prefixes_are_all_removed() {
    let b = f32_bytes(&SIX);
    let file = state_dict_pth(
        Some("module"),
        &[
            Spec::f32("module._orig_mod.a", "0", &[6]),
            Spec::f32("_orig_mod.module.b", "0", &[6]),
        ],
        &[("0", &b)],
    );
    let map = read(&file).unwrap();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
}
