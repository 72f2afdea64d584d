//! Strict named-tensor loading: the one weight reader behind every model
//! tubelet loads (VideoMAE here, YOLOv8 in frame-select).
//!
//! A [`NamedTensors`] holds a file's tensors as `f32` (F32, F64, F16 and
//! BF16 converted exactly; integer tensors kept aside by name). A model
//! builder [`take`](NamedTensors::take)s each parameter with the exact shape
//! it needs, and nothing is indexed before that check passes; every
//! missing, mis-shaped or left-over tensor is recorded, and
//! [`finish`](NamedTensors::finish) reports them all in one
//! [`KeyMismatch`]. A loader that builds layers on partial weights (a q/v
//! bias silently left at zero, a classifier head of the wrong width) is a
//! known failure of lenient loaders; this one has no such path.
//!
//! ```
//! use videomae::tensors::NamedTensors;
//! let mut t = NamedTensors::new([("fc.weight".to_string(), (vec![2, 3], vec![0.5; 6]))].into());
//! assert_eq!(t.shape("fc.weight"), Some(&[2usize, 3][..]));
//! assert!(t.take("fc.weight", &[3, 2]).is_none()); // wrong shape: recorded, not built
//! let err = t.finish(|k| k.to_string()).unwrap_err();
//! assert_eq!(err.mismatched, vec![("fc.weight".to_string(), vec![3, 2], vec![2, 3])]);
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::io::{FileError, read_file};

/// Named tensors, `(shape, values)`, values in row-major order.
pub type TensorMap = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Keys and shapes named per list in a [`KeyMismatch`] message.
const KEYS_SHOWN: usize = 5;
/// Longest key name shown in a message (a hostile file's names are
/// arbitrary strings).
const KEY_CHARS: usize = 120;

/// Tensors a file and a model disagree on. The message names the first
/// few of each list and counts them; the fields hold them all.
///
/// ```
/// use videomae::tensors::{KeyMismatch, NamedTensors};
/// let mut t = NamedTensors::new([("extra".to_string(), (vec![1], vec![0.0]))].into());
/// assert!(t.take("weight", &[2]).is_none());
/// let err: KeyMismatch = t.finish(|k| k.to_string()).unwrap_err();
/// assert_eq!((err.missing, err.unexpected), (vec!["weight".to_string()], vec!["extra".to_string()]));
/// let twice = KeyMismatch::new(vec!["a".into(), "a".into()], vec![], vec![]);
/// assert_eq!(twice.to_string(), "checkpoint does not match the model: missing 1 (a)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct KeyMismatch {
    /// Parameters the file lacks.
    pub missing: Vec<String>,
    /// Tensors of the file the model does not use.
    pub unexpected: Vec<String>,
    /// `(key, expected shape, found shape)`.
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
}

fn short_key(key: &str) -> String {
    match key.char_indices().nth(KEY_CHARS) {
        Some((i, _)) => format!("{}...", &key[..i]),
        None => key.to_owned(),
    }
}

impl KeyMismatch {
    /// Each list with its repeats removed (first occurrence kept): the
    /// original VideoMAE layout names q, k and v of a block by one fused
    /// key, so one bad tensor can be recorded three times.
    pub fn new(
        missing: Vec<String>,
        unexpected: Vec<String>,
        mut mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    ) -> Self {
        let unique = |v: Vec<String>| {
            let mut seen = HashSet::new();
            v.into_iter()
                .filter(|k| seen.insert(k.clone()))
                .collect::<Vec<_>>()
        };
        let mut seen = HashSet::new();
        mismatched.retain(|(k, _, _)| seen.insert(k.clone()));
        KeyMismatch {
            missing: unique(missing),
            unexpected: unique(unexpected),
            mismatched,
        }
    }

    /// True when the file and the model agree.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatched.is_empty()
    }

    /// "checkpoint does not match the model: missing 2 (a, b); unexpected
    /// 1000 (k0, ..., k4, ...)": a config with 100,000 layers still gives a
    /// short message.
    fn message(&self) -> String {
        fn list(label: &str, items: Vec<String>, total: usize) -> Option<String> {
            (total > 0).then(|| {
                let more = if total > items.len() { ", ..." } else { "" };
                format!("{label} {total} ({}{more})", items.join(", "))
            })
        }
        let names = |v: &[String]| v.iter().take(KEYS_SHOWN).map(|k| short_key(k)).collect();
        let shapes = self
            .mismatched
            .iter()
            .take(KEYS_SHOWN)
            .map(|(k, want, got)| format!("{}: expected {want:?}, found {got:?}", short_key(k)))
            .collect();
        let parts: Vec<String> = [
            list("missing", names(&self.missing), self.missing.len()),
            list("unexpected", names(&self.unexpected), self.unexpected.len()),
            list("mis-shaped", shapes, self.mismatched.len()),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!("checkpoint does not match the model: {}", parts.join("; "))
    }
}

