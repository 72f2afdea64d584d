//! Helpers shared by the fixture tests.

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
