//! The zip container `torch.save` has written since torch 1.6:
//! `<archive>/data.pkl`, `<archive>/data/<key>` per storage, and small
//! records (`byteorder`, `version`, `.data/serialization_id`, ...); the
//! folder name is arbitrary. torch writes entries stored; a compressed
//! entry is read too, but what it may inflate to is bounded: by its
//! declared size (checked, not trusted), by a ratio to its compressed size
//! and by a budget for the whole file, so a zip bomb is an error, not an
//! allocation.

use std::fs::File;
use std::io::{BufReader, Read};

use zip::{CompressionMethod, ZipArchive};

use super::pickle::MAX_PICKLE;
use super::value::short;

/// A compressed entry may inflate to at most this many times its
/// compressed size (plus [`SLACK`]). Real weights barely compress; deflate
/// of zeros reaches ~1000.
const MAX_RATIO: u64 = 64;
/// Bytes any entry may have beyond the ratio (tiny records compress badly).
const SLACK: u64 = 1 << 16;

/// An open `.pth` archive.
pub(crate) struct Archive {
    zip: ZipArchive<BufReader<File>>,
    /// `<archive>/`.
    prefix: String,
    /// Bytes all entries may still inflate to.
    budget: u64,
}

impl Archive {
    /// Opens the archive in `file` of `file_len` bytes.
    pub fn open(file: File, file_len: u64) -> Result<Archive, String> {
        let zip = ZipArchive::new(BufReader::new(file)).map_err(|e| format!("bad zip: {e}"))?;
        let pickles: Vec<&str> = zip
            .file_names()
            .filter(|n| {
                n.strip_suffix("/data.pkl")
                    .is_some_and(|p| !p.is_empty() && !p.contains('/'))
            })
            .collect();
        let prefix = match pickles[..] {
            [one] => one.strip_suffix("data.pkl").expect("filtered").to_owned(),
            [] => {
                return Err(
                    "the zip has no <archive>/data.pkl: not a file written by torch.save".into(),
                );
            }
            [a, b, ..] => {
                return Err(format!(
                    "the zip has {} data.pkl entries ({}, {}, ...)",
                    pickles.len(),
                    short(a),
                    short(b)
                ));
            }
        };
        Ok(Archive {
            zip,
            prefix,
            budget: file_len.saturating_mul(2).saturating_add(64 << 20),
        })
    }

    /// Whether the archive has the entry `<archive>/<name>`.
    pub fn has(&self, name: &str) -> bool {
        self.zip
            .index_for_name(&format!("{}{name}", self.prefix))
            .is_some()
    }

    /// The full name of entry `name`, for messages.
    pub fn entry_name(&self, name: &str) -> String {
        short(&format!("{}{name}", self.prefix))
    }

    /// The bytes of `<archive>/<name>` (`None`: no such entry); at most
    /// `max` bytes, or an error.
    pub fn read(&mut self, name: &str, max: u64) -> Result<Option<Vec<u8>>, String> {
        let full = format!("{}{name}", self.prefix);
        let shown = short(&full);
        let mut entry = match self.zip.by_name(&full) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(format!("entry {shown}: {e}")),
        };
        let size = entry.size();
        let packed = entry.compressed_size();
        if entry.compression() != CompressionMethod::Stored
            && size > packed.saturating_mul(MAX_RATIO).saturating_add(SLACK)
        {
            return Err(format!(
                "entry {shown} declares {size} bytes from {packed} compressed (a zip bomb?)"
            ));
        }
        if size > max {
            return Err(format!(
                "entry {shown} declares {size} bytes where at most {max} are expected"
            ));
        }
        if size > self.budget {
            return Err(format!(
                "entry {shown} declares {size} bytes, more than a file of this size can hold"
            ));
        }
        // Read one byte more than declared: an entry that inflates past its
        // declared size is refused, not followed.
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(size + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("entry {shown}: {e}"))?;
        if buf.len() as u64 != size {
            return Err(format!(
                "entry {shown} holds {}{} bytes but declares {size}",
                buf.len(),
                if buf.len() as u64 > size { "+" } else { "" }
            ));
        }
        self.budget -= size;
        Ok(Some(buf))
    }

    /// `data.pkl`.
    pub fn pickle(&mut self) -> Result<Vec<u8>, String> {
        self.read("data.pkl", MAX_PICKLE as u64)?
            .ok_or_else(|| "data.pkl vanished".into())
    }

    /// Whether the storages are big-endian (the `byteorder` record; absent
    /// means little, as torch assumes).
    pub fn big_endian(&mut self) -> Result<bool, String> {
        match self.read("byteorder", 16)?.as_deref() {
            None | Some(b"little") => Ok(false),
            Some(b"big") => Ok(true),
            Some(other) => Err(format!(
                "byteorder is {:?}, not little or big",
                String::from_utf8_lossy(other)
            )),
        }
    }
}
