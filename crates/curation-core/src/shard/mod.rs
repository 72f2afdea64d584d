//! WebDataset shards: `shard-000000.tar`, `shard-000001.tar`, ... each holding
//! samples as consecutive members `<key>.<ext>` (the media file under its own
//! extension, the record as `<key>.json`).
//!
//! A shard is written as `shard-NNNNNN.tar.tmp`, synced, and renamed when
//! complete, so a crash never leaves a truncated `.tar`. Reopening the folder
//! ([`ShardWriter::open`]) deletes stale `.tmp` files, reads the keys of the
//! complete shards, skips those samples and numbers new shards after the last
//! one: a resumed run never writes a sample twice.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::filter::hex;

/// A shard could not be written or read.
///
/// ```
/// use curation_core::{shard::{MemberData, ShardWriter}, ShardError, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-shard-error-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// let err = w.write("a.b", &[("json", MemberData::Bytes(b"{}".to_vec()))]).unwrap_err();
/// assert!(matches!(err, ShardError::BadName { name, .. } if name == "a.b"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// I/O on a shard or a member's source file.
    #[error("{}: {source}", path.display())]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A member name that would escape the extraction folder.
    #[error("{}: unsafe member name {name:?} (absolute or containing `..`)", path.display())]
    UnsafeMember {
        /// Shard.
        path: PathBuf,
        /// Member name.
        name: String,
    },
    /// A member name without an extension, or an invalid sample key.
    #[error("{}: invalid member or key {name:?}: {why}", path.display())]
    BadName {
        /// Shard (or output folder when writing).
        path: PathBuf,
        /// Name or key.
        name: String,
        /// What is wrong.
        why: &'static str,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ShardError + '_ {
    move |source| ShardError::Io {
        path: path.to_owned(),
        source,
    }
}

/// When to start a new shard.
///
/// ```
/// use curation_core::{CurateOptions, CurationError, ShardLimits};
/// let limits = ShardLimits { max_samples: 100, ..ShardLimits::default() };
/// assert_eq!(limits.max_bytes, 1 << 30);
/// let mut opts = CurateOptions::new(vec!["crawl/".into()], "out/");
/// opts.shards = Some(ShardLimits { max_samples: 0, ..limits });
/// assert!(matches!(opts.validate(),
///     Err(CurationError::Invalid(v)) if v.field == "shards.max_samples"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardLimits {
    /// At most this many samples per shard.
    pub max_samples: usize,
    /// At most this many bytes per shard (tar headers and padding included);
    /// a single larger sample gets a shard of its own.
    pub max_bytes: u64,
}

impl Default for ShardLimits {
    fn default() -> Self {
        ShardLimits {
            max_samples: 1000,
            max_bytes: 1 << 30,
        }
    }
}

/// The content of one member to write.
///
/// ```
/// use curation_core::{shard::{read_samples, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-member-data-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let media = dir.join("a.mp4");
/// std::fs::write(&media, b"fake video")?;
/// let mut w = ShardWriter::open(&dir.join("shards"), ShardLimits::default())?;
/// w.write("a", &[
///     ("mp4", MemberData::File(media)),
///     ("json", MemberData::Bytes(br#"{"id":"a"}"#.to_vec())),
/// ])?;
/// let shard = &w.finish()?.shards_written[0];
/// let sample = &read_samples(shard)?[0];
/// assert_eq!(sample.members["mp4"], b"fake video");
/// assert_eq!(sample.members["json"], br#"{"id":"a"}"#);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub enum MemberData {
    /// Bytes in memory.
    Bytes(Vec<u8>),
    /// A file streamed from disk (media).
    File(PathBuf),
}

/// A WebDataset key for a record id: the id itself when it is made of
/// `[A-Za-z0-9_-]` (at most 80 characters), else a sanitised form plus 16 hex
/// digits of the id's SHA-256, so different ids do not collide in practice.
///
/// ```
/// use curation_core::shard::shard_key;
/// assert_eq!(shard_key("v_123-x"), "v_123-x");
/// let key = shard_key("a/b.c");
/// assert!(key.starts_with("a_b_c-"));
/// assert_eq!(key.len(), "a_b_c-".len() + 16);
/// assert_ne!(shard_key("a/b"), shard_key("a_b")); // the hash keeps them apart
/// ```
pub fn shard_key(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if clean == id && !id.is_empty() {
        clean
    } else {
        format!("{clean}-{}", &hex(&Sha256::digest(id.as_bytes()))[..16])
    }
}

