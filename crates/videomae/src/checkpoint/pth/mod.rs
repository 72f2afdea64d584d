//! A strict, bounded reader of PyTorch `.pth` checkpoints (the zip format
//! of `torch.save` since torch 1.6, and the legacy format before it;
//! pickle protocols 0-5), written for files from the internet:
//!
//! - nothing in the file is executed (`pickle.rs`);
//! - every tensor of the state dict must have its storage entry, of
//!   exactly `numel × element size` bytes, and its view (offset, size,
//!   stride) must lie inside it; strides are honoured (`tensor.rs`);
//! - what is allocated is bounded by the file's real size: declared
//!   lengths are checked against the bytes present, compressed entries
//!   against a ratio and a budget (`zip.rs`), and the output against the
//!   storages it comes from; nesting is capped and nothing recurses on the
//!   file's structure (`value.rs`).
//!
//! Errors name the file (through [`CheckpointError::Format`]) and the
//! tensor's key.

mod calls;
mod legacy;
mod pickle;
mod tensor;
mod value;
mod zip;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;
use std::rc::Rc;

use self::tensor::TensorRef;
use self::value::{Dict, MAX_DEPTH, Value, short};
use crate::checkpoint::{CheckpointError, TensorMap};
use crate::io::open_regular;

/// A tensor of the pickle, or why its rebuild is malformed.
type Tensor = Rc<Result<TensorRef, String>>;

