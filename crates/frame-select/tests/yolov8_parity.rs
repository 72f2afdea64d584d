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