fn shard_name(index: u64) -> String {
    format!("shard-{index:06}.tar")
}

/// The complete shards in `dir`, in index order.
///
/// ```
/// use curation_core::{shard::{list_shards, MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-list-shards-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits { max_samples: 1, ..ShardLimits::default() })?;
/// for key in ["a", "b"] {
///     w.write(key, &[("txt", MemberData::Bytes(key.into()))])?;
/// }
/// w.finish()?;
/// std::fs::write(dir.join("notes.txt"), "not a shard")?;
/// assert_eq!(list_shards(&dir)?, [dir.join("shard-000000.tar"), dir.join("shard-000001.tar")]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn list_shards(dir: &Path) -> Result<Vec<PathBuf>, ShardError> {
    Ok(indexed_shards(dir)?.into_iter().map(|(_, p)| p).collect())
}

/// `shard-<index>.tar` files in `dir` with their index, in index order.
fn indexed_shards(dir: &Path) -> Result<Vec<(u64, PathBuf)>, ShardError> {
    let mut shards: Vec<(u64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(index) = name
            .strip_prefix("shard-")
            .and_then(|n| n.strip_suffix(".tar"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            shards.push((index, entry.path()));
        }
    }
    shards.sort();
    Ok(shards)
}

struct OpenShard {
    index: u64,
    tmp: PathBuf,
    tar: tar::Builder<BufWriter<File>>,
    samples: usize,
    bytes: u64,
}

/// What a [`ShardWriter`] did.
///
/// ```
/// use curation_core::{shard::{MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-shard-summary-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let sample = [("txt", MemberData::Bytes(b"hi".to_vec()))];
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// w.write("a", &sample)?;
/// let summary = w.finish()?;
/// assert_eq!(summary.samples_written, 1);
/// assert_eq!(summary.shards_written, [dir.join("shard-000000.tar")]);
/// let mut again = ShardWriter::open(&dir, ShardLimits::default())?;
/// again.write("a", &sample)?;
/// assert_eq!(again.finish()?.samples_skipped, 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ShardSummary {
    /// Shards completed by this writer.
    pub shards_written: Vec<PathBuf>,
    /// Samples written by this writer.
    pub samples_written: u64,
    /// Samples skipped because a complete shard already held them.
    pub samples_skipped: u64,
}

/// Writes samples into size-limited shards; resumable (see the module docs).
///
/// ```
/// use curation_core::{shard::{MemberData, ShardWriter}, ShardLimits};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-shard-writer-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let limits = ShardLimits { max_samples: 2, ..ShardLimits::default() };
/// let json = || [("json", MemberData::Bytes(b"{}".to_vec()))];
/// let mut w = ShardWriter::open(&dir, limits)?;
/// for key in ["a", "b", "c"] {
///     assert!(w.write(key, &json())?);
/// }
/// assert_eq!(w.finish()?.shards_written.len(), 2); // 2 samples, then 1
/// // Reopened (a resumed run), the writer skips what complete shards hold.
/// let mut w = ShardWriter::open(&dir, limits)?;
/// assert!(w.contains("c"));
/// assert!(!w.write("a", &json())?);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ShardWriter {
    dir: PathBuf,
    limits: ShardLimits,
    done: HashSet<String>,
    next_index: u64,
    open: Option<OpenShard>,
    summary: ShardSummary,
}

/// Bytes a member takes in the tar: a 512-byte header, the data padded to
/// 512 bytes, and for names over 100 bytes a GNU long-name entry (header plus
/// the padded name).
fn member_bytes(name_len: usize, len: u64) -> u64 {
    let long_name = if name_len > 100 {
        512 + (name_len as u64 + 1).div_ceil(512) * 512
    } else {
        0
    };
    long_name + 512 + len.div_ceil(512) * 512
}

/// Reads exactly `left` bytes of a file, failing if it ends early (a file
/// that shrinks while being copied must not leave a short, corrupt member).
struct Exact {
    file: File,
    left: u64,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "media file shrank while being copied ({} bytes missing)",
                    self.left
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

impl ShardWriter {
    /// Opens (or resumes) the shard folder `dir`.
    pub fn open(dir: &Path, limits: ShardLimits) -> Result<Self, ShardError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with("shard-") && name.ends_with(".tar.tmp") {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
        let mut done = HashSet::new();
        let mut next_index = 0;
        for (index, shard) in indexed_shards(dir)? {
            done.extend(read_keys(&shard)?);
            next_index = next_index.max(index + 1);
        }
        Ok(ShardWriter {
            dir: dir.to_owned(),
            limits,
            done,
            next_index,
            open: None,
            summary: ShardSummary::default(),
        })
    }

