//! Storages and tensor views of a `.pth`, and their strict conversion to
//! contiguous `f32`: the storage's bytes must be exactly `numel` elements,
//! and the view (offset, size, stride) must lie inside them. Strides are
//! honoured, so a transposed view loads transposed.

use std::rc::Rc;

use super::value::{Value, short};
use crate::tensors::{bf16_to_f32, f16_to_f32};

/// Element type of a storage.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Dtype {
    F32,
    F64,
    F16,
    BF16,
    /// `torch.UntypedStorage`: bytes; the tensor names its dtype (v3).
    Bytes,
    /// A storage or dtype this reader does not convert (named as in the
    /// file, e.g. `LongStorage`).
    Other(String),
}

impl Dtype {
    /// From a storage class name (`torch.FloatStorage` ...).
    pub fn from_storage(module: &str, name: &str) -> Dtype {
        match (module, name) {
            ("torch", "FloatStorage") => Dtype::F32,
            ("torch", "DoubleStorage") => Dtype::F64,
            ("torch", "HalfStorage") => Dtype::F16,
            ("torch", "BFloat16Storage") => Dtype::BF16,
            ("torch", "UntypedStorage") => Dtype::Bytes,
            _ => Dtype::Other(format!("{}.{}", short(module), short(name))),
        }
    }

    /// From a dtype object (`torch.float32` ...), as `_rebuild_tensor_v3`
    /// passes it.
    pub fn from_dtype(module: &str, name: &str) -> Dtype {
        match (module, name) {
            ("torch", "float32" | "float") => Dtype::F32,
            ("torch", "float64" | "double") => Dtype::F64,
            ("torch", "float16" | "half") => Dtype::F16,
            ("torch", "bfloat16") => Dtype::BF16,
            ("torch", "uint8") => Dtype::Bytes,
            _ => Dtype::Other(format!("{}.{}", short(module), short(name))),
        }
    }

    /// Bytes per element (`None`: not convertible).
    pub fn size(&self) -> Option<u64> {
        match self {
            Dtype::F32 => Some(4),
            Dtype::F64 => Some(8),
            Dtype::F16 | Dtype::BF16 => Some(2),
            Dtype::Bytes => Some(1),
            Dtype::Other(_) => None,
        }
    }

    /// The dtype's name, for messages.
    pub fn name(&self) -> String {
        match self {
            Dtype::F32 => "float32".into(),
            Dtype::F64 => "float64".into(),
            Dtype::F16 => "float16".into(),
            Dtype::BF16 => "bfloat16".into(),
            Dtype::Bytes => "uint8".into(),
            Dtype::Other(s) => s.clone(),
        }
    }
}

/// A storage named by a persistent id `('storage', type, key, location,
/// numel)`: `numel` elements of `dtype` in the archive entry `data/<key>`.
#[derive(Debug)]
pub(crate) struct Storage {
    pub key: String,
    pub dtype: Dtype,
    pub numel: u64,
}

/// A tensor view of a storage.
#[derive(Debug)]
pub(crate) struct TensorRef {
    pub storage: Rc<Storage>,
    /// The tensor's dtype (the storage's, unless the storage is untyped).
    pub dtype: Dtype,
    pub offset: u64,
    pub size: Vec<u64>,
    pub stride: Vec<u64>,
}

/// More dimensions than any real tensor has (torch allows 64).
const MAX_DIMS: usize = 64;

fn uint(v: &Value, what: &str) -> Result<u64, String> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as u64),
        Value::Int(i) => Err(format!("negative {what} {i}")),
        Value::Bool(b) => Ok(*b as u64),
        other => Err(format!("{what} is a {}, not an int", other.kind())),
    }
}

fn uints(v: &Value, what: &str) -> Result<Vec<u64>, String> {
    let Value::Tuple(t) = v else {
        return Err(format!("{what} is a {}, not a tuple", v.kind()));
    };
    let items = t.items.borrow();
    if items.len() > MAX_DIMS {
        return Err(format!("{what} has {} dimensions", items.len()));
    }
    items.iter().map(|x| uint(x, what)).collect()
}

