//! Helpers shared by the fixture tests.

use burn::backend::Flex;
use burn::tensor::Tensor;
use safetensors::SafeTensors;

/// An f32 tensor of a safetensors file: values and shape.
pub fn read_f32(t: &SafeTensors, name: &str) -> (Vec<f32>, Vec<usize>) {
    let v = t.tensor(name).unwrap();
    assert_eq!(v.dtype(), safetensors::Dtype::F32, "{name}");
    let data = v
        .data()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (data, v.shape().to_vec())
}

/// Largest absolute difference, NaN counting as infinitely far.
// Each test binary compiles this module; not all of them use this.
#[allow(dead_code)]
pub fn max_abs_diff<const D: usize>(ours: Tensor<Flex, D>, reference: &[f32]) -> f32 {
    let ours: Vec<f32> = ours.into_data().to_vec().unwrap();
    assert_eq!(ours.len(), reference.len());
    ours.iter()
        .zip(reference)
        .map(|(a, b)| {
            if (a - b).is_nan() {
                f32::INFINITY
            } else {
                (a - b).abs()
            }
        })
        .fold(0.0, f32::max)
}
