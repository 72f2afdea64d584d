//! Reading shards back: whole samples, keys only, or the byte span of each
//! member so that a consumer can read one member in place (a video decoder
//! opening a byte range of the tar) without unpacking anything.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path};

use super::{ShardError, io};

/// One sample read back: its key and its members by extension.
///
/// ```
/// use curation_core::{shard::{read_samples, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-sample-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// let (txt, json) = (MemberData::Bytes(b"hi".to_vec()), MemberData::Bytes(b"{}".to_vec()));
/// w.write("v1", &[("txt", txt), ("json", json)])?;
/// let samples = read_samples(&w.finish()?.shards_written[0])?;
/// assert_eq!(samples[0].key, "v1");
/// assert_eq!(samples[0].members.keys().collect::<Vec<_>>(), ["json", "txt"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// WebDataset key.
    pub key: String,
    /// Member bytes by extension (`mp4`, `json`, ...).
    pub members: BTreeMap<String, Vec<u8>>,
}

/// Splits a member name into WebDataset key and extension, rejecting names
/// that are absolute or contain `..`.
fn split_member(shard: &Path, name: &str) -> Result<(String, String), ShardError> {
    let p = Path::new(name);
    let unsafe_name = name.starts_with('/')
        || name.starts_with('\\')
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        || name.split(['/', '\\']).any(|part| part == "..");
    if unsafe_name {
        return Err(ShardError::UnsafeMember {
            path: shard.to_owned(),
            name: name.to_owned(),
        });
    }
    let (dir, base) = name.rsplit_once('/').map_or(("", name), |(d, b)| (d, b));
    let Some((stem, ext)) = base.split_once('.') else {
        let why = "a member needs an extension (<key>.<ext>)";
        return Err(ShardError::BadName {
            path: shard.to_owned(),
            name: name.to_owned(),
            why,
        });
    };
    let key = if dir.is_empty() {
        stem.to_owned()
    } else {
        format!("{dir}/{stem}")
    };
    Ok((key, ext.to_owned()))
}

/// Calls `f` for each sample of `shard`, in order, grouping consecutive
/// members with the same key. Reading stops at the first error.
///
/// ```
/// use curation_core::{shard::{for_each_sample, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-for-each-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// for key in ["a", "b", "c"] {
///     w.write(key, &[("txt", MemberData::Bytes(vec![b'x'; 3]))])?;
/// }
/// let shard = w.finish()?.shards_written.remove(0);
/// let mut bytes = 0;
/// for_each_sample(&shard, |s| {
///     bytes += s.members["txt"].len();
///     Ok(())
/// })?;
/// assert_eq!(bytes, 9);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn for_each_sample(
    shard: &Path,
    mut f: impl FnMut(Sample) -> Result<(), ShardError>,
) -> Result<(), ShardError> {
    let file = File::open(shard).map_err(io(shard))?;
    // Member sizes come from untrusted headers: no reservation beyond what
    // the file can hold.
    let file_len = file.metadata().map_err(io(shard))?.len();
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut current: Option<Sample> = None;
    for entry in archive.entries().map_err(io(shard))? {
        let mut entry = entry.map_err(io(shard))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let (key, ext) = split_member(shard, &name)?;
        // The header's size is untrusted: reserve at most what the file
        // holds (and 16 MiB), and refuse a member cut short by the file's end.
        let size = entry.size();
        let mut data = Vec::with_capacity(size.min(file_len).min(1 << 24) as usize);
        entry.read_to_end(&mut data).map_err(io(shard))?;
        if data.len() as u64 != size {
            return Err(ShardError::Io {
                path: shard.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "member {name:?} is truncated: {} of {size} bytes",
                        data.len()
                    ),
                ),
            });
        }
        match &mut current {
            Some(s) if s.key == key => {
                s.members.insert(ext, data);
            }
            _ => {
                if let Some(done) = current.take() {
                    f(done)?;
                }
                current = Some(Sample {
                    key,
                    members: BTreeMap::from([(ext, data)]),
                });
            }
        }
    }
    if let Some(done) = current {
        f(done)?;
    }
    Ok(())
}