/// The tensor of `_rebuild_tensor(_v2|_v3)(storage, offset, size, stride,
/// ...)`; `dtype` is v3's explicit dtype.
pub(crate) fn rebuild(args: &[Value], dtype: Option<&Value>) -> Result<TensorRef, String> {
    let [storage, offset, size, stride, ..] = args else {
        return Err(format!("tensor rebuild with {} arguments", args.len()));
    };
    let Value::Storage(storage) = storage else {
        return Err(format!("tensor storage is a {}", storage.kind()));
    };
    let offset = uint(offset, "storage offset")?;
    let size = uints(size, "size")?;
    let stride = uints(stride, "stride")?;
    if size.len() != stride.len() {
        return Err(format!(
            "size has {} dimensions but stride {}",
            size.len(),
            stride.len()
        ));
    }
    let dtype = match (dtype, &storage.dtype) {
        (Some(Value::Global(g)), Dtype::Bytes) => Dtype::from_dtype(&g.0, &g.1),
        (Some(Value::Global(g)), d) if Dtype::from_dtype(&g.0, &g.1) != *d => {
            return Err(format!(
                "dtype {}.{} on a {} storage",
                short(&g.0),
                short(&g.1),
                d.name()
            ));
        }
        (Some(v @ (Value::Str(_) | Value::Int(_) | Value::Tuple(_))), _) => {
            return Err(format!("dtype is a {}", v.kind()));
        }
        (_, d) => d.clone(),
    };
    Ok(TensorRef {
        storage: storage.clone(),
        dtype,
        offset,
        size,
        stride,
    })
}

impl TensorRef {
    /// Number of elements (`None`: overflows).
    pub fn numel(&self) -> Option<u64> {
        self.size.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }

    /// The values as contiguous row-major `f32`, from the storage's bytes
    /// `data` (already checked to be `storage.numel` elements of the
    /// storage dtype). `big_endian`: the archive's byteorder. `budget`:
    /// how many more elements the caller will allocate (a stride-0 view
    /// of one element can claim any size).
    pub fn to_f32(
        &self,
        data: &[u8],
        big_endian: bool,
        budget: &mut u64,
    ) -> Result<(Vec<usize>, Vec<f32>), String> {
        let elem = self
            .dtype
            .size()
            .filter(|_| self.dtype != Dtype::Bytes)
            .ok_or_else(|| format!("unsupported dtype {}", self.dtype.name()))?;
        let storage_bytes = data.len() as u64;
        let numel = self.numel().ok_or("its size overflows")?;
        if numel > *budget {
            return Err(format!(
                "its {numel} elements exceed what the file can hold (size {})",
                short_list(&self.size)
            ));
        }
        *budget -= numel;
        let shape: Vec<usize> = self.size.iter().map(|&d| d as usize).collect();
        if numel == 0 {
            if self.offset.saturating_mul(elem) > storage_bytes {
                return Err(format!(
                    "storage offset {} is past the storage",
                    self.offset
                ));
            }
            return Ok((shape, Vec::new()));
        }
        // The last element the view touches must lie inside the storage.
        let last = self
            .size
            .iter()
            .zip(&self.stride)
            .try_fold(self.offset, |a, (&n, &s)| {
                (n - 1).checked_mul(s).and_then(|x| a.checked_add(x))
            })
            .and_then(|l| l.checked_add(1))
            .and_then(|l| l.checked_mul(elem));
        match last {
            Some(end) if end <= storage_bytes => {}
            _ => {
                return Err(format!(
                    "view (offset {}, size {}, stride {}) reaches past its storage of {} bytes",
                    self.offset,
                    short_list(&self.size),
                    short_list(&self.stride),
                    storage_bytes
                ));
            }
        }
        let dtype = &self.dtype;
        let read = |i: u64| -> f32 {
            let at = (i * elem) as usize;
            decode(dtype, &data[at..at + elem as usize], big_endian)
        };
        // Row-major contiguous (size-1 dimensions aside), as nearly every
        // saved tensor is: one pass over the bytes.
        let mut expect = 1u64;
        let contiguous = self.size.iter().zip(&self.stride).rev().all(|(&n, &s)| {
            let ok = n == 1 || s == expect;
            expect = expect.saturating_mul(n);
            ok
        });
        if contiguous {
            let start = (self.offset * elem) as usize;
            let bytes = &data[start..start + (numel * elem) as usize];
            let out = bytes
                .chunks_exact(elem as usize)
                .map(|b| decode(dtype, b, big_endian))
                .collect();
            return Ok((shape, out));
        }
        let mut out = Vec::with_capacity(numel as usize);
        // An odometer over the output index, row-major; `src` follows the
        // strides. Every source index read is < `last`, checked above;
        // wrapping arithmetic because the step past a size-1 dimension
        // with a huge stride is never read.
        let dims = self.size.len();
        let mut index = vec![0u64; dims];
        let mut src = self.offset;
        for _ in 0..numel {
            out.push(read(src));
            for d in (0..dims).rev() {
                index[d] += 1;
                src = src.wrapping_add(self.stride[d]);
                if index[d] < self.size[d] {
                    break;
                }
                src = src.wrapping_sub(self.stride[d].wrapping_mul(self.size[d]));
                index[d] = 0;
            }
        }
        Ok((shape, out))
    }
}

