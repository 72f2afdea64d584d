//! YOLOv8n in Burn against Ultralytics on a random-initialised, perturbed
//! model (fixtures from `tools/gen_yolov8_fixtures.py`): raw head outputs
//! and boxes after NMS, on a tensor input and through the frame path
//! (letterbox, NMS, scaling back).

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use frame_select::detect::DetectError;
use frame_select::detect::yolo::{YoloConfig, YoloV8, YoloVariant, non_max_suppression};
use ndarray::Array3;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/yolov8")
        .join(name)
}

fn tensors() -> (Vec<u8>, serde_json::Value) {
    let bytes = std::fs::read(fixture("reference.safetensors")).unwrap();
    let json =
        serde_json::from_str(&std::fs::read_to_string(fixture("reference.json")).unwrap()).unwrap();
    (bytes, json)
}

fn f32s(st: &safetensors::SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let v = st.tensor(name).unwrap();
    (
        v.shape().to_vec(),
        v.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

fn boxes_of(v: &serde_json::Value) -> Vec<[f32; 5]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let b: Vec<f32> = b
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            [b[0], b[1], b[2], b[3], b[4]]
        })
        .collect()
}

#[test]
fn raw_outputs_and_boxes_match_ultralytics() {
    let device = Default::default();
    let model = YoloV8::<Flex>::load(fixture("yolov8n_random.safetensors"), &device).unwrap();
    assert_eq!(model.variant(), YoloVariant::N);
    assert_eq!(model.num_classes(), 80);
    let (bytes, json) = tensors();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (shape, input) = f32s(&st, "input");
    let (_, want) = f32s(&st, "raw");
    let x = Tensor::<Flex, 4>::from_data(TensorData::new(input, shape), &device);
    let raw = model.forward_raw(x);
    assert_eq!(raw.dims(), [1, 84, 2100]);
    let got: Vec<f32> = raw.into_data().to_vec().unwrap();
    // Boxes are in pixels (up to ~320) and probabilities in [0, 1]: compare
    // each against its own scale.
    let anchors = 2100;
    let (mut box_err, mut cls_err) = (0f32, 0f32);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        let d = (a - b).abs();
        if i / anchors < 4 {
            box_err = box_err.max(d / b.abs().max(1.0))
        } else {
            cls_err = cls_err.max(d)
        }
    }
    eprintln!("raw head: box rel err {box_err:.2e}, class prob abs err {cls_err:.2e}");
    assert!(
        box_err < 1e-4 && cls_err < 1e-4,
        "box {box_err}, class {cls_err}"
    );

    let ours = non_max_suppression(&got, 84, &YoloConfig::default());
    let theirs = boxes_of(&json["boxes"]);
    assert!(theirs.len() >= 3, "fixture should have boxes");
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        for (a, b) in [o.x0, o.y0, o.x1, o.y1, o.score].iter().zip(t) {
            assert!((a - b).abs() < 1e-3, "{o:?} vs {t:?}");
        }
    }
}

#[test]
fn frame_path_matches_ultralytics_predict() {
    let device = Default::default();
    let model = YoloV8::<Flex>::load(fixture("yolov8n_random.safetensors"), &device).unwrap();
    let (bytes, json) = tensors();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = st.tensor("frame").unwrap();
    let frame = Array3::from_shape_vec((300, 410, 3), view.data().to_vec()).unwrap();
    let ours = model
        .detect_frame(frame.view(), &YoloConfig::default(), &device)
        .unwrap();
    let theirs = boxes_of(&json["frame_boxes"]);
    assert!(theirs.len() >= 3);
    assert_eq!(ours.len(), theirs.len());
    let mut worst = [0f32; 5];
    for (o, t) in ours.iter().zip(&theirs) {
        for (k, (a, b)) in [o.x0, o.y0, o.x1, o.y1, o.score].iter().zip(t).enumerate() {
            worst[k] = worst[k].max((a - b).abs());
        }
    }
    eprintln!("frame path: largest differences x0 y0 x1 y1 score = {worst:?}");
    assert!(worst.iter().all(|&w| w < 1e-3), "{worst:?}");
}