/// Reads the state dict of a `.pth` file: under `model`, `module` or
/// `state_dict` when one of them is a dict, else the top level (nested
/// dicts give dotted names); leading `_orig_mod.` and `module.` prefixes
/// are removed, however many.
pub(crate) fn read_state_dict(path: &Path) -> Result<TensorMap, CheckpointError> {
    let io = CheckpointError::io(path);
    let format = CheckpointError::format(path);
    let (mut file, file_len) = open_regular(path)?;
    let mut magic = [0u8; 4];
    let got = file.read(&mut magic).map_err(io)?;
    let (mut source, root, pickle_len, big_endian) = match &magic[..got] {
        [b'P', b'K', ..] => {
            // The zip reader seeks from the start.
            file.rewind().map_err(io)?;
            let mut archive = zip::Archive::open(file, file_len).map_err(format)?;
            let big_endian = archive.big_endian().map_err(format)?;
            let pickle = archive.pickle().map_err(format)?;
            let root = pickle::load(&pickle)
                .map_err(|e| format(format!("data.pkl: {e}")))?
                .value;
            (Source::Zip(archive), root, pickle.len(), big_endian)
        }
        [0x80, ..] => {
            // Sized once: growing by doubling would peak at twice the file.
            let mut bytes = Vec::with_capacity(file_len as usize);
            bytes.extend_from_slice(&magic[..got]);
            // At most the size the file had when opened.
            (&mut file)
                .take(file_len.saturating_sub(got as u64))
                .read_to_end(&mut bytes)
                .map_err(io)?;
            let (root, legacy) = legacy::Legacy::open(bytes).map_err(format)?;
            (Source::Legacy(legacy), root, file_len as usize, false)
        }
        _ => {
            return Err(format(
                "not a PyTorch checkpoint (torch.save writes a zip archive)".into(),
            ));
        }
    };
    let tensors = state_dict_tensors(root, pickle_len as u64).map_err(format)?;

    // Names as the model knows them, each once; messages use the file's.
    type View = (String, String, Tensor);
    let mut by_storage: BTreeMap<String, Vec<View>> = BTreeMap::new();
    let mut names = BTreeMap::new();
    for (name, t) in tensors {
        // In any order and number: DataParallel around a compiled model
        // saves `module._orig_mod.`, a compiled DataParallel the reverse.
        let mut key = name.as_str();
        while let Some(rest) = ["_orig_mod.", "module."]
            .iter()
            .find_map(|p| key.strip_prefix(p))
        {
            key = rest;
        }
        let key = key.to_owned();
        if names.insert(key.clone(), ()).is_some() {
            return Err(format(format!("key {} appears twice", short(&key))));
        }
        let t_ref = match &*t {
            Ok(r) => r,
            Err(e) => return Err(format(format!("tensor {}: {e}", short(&name)))),
        };
        by_storage
            .entry(t_ref.storage.key.clone())
            .or_default()
            .push((key, name, t));
    }

    // One storage at a time: read its entry once, cut its tensors out.
    let mut out = TensorMap::new();
    let mut budget = file_len.saturating_add(1 << 20);
    for (key, views) in by_storage {
        let first = &views[0].1;
        let named = |m: String| format(format!("tensor {}: {m}", short(first)));
        let storage = &view(&views[0].2).storage;
        for (_, name, t) in &views {
            let s = &view(t).storage;
            if s.dtype != storage.dtype || s.numel != storage.numel {
                return Err(format(format!(
                    "tensor {}: storage {} is declared as {} x {} here and {} x {} for {}",
                    short(name),
                    short(&key),
                    s.dtype.name(),
                    s.numel,
                    storage.dtype.name(),
                    storage.numel,
                    short(first)
                )));
            }
        }
        let shown = source.entry_name(&key);
        if !source.has(&key) {
            return Err(named(format!(
                "storage entry {shown} is missing (unknown storage key {})",
                short(&key)
            )));
        }
        let elem = storage
            .dtype
            .size()
            .ok_or_else(|| named(format!("unsupported dtype {}", storage.dtype.name())))?;
        let need = storage
            .numel
            .checked_mul(elem)
            .filter(|&n| n <= file_len)
            .ok_or_else(|| {
                named(format!(
                    "storage {} claims {} elements, more than the file holds",
                    short(&key),
                    storage.numel
                ))
            })?;
        let data = source
            .read(&key, elem, need)
            .map_err(&named)?
            .ok_or_else(|| named(format!("storage entry {shown} is missing")))?;
        if data.len() as u64 != need {
            return Err(named(format!(
                "entry {shown} holds {} bytes; its storage needs {need} ({} elements of {elem} bytes)",
                data.len(),
                storage.numel
            )));
        }
        for (key, name, t) in views {
            let v = view(&t)
                .to_f32(&data, big_endian, &mut budget)
                .map_err(|m| format(format!("tensor {}: {m}", short(&name))))?;
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// Where the storages are.
enum Source {
    Zip(zip::Archive),
    Legacy(legacy::Legacy),
}

impl Source {
    fn has(&self, key: &str) -> bool {
        match self {
            Source::Zip(a) => a.has(&format!("data/{key}")),
            Source::Legacy(l) => l.has(key),
        }
    }

    /// The storage's name for messages.
    fn entry_name(&self, key: &str) -> String {
        match self {
            Source::Zip(a) => a.entry_name(&format!("data/{key}")),
            Source::Legacy(_) => format!("{} (legacy format)", short(key)),
        }
    }

    /// The storage's bytes; at most `need` read from a zip.
    fn read(&mut self, key: &str, elem: u64, need: u64) -> Result<Option<Cow<'_, [u8]>>, String> {
        match self {
            Source::Zip(a) => Ok(a.read(&format!("data/{key}"), need)?.map(Cow::Owned)),
            Source::Legacy(l) => Ok(l.read(key, elem).map(Cow::Borrowed)),
        }
    }
}

/// A view whose rebuild was checked to be well formed.
fn view(t: &Tensor) -> &TensorRef {
    t.as_ref()
        .as_ref()
        .expect("malformed rebuilds were returned as errors")
}

/// The tensors of the state dict in `root`, with dotted names. The walk is
/// iterative and bounded: a dict shared many times (or holding itself)
/// could otherwise make it exponential or endless.
fn state_dict_tensors(root: Value, pickle_len: u64) -> Result<Vec<(String, Tensor)>, String> {
    let Value::Dict(root) = root else {
        return Err(format!(
            "the checkpoint holds a {}, not a dict of tensors (a whole-model save? \
             save model.state_dict() instead)",
            root.kind()
        ));
    };
    let chosen = ["model", "module", "state_dict"]
        .iter()
        .find_map(|k| match root.get(k) {
            Some(Value::Dict(d)) => Some(d),
            _ => None,
        })
        .unwrap_or_else(|| root.clone());
    // Each entry of an unshared dict costs the pickle a few bytes.
    let mut visits = pickle_len.saturating_add(1024);
    let mut name_bytes = pickle_len.saturating_mul(4).saturating_add(1 << 20);
    let mut out = Vec::new();
    let mut stack: Vec<(String, Rc<Dict>, u32)> = vec![(String::new(), chosen, 0)];
    while let Some((prefix, dict, depth)) = stack.pop() {
        for (k, v) in dict.items.borrow().iter() {
            visits = visits
                .checked_sub(1)
                .ok_or("the pickle's dicts are shared too often to walk (a crafted file?)")?;
            let key = match (k, v) {
                (Value::Str(s), _) => s.to_string(),
                (Value::Int(i), _) => i.to_string(),
                (_, Value::Dict(_) | Value::Tensor(_)) => {
                    return Err(format!(
                        "a dict under {:?} has a {} key",
                        short(&prefix),
                        k.kind()
                    ));
                }
                _ => continue,
            };
            let name = if prefix.is_empty() {
                key
            } else {
                format!("{prefix}.{key}")
            };
            match v {
                Value::Dict(d) => {
                    if depth + 1 >= MAX_DEPTH {
                        return Err(format!("dicts nest deeper than {MAX_DEPTH} levels"));
                    }
                    name_bytes = name_bytes
                        .checked_sub(name.len() as u64)
                        .ok_or("the state dict's names are longer than the file")?;
                    stack.push((name, d.clone(), depth + 1));
                }
                Value::Tensor(t) => {
                    name_bytes = name_bytes
                        .checked_sub(name.len() as u64)
                        .ok_or("the state dict's names are longer than the file")?;
                    out.push((name, t.clone()));
                }
                _ => {}
            }
        }
    }
    Ok(out)
}