/// One element of `dtype` from its bytes.
fn decode(dtype: &Dtype, b: &[u8], big_endian: bool) -> f32 {
    let mut buf = [0u8; 8];
    buf[..b.len()].copy_from_slice(b);
    if big_endian {
        buf[..b.len()].reverse();
    }
    match dtype {
        Dtype::F32 => f32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]),
        Dtype::F64 => f64::from_le_bytes(buf) as f32,
        Dtype::F16 => f16_to_f32(u16::from_le_bytes([buf[0], buf[1]])),
        Dtype::BF16 => bf16_to_f32(u16::from_le_bytes([buf[0], buf[1]])),
        // Refused by `to_f32`.
        Dtype::Bytes | Dtype::Other(_) => f32::NAN,
    }
}

/// A list for a message: at most 8 items.
fn short_list(v: &[u64]) -> String {
    if v.len() <= 8 {
        format!("{v:?}")
    } else {
        format!("{:?}... ({} items)", &v[..8], v.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(dtype: Dtype, numel: u64, offset: u64, size: &[u64], stride: &[u64]) -> TensorRef {
        TensorRef {
            storage: Rc::new(Storage {
                key: "0".into(),
                dtype: dtype.clone(),
                numel,
            }),
            dtype,
            offset,
            size: size.to_vec(),
            stride: stride.to_vec(),
        }
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn half_precision_converts_exactly() {
        for (h, f) in [
            (0x3c00u16, 1.0f32),
            (0xc000, -2.0),
            (0x3555, 0.333_251_95),
            (0x0001, 5.960_464_5e-8),
            (0x7bff, 65504.0),
            (0x0000, 0.0),
        ] {
            assert_eq!(f16_to_f32(h), f, "{h:#x}");
        }
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn a_transposed_view_is_gathered_in_row_major_order() {
        // Storage holds the 2x3 matrix [[0,1,2],[3,4,5]]; its transpose is
        // the view size (3,2) stride (1,3): [[0,3],[1,4],[2,5]].
        let data = f32_bytes(&[0., 1., 2., 3., 4., 5.]);
        let t = view(Dtype::F32, 6, 0, &[3, 2], &[1, 3]);
        let (shape, v) = t.to_f32(&data, false, &mut 1000).unwrap();
        assert_eq!(shape, [3, 2]);
        assert_eq!(v, [0., 3., 1., 4., 2., 5.]);
        // An offset view: the last row, [3,4,5].
        let t = view(Dtype::F32, 6, 3, &[3], &[1]);
        assert_eq!(t.to_f32(&data, false, &mut 1000).unwrap().1, [3., 4., 5.]);
    }

    #[test]
    fn views_past_the_storage_are_refused() {
        let data = f32_bytes(&[0.; 6]);
        for (offset, size, stride) in [
            (7, vec![0u64], vec![1u64]),
            (1, vec![6], vec![1]),
            (0, vec![2, 3], vec![3, 2]),
            (0, vec![2, 1 << 40], vec![1, 1 << 40]),
        ] {
            let t = view(Dtype::F32, 6, offset, &size, &stride);
            let mut unlimited = u64::MAX;
            let e = t.to_f32(&data, false, &mut unlimited).unwrap_err();
            assert!(e.contains("past"), "{e}");
        }
        // Size 1 with a huge stride touches one element: fine.
        let t = view(Dtype::F32, 6, 2, &[1, 2], &[u64::MAX, 1]);
        assert_eq!(t.to_f32(&data, false, &mut 10).unwrap().1, [0., 0.]);
        // Stride 0 may claim any size; the budget refuses it.
        let t = view(Dtype::F32, 6, 0, &[1 << 40], &[0]);
        let e = t.to_f32(&data, false, &mut 1000).unwrap_err();
        assert!(e.contains("exceed"), "{e}");
    }

    #[test]
    fn big_endian_storages_are_swapped() {
        let data: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        let t = view(Dtype::F32, 2, 0, &[2], &[1]);
        assert_eq!(t.to_f32(&data, true, &mut 1000).unwrap().1, [1.5, -2.0]);
    }
}