    /// Whether a complete shard (or this writer) already holds `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.done.contains(key)
    }

    /// Writes one sample; returns `false` when it was already written.
    ///
    /// `key` must be non-empty and free of `.`, `/` and `\` (use
    /// [`shard_key`]); each member is `(extension, data)`.
    pub fn write(&mut self, key: &str, members: &[(&str, MemberData)]) -> Result<bool, ShardError> {
        if key.is_empty() || key.contains(['.', '/', '\\']) {
            let why = "a key must be non-empty without `.`, `/` or `\\`";
            return Err(ShardError::BadName {
                path: self.dir.clone(),
                name: key.into(),
                why,
            });
        }
        for (ext, _) in members {
            if ext.is_empty() || ext.contains(['/', '\\']) || ext.split('.').any(str::is_empty) {
                let why = "an extension must be non-empty without `/`, `\\` or empty parts";
                return Err(ShardError::BadName {
                    path: self.dir.clone(),
                    name: (*ext).into(),
                    why,
                });
            }
        }
        if self.done.contains(key) {
            self.summary.samples_skipped += 1;
            return Ok(false);
        }
        let mut sizes = Vec::with_capacity(members.len());
        for (_, data) in members {
            sizes.push(match data {
                MemberData::Bytes(b) => b.len() as u64,
                MemberData::File(p) => std::fs::metadata(p).map_err(io(p))?.len(),
            });
        }
        let sample_bytes: u64 = members
            .iter()
            .zip(&sizes)
            .map(|((ext, _), &size)| member_bytes(key.len() + 1 + ext.len(), size))
            .sum();
        if let Some(open) = &self.open
            && open.samples > 0
            && open.bytes + sample_bytes > self.limits.max_bytes
        {
            self.close()?;
        }
        if self.open.is_none() {
            let index = self.next_index;
            self.next_index += 1;
            let tmp = self.dir.join(format!("{}.tmp", shard_name(index)));
            let file = File::create(&tmp).map_err(io(&tmp))?;
            let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, file));
            tar.mode(tar::HeaderMode::Deterministic);
            self.open = Some(OpenShard {
                index,
                tmp,
                tar,
                samples: 0,
                bytes: 0,
            });
        }
        let open = self.open.as_mut().expect("opened above");
        for ((ext, data), size) in members.iter().zip(sizes) {
            let name = format!("{key}.{ext}");
            let mut header = tar::Header::new_gnu();
            header.set_size(size);
            header.set_mode(0o644);
            header.set_mtime(0);
            let tmp = open.tmp.clone();
            match data {
                MemberData::Bytes(b) => open.tar.append_data(&mut header, &name, b.as_slice()),
                MemberData::File(p) => {
                    let file = File::open(p).map_err(io(p))?;
                    open.tar
                        .append_data(&mut header, &name, Exact { file, left: size })
                }
            }
            .map_err(io(&tmp))?;
        }
        open.samples += 1;
        open.bytes += sample_bytes;
        self.done.insert(key.to_owned());
        self.summary.samples_written += 1;
        if open.samples >= self.limits.max_samples {
            self.close()?;
        }
        Ok(true)
    }

    fn close(&mut self) -> Result<(), ShardError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let tmp = open.tmp;
        let file = open
            .tar
            .into_inner()
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            .map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        let done = self.dir.join(shard_name(open.index));
        std::fs::rename(&tmp, &done).map_err(io(&done))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all(); // best effort: not every platform syncs folders
        }
        self.summary.shards_written.push(done);
        Ok(())
    }

    /// Completes the last shard and reports what was done.
    ///
    /// A writer dropped without `finish` (a run that failed) removes the
    /// shard it had open: complete shards stay, and a resumed run writes the
    /// rest.
    pub fn finish(mut self) -> Result<ShardSummary, ShardError> {
        self.close()?;
        Ok(std::mem::take(&mut self.summary))
    }
}

impl Drop for ShardWriter {
    fn drop(&mut self) {
        if let Some(open) = self.open.take() {
            let tmp = open.tmp;
            drop(open.tar);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

mod read;
pub use read::{MemberSpan, Sample, for_each_sample, member_spans, read_keys, read_samples};
