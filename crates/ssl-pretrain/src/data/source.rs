//! Where clips come from: a VideoMAE pretraining list, curation-core's
//! `manifest.jsonl` or WebDataset shards, a folder of clips (what
//! frame-select's `select` writes), or any [`ClipSource`] of the user's.
//!
//! Every source resolves to [`ClipEntry`]s up front (a path, or a byte
//! range inside a shard); nothing is decoded or unpacked here. A source
//! that names no clip is an error, so a mistyped path never trains on
//! nothing.

use std::path::{Path, PathBuf};

use super::DataError;

/// File extensions read as videos (lowercase).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "mkv", "webm", "mov", "avi", "m4v", "flv", "ts", "mpg", "mpeg", "3gp", "wmv",
];

/// True when `ext` (any case) is a video extension.
fn is_video_ext(ext: &str) -> bool {
    VIDEO_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
}

/// Where a clip's bytes are.
///
/// ```
/// use ssl_pretrain::data::{ClipEntry, ClipLocation};
/// let member = ClipEntry {
///     id: "v1".into(),
///     location: ClipLocation::Member { shard: "shards/shard-000000.tar".into(), offset: 1536, len: 1_901_774 },
/// };
/// assert!(matches!(member.location, ClipLocation::Member { offset: 1536, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipLocation {
    /// A video file.
    File(PathBuf),
    /// `len` bytes at `offset` inside a WebDataset tar, decoded in place.
    Member {
        /// The shard.
        shard: PathBuf,
        /// Byte offset of the member's data.
        offset: u64,
        /// Its length.
        len: u64,
    },
}

/// One clip a source names.
///
/// ```
/// use ssl_pretrain::data::{ClipEntry, ClipLocation};
/// let member = ClipEntry {
///     id: "v1".into(),
///     location: ClipLocation::Member { shard: "shards/shard-000000.tar".into(), offset: 1536, len: 1_901_774 },
/// };
/// assert!(matches!(member.location, ClipLocation::Member { offset: 1536, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipEntry {
    /// Name in reports: the list's path, the record id or the shard key.
    pub id: String,
    /// Where to decode it from.
    pub location: ClipLocation,
}

/// A dataset of clips, indexed `0..len()`. Implemented for `Vec<ClipEntry>`
/// (what the readers below return); implement it to feed clips from
/// elsewhere.
///
/// ```
/// use ssl_pretrain::data::{ClipEntry, ClipLocation, ClipSource};
/// let clips = vec![ClipEntry { id: "a".into(), location: ClipLocation::File("a.mp4".into()) }];
/// assert_eq!((clips.len(), clips.entry(0).id.as_str()), (1, "a"));
/// ```
pub trait ClipSource: Send + Sync {
    /// Number of clips.
    fn len(&self) -> usize;
    /// True when there is no clip.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Clip `index` (`< len()`).
    fn entry(&self, index: usize) -> ClipEntry;
}

impl ClipSource for Vec<ClipEntry> {
    fn len(&self) -> usize {
        <[ClipEntry]>::len(self)
    }
    fn entry(&self, index: usize) -> ClipEntry {
        self[index].clone()
    }
}

fn non_empty(path: &Path, entries: Vec<ClipEntry>) -> Result<Vec<ClipEntry>, DataError> {
    if entries.is_empty() {
        Err(DataError::NoClips {
            path: path.to_path_buf(),
        })
    } else {
        Ok(entries)
    }
}

/// Reads a VideoMAE pretraining list: `path 0 -1` per line (the two
/// numbers are the reference's start index and frame count; `-1` means
/// "decode the video"). Relative paths are joined to `root` (the
/// reference's `--data_root`), else to the list's folder. Blank lines are
/// skipped; a line without a path, with numbers that do not parse, or in
/// the rawframe form (`frame_dir start total`, a non-negative count) is an
/// error naming the line.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("ssl-doc-list-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let list = dir.join("pretrain_list.txt");
/// std::fs::write(&list, "/data/a.mp4 0 -1\nclips/b.mp4 0 -1\n")?;
/// let clips = ssl_pretrain::data::read_pretrain_list(&list, None)?;
/// assert_eq!(clips.len(), 2);
/// assert_eq!(clips[1].location, ssl_pretrain::data::ClipLocation::File(dir.join("clips/b.mp4")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_pretrain_list(path: &Path, root: Option<&Path>) -> Result<Vec<ClipEntry>, DataError> {
    let text = String::from_utf8(read_list(path)?).map_err(|e| DataError::Read {
        path: path.to_path_buf(),
        reason: format!("not UTF-8: {e}"),
    })?;
    let base = root.map_or_else(
        || path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        Path::to_path_buf,
    );
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |reason: &str| DataError::ListLine {
            path: path.to_path_buf(),
            line: i + 1,
            reason: reason.to_string(),
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        // The reference splits on single spaces; paths with spaces are
        // therefore not representable in its lists either.
        let fields: Vec<&str> = line.split(' ').filter(|f| !f.is_empty()).collect();
        let (clip, numbers) = match fields.as_slice() {
            [clip] => (*clip, None),
            [clip, start, total] => (*clip, Some((*start, *total))),
            _ => return Err(bad("expected `path 0 -1` (path, start index, frame count)")),
        };
        if let Some((start, total)) = numbers {
            let start: i64 = start
                .parse()
                .map_err(|_| bad("start index is not an integer"))?;
            let total: i64 = total
                .parse()
                .map_err(|_| bad("frame count is not an integer"))?;
            if total >= 0 || start < 0 {
                return Err(bad(
                    "rawframe folders (`frame_dir start total`) are not supported: list videos as `path 0 -1`",
                ));
            }
        }
        out.push(ClipEntry {
            id: clip.to_string(),
            location: ClipLocation::File(base.join(clip)),
        });
    }
    non_empty(path, out)
}