/// All samples of one shard (loads it into memory).
///
/// ```
/// use curation_core::{shard::{read_samples, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-read-samples-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// for key in ["b", "a"] {
///     w.write(key, &[("txt", MemberData::Bytes(key.into()))])?;
/// }
/// let samples = read_samples(&w.finish()?.shards_written[0])?;
/// assert_eq!(samples.len(), 2);
/// assert_eq!((samples[0].key.as_str(), &samples[0].members["txt"][..]), ("b", &b"b"[..]));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_samples(shard: &Path) -> Result<Vec<Sample>, ShardError> {
    let mut out = Vec::new();
    for_each_sample(shard, |s| {
        out.push(s);
        Ok(())
    })?;
    Ok(out)
}

/// The sample keys of one shard, without keeping member data.
///
/// ```
/// use curation_core::{shard::{read_keys, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-read-keys-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// for key in ["v2", "v1"] {
///     let (mp4, json) = (MemberData::Bytes(vec![0; 4]), MemberData::Bytes(b"{}".to_vec()));
///     w.write(key, &[("mp4", mp4), ("json", json)])?;
/// }
/// let keys = read_keys(&w.finish()?.shards_written[0])?;
/// assert_eq!(keys, ["v2", "v1"]); // one per sample, in write order
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_keys(shard: &Path) -> Result<Vec<String>, ShardError> {
    let file = File::open(shard).map_err(io(shard))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut keys: Vec<String> = Vec::new();
    for entry in archive.entries().map_err(io(shard))? {
        let entry = entry.map_err(io(shard))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let (key, _) = split_member(shard, &String::from_utf8_lossy(&entry.path_bytes()))?;
        if keys.last() != Some(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Where one member's bytes lie inside its shard.
///
/// ```
/// use curation_core::shard::{member_spans, MemberData, MemberSpan, ShardWriter};
/// use curation_core::ShardLimits;
/// # let dir = std::env::temp_dir().join(format!("curation-doc-member-span-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// let (mp4, json) = (MemberData::Bytes(vec![0; 600]), MemberData::Bytes(b"{}".to_vec()));
/// w.write("a", &[("mp4", mp4), ("json", json)])?;
/// let spans = member_spans(&w.finish()?.shards_written[0])?;
/// // Each member is a 512-byte header, then its data padded to 512 bytes.
/// let json = MemberSpan { key: "a".into(), ext: "json".into(), offset: 512 + 1024 + 512, len: 2 };
/// assert_eq!(spans[1], json);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpan {
    /// WebDataset key of the sample.
    pub key: String,
    /// Extension (`mp4`, `json`, ...).
    pub ext: String,
    /// Byte offset of the data in the tar file.
    pub offset: u64,
    /// Length of the data.
    pub len: u64,
}

/// The byte span of every member of `shard`, in order, read from the tar
/// headers alone (no member data is read): what a loader needs to decode a
/// video member in place. Member names are checked as in
/// [`for_each_sample`]; a member that would end past the file's end is an
/// error, so every span returned lies inside the file.
///
/// ```
/// use curation_core::{shard::{member_spans, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-spans-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// w.write("clip", &[("mp4", MemberData::Bytes(b"not really a video".to_vec()))])?;
/// let shard = w.finish()?.shards_written.remove(0);
/// let spans = member_spans(&shard)?;
/// let bytes = std::fs::read(&shard)?;
/// let s = &spans[0];
/// assert_eq!((s.key.as_str(), s.ext.as_str(), s.offset), ("clip", "mp4", 512));
/// assert_eq!(&bytes[s.offset as usize..][..s.len as usize], b"not really a video");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn member_spans(shard: &Path) -> Result<Vec<MemberSpan>, ShardError> {
    let file = File::open(shard).map_err(io(shard))?;
    let file_len = file.metadata().map_err(io(shard))?.len();
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut spans = Vec::new();
    for entry in archive.entries().map_err(io(shard))? {
        let entry = entry.map_err(io(shard))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let (key, ext) = split_member(shard, &name)?;
        let (offset, len) = (entry.raw_file_position(), entry.size());
        if offset.checked_add(len).is_none_or(|end| end > file_len) {
            return Err(ShardError::Io {
                path: shard.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "member {name:?} is truncated: {len} bytes from offset {offset}, file has {file_len}"
                    ),
                ),
            });
        }
        spans.push(MemberSpan {
            key,
            ext,
            offset,
            len,
        });
    }
    Ok(spans)
}