/// A tensor file's contents, consumed key by key while a model is built.
///
/// ```
/// use videomae::tensors::NamedTensors;
/// let mut t = NamedTensors::new([("bias".to_string(), (vec![2], vec![1.0, 2.0]))].into());
/// assert!(t.contains("bias"));
/// assert_eq!(t.take("bias", &[2]), Some(vec![1.0, 2.0]));
/// assert!(!t.contains("bias")); // taken
/// assert!(t.finish(|k| k.to_string()).is_ok()); // all used, every shape right
/// ```
#[derive(Debug, Clone, Default)]
pub struct NamedTensors {
    tensors: TensorMap,
    /// Integer tensors (`num_batches_tracked`, step counters): no weights,
    /// kept by name and shape so that an unused one is still reported.
    integers: BTreeMap<String, Vec<usize>>,
    missing: Vec<String>,
    mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
}

/// IEEE half to single precision, exactly (subnormals, infinities and NaN
/// included).
///
/// ```
/// use videomae::tensors::f16_to_f32;
/// assert_eq!(f16_to_f32(0x3c00), 1.0);
/// assert_eq!(f16_to_f32(0xc000), -2.0);
/// assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // the smallest subnormal
/// assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
/// assert!(f16_to_f32(0x7e00).is_nan());
/// ```
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise.
            let shift = f.leading_zeros() - 21;
            sign | ((127 - 15 + 1 - shift) << 23) | (((f << shift) & 0x3ff) << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 to single precision: its bits are the upper half of an f32's.
///
/// ```
/// use videomae::tensors::bf16_to_f32;
/// assert_eq!(bf16_to_f32(0x3f80), 1.0);
/// assert_eq!(bf16_to_f32(0x4049), 3.140625); // pi, to bfloat16's 8 bits
/// ```
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

impl NamedTensors {
    /// Tensors already in memory (from a `.pth` reader, or built by hand).
    pub fn new(tensors: TensorMap) -> Self {
        NamedTensors {
            tensors,
            ..Self::default()
        }
    }

    /// Reads every tensor of a safetensors file. The read is bounded by the
    /// file's real size (a FIFO or device is refused), and safetensors
    /// checks every tensor's byte length against its shape and dtype
    /// before any is converted. F32, F64, F16 and BF16 become `f32`;
    /// integer and boolean tensors are kept aside by name
    /// ([`discard`](Self::discard) them or they are reported unexpected);
    /// any other dtype is an error naming the tensor.
    pub fn read_safetensors(path: &Path) -> Result<Self, FileError> {
        let bytes = read_file(path, u64::MAX)?;
        let format = |message: String| FileError::Format {
            path: PathBuf::from(path),
            message,
        };
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| format(format!("not a valid safetensors file: {e}")))?;
        let mut out = NamedTensors::default();
        for (name, view) in st.tensors() {
            let data = view.data();
            let half = |convert: fn(u16) -> f32| {
                data.chunks_exact(2)
                    .map(|b| convert(u16::from_le_bytes([b[0], b[1]])))
                    .collect::<Vec<f32>>()
            };
            let values = match view.dtype() {
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                Dtype::F64 => data
                    .chunks_exact(8)
                    .map(|b| {
                        f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
                    })
                    .collect(),
                // Weights saved from mixed-precision training.
                Dtype::F16 => half(f16_to_f32),
                Dtype::BF16 => half(bf16_to_f32),
                Dtype::I64
                | Dtype::I32
                | Dtype::I16
                | Dtype::I8
                | Dtype::U64
                | Dtype::U32
                | Dtype::U16
                | Dtype::U8
                | Dtype::BOOL => {
                    out.integers.insert(name, view.shape().to_vec());
                    continue;
                }
                other => {
                    return Err(format(format!(
                        "tensor {name}: unsupported dtype {other:?}"
                    )));
                }
            };
            out.tensors.insert(name, (view.shape().to_vec(), values));
        }
        Ok(out)
    }

    /// True when the file has a tensor `key` (of any dtype) not yet taken.
    pub fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key) || self.integers.contains_key(key)
    }

    /// The shape of floating-point tensor `key`, if present and not taken:
    /// for the dimensions a model reads from its weights (a class count).
    pub fn shape(&self, key: &str) -> Option<&[usize]> {
        self.tensors.get(key).map(|(shape, _)| shape.as_slice())
    }

    /// The values of `key` if it is a floating-point tensor of exactly
    /// `shape`; otherwise `None`, and the problem (missing, or mis-shaped
    /// with both shapes) is recorded for [`finish`](Self::finish).
    pub fn take(&mut self, key: &str, shape: &[usize]) -> Option<Vec<f32>> {
        match self.tensors.remove(key) {
            Some((found, values))
                if found == shape && values.len() == shape.iter().product::<usize>() =>
            {
                Some(values)
            }
            Some((found, _)) => {
                self.mismatched
                    .push((key.to_owned(), shape.to_vec(), found));
                None
            }
            None => {
                match self.integers.remove(key) {
                    // An integer tensor where weights belong is mis-typed;
                    // reported with its shape, which names the tensor.
                    Some(found) => self
                        .mismatched
                        .push((key.to_owned(), shape.to_vec(), found)),
                    None => self.missing.push(key.to_owned()),
                }
                None
            }
        }
    }

    /// Drops `key` (of any dtype) if present: tensors a model knowingly
    /// ignores, such as BatchNorm's `num_batches_tracked`.
    pub fn discard(&mut self, key: &str) {
        self.tensors.remove(key);
        self.integers.remove(key);
    }

    /// Ok when every tensor was taken (or discarded) and every take found
    /// its shape. `rename` maps key names back to the file's own for the
    /// error (a loader that renamed keys on the way in).
    pub fn finish(self, rename: impl Fn(&str) -> String) -> Result<(), KeyMismatch> {
        let unexpected = self
            .tensors
            .keys()
            .chain(self.integers.keys())
            .map(|k| rename(k))
            .collect();
        let missing = self.missing.iter().map(|k| rename(k)).collect();
        let mismatched = self
            .mismatched
            .into_iter()
            .map(|(k, a, b)| (rename(&k), a, b))
            .collect();
        let problems = KeyMismatch::new(missing, unexpected, mismatched);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values_convert_exactly() {
        // 1, 2^-24 (the smallest subnormal), -2, 65504 (the largest half),
        // 2^-14 (the smallest normal), -inf.
        let h = [0x3c00u16, 0x0001, 0xc000, 0x7bff, 0x0400, 0xfc00];
        let want = [
            1.0,
            5.960_464_5e-8,
            -2.0,
            65504.0,
            6.103_515_6e-5,
            f32::NEG_INFINITY,
        ];
        for (h, want) in h.iter().zip(want) {
            assert_eq!(f16_to_f32(*h), want, "{h:#06x}");
        }
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0xc0a0), -5.0);
    }

    #[test]
    fn every_problem_is_reported_once() {
        let map: TensorMap = [
            ("a".to_string(), (vec![2], vec![1.0, 2.0])),
            ("b".to_string(), (vec![1], vec![3.0])),
            ("left".to_string(), (vec![1], vec![0.0])),
        ]
        .into();
        let mut t = NamedTensors::new(map);
        assert_eq!(t.take("a", &[2]), Some(vec![1.0, 2.0]));
        assert_eq!(t.take("b", &[2]), None);
        assert_eq!(t.take("c", &[1]), None);
        assert_eq!(t.take("c", &[1]), None);
        let e = t.finish(|k| format!("x.{k}")).unwrap_err();
        assert_eq!(e.missing, ["x.c"]);
        assert_eq!(e.unexpected, ["x.left"]);
        assert_eq!(e.mismatched, [("x.b".to_string(), vec![2], vec![1])]);
        assert_eq!(
            e.to_string(),
            "checkpoint does not match the model: missing 1 (x.c); unexpected 1 (x.left); \
             mis-shaped 1 (x.b: expected [2], found [1])"
        );
    }

    #[test]
    fn safetensors_dtypes_are_converted_or_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let le16 = |v: &[u16]| v.iter().flat_map(|h| h.to_le_bytes()).collect::<Vec<u8>>();
        crate::io::write_safetensors(
            &path,
            &[
                ("h".into(), Dtype::F16, vec![2], le16(&[0x3c00, 0xc000])),
                ("b".into(), Dtype::BF16, vec![1], le16(&[0x3f80])),
                (
                    "d".into(),
                    Dtype::F64,
                    vec![1],
                    0.25f64.to_le_bytes().to_vec(),
                ),
                ("n".into(), Dtype::I64, vec![], 7i64.to_le_bytes().to_vec()),
                ("m".into(), Dtype::I64, vec![], 7i64.to_le_bytes().to_vec()),
            ],
        )
        .unwrap();
        let mut t = NamedTensors::read_safetensors(&path).unwrap();
        assert!(t.contains("n"));
        assert_eq!(t.shape("n"), None, "integers are not weights");
        assert_eq!(t.take("h", &[2]), Some(vec![1.0, -2.0]));
        assert_eq!(t.take("b", &[1]), Some(vec![1.0]));
        assert_eq!(t.take("d", &[1]), Some(vec![0.25]));
        t.discard("n");
        let e = t.finish(|k| k.to_owned()).unwrap_err();
        assert_eq!(e.unexpected, ["m"]);
        assert!(e.missing.is_empty() && e.mismatched.is_empty());
    }

    #[test]
    fn a_file_that_is_not_safetensors_is_a_format_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        std::fs::write(&path, b"\xff\xff\xff\xff\xff\xff\xff\x7fjunk").unwrap();
        let e = NamedTensors::read_safetensors(&path).unwrap_err();
        assert!(matches!(e, FileError::Format { .. }), "{e}");
    }
}