#[test]
fn bad_weight_files_are_typed_errors() {
    let device = Default::default();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a safetensors file").unwrap();
    assert!(matches!(
        YoloV8::<Flex>::load(&junk, &device),
        Err(DetectError::Weights { .. })
    ));
    assert!(matches!(
        YoloV8::<Flex>::load(dir.path().join("missing.safetensors"), &device),
        Err(DetectError::Weights { .. })
    ));
    // Drop one tensor: the error names it.
    let bytes = std::fs::read(fixture("yolov8n_random.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "model.12.cv1.conv.weight")
        .collect();
    let cut = dir.path().join("cut.safetensors");
    safetensors::serialize_to_file(kept, None, &cut).unwrap();
    let err = YoloV8::<Flex>::load(&cut, &device).unwrap_err().to_string();
    assert!(err.contains("model.12.cv1.conv.weight"), "{err}");
}

#[test]
fn the_person_detector_runs_from_several_threads_at_once() {
    use frame_select::detect::PersonDetector;
    use frame_select::detect::yolo::YoloPersonDetector;
    let detector =
        YoloPersonDetector::load(fixture("yolov8n_random.safetensors"), YoloConfig::default())
            .unwrap();
    assert_eq!(detector.name(), "yolov8n");
    let (bytes, _) = tensors();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let frame =
        Array3::from_shape_vec((300, 410, 3), st.tensor("frame").unwrap().data().to_vec()).unwrap();
    let alone = detector.detect(frame.view()).unwrap();
    assert!(!alone.is_empty());
    let together: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| detector.detect(frame.view()).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(together.iter().all(|d| d == &alone));
}

/// A fixture tensor: dtype, shape, little-endian bytes.
type Owned = (safetensors::Dtype, Vec<usize>, Vec<u8>);

/// Writes the YOLOv8n fixture to `dir/name` with `edit` applied to each
/// tensor (`None` drops it).
fn rewritten(dir: &Path, name: &str, edit: impl Fn(&str, Owned) -> Option<Owned>) -> PathBuf {
    let bytes = std::fs::read(fixture("yolov8n_random.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let owned: Vec<(String, Owned)> = st
        .tensors()
        .into_iter()
        .filter_map(|(n, v)| {
            let t = (v.dtype(), v.shape().to_vec(), v.data().to_vec());
            edit(&n, t).map(|t| (n, t))
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, (d, s, b))| {
            let view = safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap();
            (n.clone(), view)
        })
        .collect();
    let path = dir.join(name);
    safetensors::serialize_to_file(views, None, &path).unwrap();
    path
}

/// The first `keep` rows (along the first axis) of a tensor.
fn first_rows((dtype, shape, bytes): Owned, keep: usize) -> Owned {
    let per_row = bytes.len() / shape[0];
    let mut shape = shape;
    shape[0] = keep;
    (dtype, shape, bytes[..keep * per_row].to_vec())
}

fn load_err(path: &Path) -> String {
    let err = YoloV8::<Flex>::load(path, &Default::default()).unwrap_err();
    assert!(matches!(err, DetectError::Weights { .. }), "{err}");
    err.to_string()
}

/// Mis-shaped tensors are refused while loading, naming the key, the
/// expected and the found shape and the file. Before, a short BatchNorm
/// vector panicked (index out of bounds) while folding, and a short
/// convolution only failed in a dry forward pass under `catch_unwind`.
#[test]
fn mis_shaped_tensors_are_errors_naming_key_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    // yolov8n: model.2 is C2f(32, 32, n=1), so its bottleneck convs are
    // 16 -> 16 channels; model.12 is C2f(256 + 128, 128), cv1 128 -> ...
    let short_bn = rewritten(dir.path(), "short_bn.safetensors", |n, t| {
        Some(if n == "model.2.m.0.cv1.bn.running_var" {
            first_rows(t, 8)
        } else {
            t
        })
    });
    let err = load_err(&short_bn);
    assert!(
        err.contains("mis-shaped 1 (model.2.m.0.cv1.bn.running_var: expected [16], found [8])"),
        "{err}"
    );
    assert!(err.contains("short_bn.safetensors"), "{err}");
    let short_conv = rewritten(dir.path(), "short_conv.safetensors", |n, t| {
        Some(if n == "model.12.cv1.conv.weight" {
            first_rows(t, 64)
        } else {
            t
        })
    });
    let err = load_err(&short_conv);
    assert!(
        err.contains("model.12.cv1.conv.weight: expected [128, 384, 1, 1], found [64, 384, 1, 1]"),
        "{err}"
    );
    // A first layer without four dimensions (indexed to find the variant).
    let flat_stem = rewritten(dir.path(), "flat_stem.safetensors", |n, (d, s, b)| {
        Some(if n == "model.0.conv.weight" {
            (d, vec![s.iter().product()], b)
        } else {
            (d, s, b)
        })
    });
    let err = load_err(&flat_stem);
    assert!(err.contains("model.0.conv.weight has shape [432]"), "{err}");
}

/// A removed tensor is reported as missing, by key.
#[test]
fn missing_tensors_are_named_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let cut = rewritten(dir.path(), "cut.safetensors", |n, t| {
        (n != "model.22.cv3.1.1.bn.bias").then_some(t)
    });
    let err = load_err(&cut);
    assert!(
        err.contains("missing 1 (model.22.cv3.1.1.bn.bias)"),
        "{err}"
    );
    // Unchanged weights load: the rewriting itself is lossless.
    let same = rewritten(dir.path(), "same.safetensors", |_, t| Some(t));
    YoloV8::<Flex>::load(&same, &Default::default()).unwrap();
}

/// IEEE binary16 by its definition, independent of the crate's bit
/// manipulation: (-1)^s * 2^(e - 15) * (1 + f / 1024), subnormals
/// 2^-14 * f / 1024.
fn half_value(h: u16) -> f32 {
    let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let e = i32::from((h >> 10) & 0x1f);
    let f = f64::from(h & 0x3ff);
    let v = match e {
        0 => 2f64.powi(-14) * f / 1024.0,
        31 => panic!("the fixture holds no inf/NaN"),
        e => 2f64.powi(e - 15) * (1.0 + f / 1024.0),
    };
    (sign * v) as f32
}

fn raw_output(path: &Path) -> Vec<f32> {
    let device = Default::default();
    let model = YoloV8::<Flex>::load(path, &device).unwrap();
    let x = Tensor::<Flex, 4>::from_data(
        TensorData::new(
            (0..3 * 64 * 64)
                .map(|i| (i % 97) as f32 / 97.0)
                .collect::<Vec<_>>(),
            [1, 3, 64, 64],
        ),
        &device,
    );
    model.forward_raw(x).into_data().to_vec().unwrap()
}

/// The F16 fixture, the same values widened to F32, and BF16 (with the F32
/// file rounded the same way) load to identical models.
#[test]
fn f16_and_bf16_weights_equal_their_f32_widening() {
    use safetensors::Dtype;
    let dir = tempfile::tempdir().unwrap();
    let as_f32 = |b: &[u8]| -> Vec<u8> {
        b.chunks_exact(2)
            .flat_map(|p| half_value(u16::from_le_bytes([p[0], p[1]])).to_le_bytes())
            .collect()
    };
    let f32_file = rewritten(dir.path(), "f32.safetensors", |_, (d, s, b)| {
        Some(match d {
            Dtype::F16 => (Dtype::F32, s, as_f32(&b)),
            _ => (d, s, b),
        })
    });
    let bytes = std::fs::read(fixture("yolov8n_random.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let f16_count = st
        .tensors()
        .iter()
        .filter(|(_, v)| v.dtype() == Dtype::F16)
        .count();
    assert!(f16_count > 100, "the fixture is stored as F16");
    let ours = raw_output(&fixture("yolov8n_random.safetensors"));
    let widened = raw_output(&f32_file);
    assert!(ours.iter().all(|v| v.is_finite()));
    assert_eq!(ours, widened);
    // BF16 keeps the top 16 bits of an f32: truncate the widened values.
    let top = |b: &[u8]| -> Vec<[u8; 4]> {
        b.chunks_exact(2)
            .map(|p| half_value(u16::from_le_bytes([p[0], p[1]])).to_bits() & 0xffff_0000)
            .map(u32::to_le_bytes)
            .collect()
    };
    let bf16 = rewritten(dir.path(), "bf16.safetensors", |_, (d, s, b)| {
        Some(match d {
            Dtype::F16 => (
                Dtype::BF16,
                s,
                top(&b).iter().flat_map(|w| [w[2], w[3]]).collect(),
            ),
            _ => (d, s, b),
        })
    });
    let bf16_f32 = rewritten(dir.path(), "bf16_f32.safetensors", |_, (d, s, b)| {
        Some(match d {
            Dtype::F16 => (Dtype::F32, s, top(&b).concat()),
            _ => (d, s, b),
        })
    });
    let a = raw_output(&bf16);
    assert_eq!(a, raw_output(&bf16_f32));
    assert_ne!(a, ours, "bf16 rounding changed the weights");
}