/// Largest list or manifest read (a list of 10 M clips is about 1 GB).
const MAX_LIST_BYTES: u64 = 4 << 30;

/// A whole list or manifest, refused when larger than [`MAX_LIST_BYTES`].
fn read_list(path: &Path) -> Result<Vec<u8>, DataError> {
    let read_err = |reason: String| DataError::Read {
        path: path.to_path_buf(),
        reason,
    };
    curation_core::read_capped(path, MAX_LIST_BYTES)
        .map_err(|e| read_err(e.to_string()))?
        .ok_or_else(|| read_err(format!("larger than {} GiB", MAX_LIST_BYTES >> 30)))
}

/// Reads curation-core's `manifest.jsonl`: one clip per record with a
/// `media_path` (relative paths joined to the manifest's folder). Records
/// without media are counted in the second value, not dropped silently; a
/// line that is not a record is an error naming the line.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("ssl-doc-manifest-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let manifest = dir.join("manifest.jsonl");
/// std::fs::write(&manifest, "{\"id\":\"v1\",\"media_path\":\"v1.mp4\"}\n{\"id\":\"v2\"}\n")?;
/// let (clips, without_media) = ssl_pretrain::data::read_manifest(&manifest)?;
/// assert_eq!((clips.len(), clips[0].id.as_str(), without_media), (1, "v1", 1));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_manifest(path: &Path) -> Result<(Vec<ClipEntry>, usize), DataError> {
    let bytes = read_list(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut without_media = 0;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record: curation_core::VideoRecord =
            serde_json::from_slice(line).map_err(|e| DataError::ListLine {
                path: path.to_path_buf(),
                line: i + 1,
                reason: e.to_string(),
            })?;
        match record.media_path {
            Some(media) => out.push(ClipEntry {
                id: record.id,
                location: ClipLocation::File(base.join(media)),
            }),
            None => without_media += 1,
        }
    }
    Ok((non_empty(path, out)?, without_media))
}

/// Every video file under `dir` (recursively, sorted by path): a folder of
/// clips such as frame-select's `select` output. The id is the path
/// relative to `dir`.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("ssl-doc-folder-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("b"))?;
/// for name in ["b/two.MP4", "one.mkv", "notes.txt"] {
///     std::fs::write(dir.join(name), b"")?;
/// }
/// let clips = ssl_pretrain::data::scan_clip_folder(&dir)?;
/// let ids: Vec<&str> = clips.iter().map(|c| c.id.as_str()).collect();
/// assert_eq!(ids, ["b/two.MP4", "one.mkv"]); // videos only, sorted
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scan_clip_folder(dir: &Path) -> Result<Vec<ClipEntry>, DataError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| DataError::Read {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let path = entry.path();
        if entry.file_type().is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(is_video_ext)
        {
            let id = path.strip_prefix(dir).unwrap_or(path).display().to_string();
            out.push(ClipEntry {
                id,
                location: ClipLocation::File(path.to_path_buf()),
            });
        }
    }
    non_empty(dir, out)
}

/// The video member of every sample in the WebDataset shards of `dir`
/// (curation-core's `shard-NNNNNN.tar`, in index order), located by byte
/// range so each is decoded in place, never unpacked. The id is the
/// sample key. A sample with no video member is skipped and counted in the
/// second value.
///
/// ```
/// use curation_core::{shard::{MemberData, ShardWriter}, ShardLimits};
/// use ssl_pretrain::data::{ClipLocation, index_shards};
/// # let dir = std::env::temp_dir().join(format!("ssl-doc-shards-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let mut w = ShardWriter::open(&dir, ShardLimits::default())?;
/// w.write("v1", &[("mp4", MemberData::Bytes(vec![7; 100])), ("json", MemberData::Bytes(b"{}".to_vec()))])?;
/// w.write("meta-only", &[("json", MemberData::Bytes(b"{}".to_vec()))])?;
/// w.finish()?;
/// let (clips, without_video) = index_shards(&dir)?;
/// assert_eq!((clips.len(), clips[0].id.as_str(), without_video), (1, "v1", 1));
/// assert!(matches!(clips[0].location, ClipLocation::Member { len: 100, .. }));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn index_shards(dir: &Path) -> Result<(Vec<ClipEntry>, usize), DataError> {
    let shard_err = |e: curation_core::ShardError| DataError::Read {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut out = Vec::new();
    let mut without_video = 0;
    for shard in curation_core::shard::list_shards(dir).map_err(shard_err)? {
        let spans = curation_core::shard::member_spans(&shard).map_err(shard_err)?;
        let mut i = 0;
        while i < spans.len() {
            let key = &spans[i].key;
            let end = spans[i..]
                .iter()
                .position(|s| &s.key != key)
                .map_or(spans.len(), |n| i + n);
            match spans[i..end].iter().find(|s| is_video_ext(&s.ext)) {
                Some(video) => out.push(ClipEntry {
                    id: video.key.clone(),
                    location: ClipLocation::Member {
                        shard: shard.clone(),
                        offset: video.offset,
                        len: video.len,
                    },
                }),
                None => without_video += 1,
            }
            i = end;
        }
    }
    Ok((non_empty(dir, out)?, without_video))
}
