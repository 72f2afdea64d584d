//! The legacy format of `torch.save` before torch 1.6 (and with
//! `_use_new_zipfile_serialization=False`): five pickles in a row (magic
//! number, format version, system info, the object, the sorted storage
//! keys), then each storage in key order as a little-endian `int64`
//! element count followed by its raw little-endian elements.
//!
//! Read with the same interpreter and checks as the zip format: every
//! count must agree with the persistent id and fit in the file.

use std::collections::HashMap;
use std::rc::Rc;

use super::pickle;
use super::tensor::{Dtype, Storage};
use super::value::{Value, short};

/// `torch.serialization.MAGIC_NUMBER` as pickle's LONG1 writes it.
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// The only legacy format version torch wrote.
const VERSION: i64 = 1001;

/// A legacy file read into memory.
pub(crate) struct Legacy {
    bytes: Vec<u8>,
    /// Storage key: (byte offset of its elements, element count).
    storages: HashMap<String, (usize, u64)>,
}

/// Bytes per element of any storage type, for skipping storages the
/// state dict does not use (their values are never converted).
fn element_size(dtype: &Dtype) -> Option<u64> {
    if let Some(n) = dtype.size() {
        return Some(n);
    }
    let Dtype::Other(name) = dtype else {
        return None;
    };
    match name.strip_prefix("torch.")? {
        "LongStorage" | "ComplexFloatStorage" => Some(8),
        "IntStorage" | "QInt32Storage" => Some(4),
        "ShortStorage" => Some(2),
        "CharStorage" | "ByteStorage" | "BoolStorage" | "QUInt8Storage" | "QInt8Storage" => Some(1),
        "ComplexDoubleStorage" => Some(16),
        _ => None,
    }
}

impl Legacy {
    /// Reads the pickles of `bytes`; returns the object and the storages.
    pub fn open(bytes: Vec<u8>) -> Result<(Value, Legacy), String> {
        let mut pos = 0;
        let mut next = |what: &str| -> Result<pickle::Loaded, String> {
            let loaded = pickle::load(&bytes[pos..])
                .map_err(|e| format!("legacy format, {what} pickle (at byte {pos}): {e}"))?;
            pos += loaded.end;
            Ok(loaded)
        };
        let magic = next("magic number")?;
        if !bytes[..magic.end].windows(MAGIC.len()).any(|w| w == MAGIC) {
            return Err("not a PyTorch checkpoint (no torch.save magic number)".into());
        }
        if !matches!(next("version")?.value, Value::Int(VERSION)) {
            return Err(format!("legacy format version is not {VERSION}"));
        }
        let info = next("system info")?;
        let little = match &info.value {
            Value::Dict(d) => d.get("little_endian"),
            _ => None,
        };
        if !matches!(little, Some(Value::Bool(true))) {
            return Err("legacy file from a big-endian machine: not supported".into());
        }
        let main = next("checkpoint")?;
        let keys = next("storage keys")?;
        let mut declared: HashMap<&str, &Rc<Storage>> = HashMap::new();
        for s in &main.storages {
            declared.insert(&s.key, s);
        }
        let Value::List(list) = &keys.value else {
            return Err(format!("legacy storage keys are a {}", keys.value.kind()));
        };
        let mut storages = HashMap::new();
        for key in list.items.borrow().iter() {
            let key = match key {
                Value::Str(s) => s.to_string(),
                Value::Int(i) => i.to_string(),
                other => return Err(format!("legacy storage key is a {}", other.kind())),
            };
            let s = declared
                .get(key.as_str())
                .ok_or_else(|| format!("legacy storage {} is never used", short(&key)))?;
            let elem = element_size(&s.dtype)
                .ok_or_else(|| format!("legacy storage {}: unknown element size", short(&key)))?;
            let header = bytes.get(pos..pos + 8).ok_or_else(|| {
                format!("legacy storage {} is missing (file truncated)", short(&key))
            })?;
            let numel = u64::from_le_bytes(header.try_into().expect("8 bytes"));
            let len = numel
                .checked_mul(elem)
                .filter(|&n| n <= (bytes.len() - pos - 8) as u64)
                .ok_or_else(|| {
                    format!(
                        "legacy storage {} of {numel} elements runs past the end of the file",
                        short(&key)
                    )
                })?;
            if storages.insert(key.clone(), (pos + 8, numel)).is_some() {
                return Err(format!("legacy storage {} is listed twice", short(&key)));
            }
            pos += 8 + len as usize;
        }
        drop(keys);
        Ok((main.value, Legacy { bytes, storages }))
    }

    /// Whether storage `key` is in the file.
    pub fn has(&self, key: &str) -> bool {
        self.storages.contains_key(key)
    }

    /// The bytes of storage `key`: its element count (as the file records
    /// it) times `elem`.
    pub fn read(&self, key: &str, elem: u64) -> Option<&[u8]> {
        let &(at, numel) = self.storages.get(key)?;
        // Checked against the file's length in `open` (with this storage's
        // element size, the one `elem` is).
        self.bytes.get(at..at + (numel * elem) as usize)
    }
}
