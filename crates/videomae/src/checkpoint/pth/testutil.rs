//! Builders of crafted `.pth` files for tests: pickle bytes written by hand
//! the way `torch.save` writes them (protocol 2), and the zip around them.
//! Shared by the unit tests and `tests/pth_hostile.rs` (included there by
//! path), so it uses only std and the `zip` crate.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

/// One tensor of a crafted state dict.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub name: String,
    /// Storage key (`data/<key>`).
    pub key: String,
    /// Storage class in module `torch`, e.g. `FloatStorage`.
    pub storage: String,
    /// Storage elements as the persistent id declares them.
    pub numel: i64,
    pub offset: i64,
    pub size: Vec<i64>,
    pub stride: Vec<i64>,
}

impl Spec {
    /// A contiguous float32 tensor that fills storage `key`.
    pub fn f32(name: &str, key: &str, size: &[i64]) -> Spec {
        let numel = size.iter().product();
        let mut stride = vec![1; size.len()];
        for d in (0..size.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * size[d + 1];
        }
        Spec {
            name: name.into(),
            key: key.into(),
            storage: "FloatStorage".into(),
            numel,
            offset: 0,
            size: size.to_vec(),
            stride,
        }
    }
}

/// BINUNICODE.
pub(crate) fn text(out: &mut Vec<u8>, s: &str) {
    out.push(b'X');
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

/// BININT (LONG1 beyond 32 bits).
pub(crate) fn int(out: &mut Vec<u8>, v: i64) {
    if let Ok(v) = i32::try_from(v) {
        out.push(b'J');
        out.extend(v.to_le_bytes());
    } else {
        out.extend([0x8a, 8]);
        out.extend(v.to_le_bytes());
    }
}

/// GLOBAL `module name`.
pub(crate) fn global(out: &mut Vec<u8>, module: &str, name: &str) {
    out.push(b'c');
    out.extend(format!("{module}\n{name}\n").as_bytes());
}

fn ints(out: &mut Vec<u8>, v: &[i64]) {
    out.push(b'(');
    for &x in v {
        int(out, x);
    }
    out.push(b't');
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
pub(crate) fn tensor(out: &mut Vec<u8>, t: &Spec) {
    global(out, "torch._utils", "_rebuild_tensor_v2");
    out.push(b'(');
    out.push(b'(');
    text(out, "storage");
    global(out, "torch", &t.storage);
    text(out, &t.key);
    text(out, "cpu");
    int(out, t.numel);
    out.extend(b"tQ");
    int(out, t.offset);
    ints(out, &t.size);
    ints(out, &t.stride);
    out.push(0x89);
    global(out, "collections", "OrderedDict");
    out.extend(b")Rt");
    out.push(b'R');
}

/// A protocol-2 pickle of `{top: {name: tensor, ...}, "epoch": 3}` (or the
/// bare state dict when `top` is `None`).
pub(crate) fn state_dict(top: Option<&str>, tensors: &[Spec]) -> Vec<u8> {
    let mut out = vec![0x80, 2, b'}', b'('];
    if let Some(top) = top {
        text(&mut out, top);
        out.extend(b"}(");
    }
    for t in tensors {
        text(&mut out, &t.name);
        tensor(&mut out, t);
    }
    out.push(b'u');
    if top.is_some() {
        text(&mut out, "epoch");
        int(&mut out, 3);
        out.push(b'u');
    }
    out.push(b'.');
    out
}

/// Little-endian float32 bytes.
pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A zip of `entries` under `archive/`, stored like torch writes them.
pub(crate) fn pth(entries: &[(&str, &[u8])]) -> Vec<u8> {
    pth_with(entries, CompressionMethod::Stored)
}

/// A zip of `entries` under `archive/` with `method`.
pub(crate) fn pth_with(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, data) in entries {
        zip.start_file(format!("archive/{name}"), options)
            .expect("zip entry");
        zip.write_all(data).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}

/// A stored `.pth` of a state dict: `top` as in [`state_dict`], storages
/// `(key, bytes)`.
pub(crate) fn state_dict_pth(
    top: Option<&str>,
    tensors: &[Spec],
    storages: &[(&str, &[u8])],
) -> Vec<u8> {
    let pickle = state_dict(top, tensors);
    let names: Vec<String> = storages.iter().map(|(k, _)| format!("data/{k}")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("data.pkl", &pickle), ("byteorder", b"little")];
    for (name, (_, bytes)) in names.iter().zip(storages) {
        entries.push((name, bytes));
    }
    entries.push(("version", b"3\n"));
    pth(&entries)
}
