//! Files that appear complete or not at all: [`AtomicFile`] writes under
//! `<name>.tmp` and renames on commit, [`write_json`] writes one value as
//! pretty JSON that way. Every file a curation run writes goes through here,
//! and so do the JSON outputs of hashtag-select and frame-select.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::CurationError;

/// A file written as `<name>.tmp` and renamed on [`commit`](Self::commit).
/// Dropped without a commit (an error on the way), it removes its `.tmp`:
/// a failed run leaves the earlier file and no debris.
///
/// ```
/// use curation_core::atomic::AtomicFile;
/// let dir = std::env::temp_dir().join(format!("atomic-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("list.txt");
///
/// let mut f = AtomicFile::create(&path)?;
/// f.line("clip_a.mp4 0 -1")?;
/// f.bytes(b"clip_b.mp4 0 -1\n")?;
/// assert!(!path.exists(), "nothing at the final name before the commit");
/// assert_eq!(f.commit()?, path);
/// assert_eq!(std::fs::read_to_string(&path)?, "clip_a.mp4 0 -1\nclip_b.mp4 0 -1\n");
///
/// // Dropped uncommitted: the earlier file stays, the `.tmp` goes.
/// let mut f = AtomicFile::create(&path)?;
/// f.line("half written")?;
/// drop(f);
/// assert_eq!(std::fs::read_to_string(&path)?, "clip_a.mp4 0 -1\nclip_b.mp4 0 -1\n");
/// assert!(!dir.join("list.txt.tmp").exists());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once committed.
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path` (creates `<path>.tmp`, replacing a stale one).
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, CurationError> {
        let path = path.into();
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(CurationError::io(&tmp))?;
        Ok(AtomicFile {
            path,
            tmp,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    fn writer(&mut self) -> &mut BufWriter<File> {
        self.out
            .as_mut()
            .expect("only commit takes the writer, and it consumes self")
    }

    /// Writes one line (a `\n` is added).
    pub fn line(&mut self, text: impl std::fmt::Display) -> Result<(), CurationError> {
        // The path is cloned only on failure: this runs once per manifest line.
        writeln!(self.writer(), "{text}").map_err(|source| CurationError::Io {
            path: self.tmp.clone(),
            source,
        })
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), CurationError> {
        self.writer()
            .write_all(data)
            .map_err(|source| CurationError::Io {
                path: self.tmp.clone(),
                source,
            })
    }

    /// Flushes, syncs and renames into place; returns the final path.
    /// On failure the `.tmp` is removed (by `Drop`).
    pub fn commit(mut self) -> Result<PathBuf, CurationError> {
        let out = self.out.take().expect("commit runs once");
        let file = out.into_inner().map_err(|e| CurationError::Io {
            path: self.tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(CurationError::io(&self.tmp))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(CurationError::io(&self.path))?;
        Ok(self.path.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // After a successful rename the `.tmp` is gone and this fails
        // harmlessly; otherwise it removes the partial file.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes `value` as pretty JSON (and a final newline) to `path`, atomically.
///
/// A value that cannot be serialised (a map with non-string keys, a
/// `Serialize` impl that fails) is a [`CurationError::Io`] of kind
/// `InvalidData` naming `path`; it is detected before any file is created,
/// so an earlier `path` is left as it was.
///
/// ```
/// use curation_core::atomic::write_json;
/// let path = std::env::temp_dir().join(format!("write-json-doc-{}.json", std::process::id()));
///
/// write_json(&path, &serde_json::json!({"classes": ["salsa", "tango"]}))?;
/// assert_eq!(
///     std::fs::read_to_string(&path)?,
///     "{\n  \"classes\": [\n    \"salsa\",\n    \"tango\"\n  ]\n}\n"
/// );
///
/// // JSON object keys must be strings: refused, and the file is untouched.
/// let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
/// assert!(write_json(&path, &bad).is_err());
/// assert!(std::fs::read_to_string(&path)?.contains("salsa"));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), CurationError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| CurationError::Io {
        path: path.to_owned(),
        source: e.into(),
    })?;
    text.push(b'\n');
    let mut f = AtomicFile::create(path)?;
    f.bytes(&text)?;
    f.commit().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialise_error_is_invalid_data_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let bad: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 2)].into();
        match write_json(&path, &bad) {
            Err(CurationError::Io { path: p, source }) => {
                assert_eq!(p, path);
                assert_eq!(source.kind(), std::io::ErrorKind::InvalidData);
            }
            other => panic!("expected an Io error, got {other:?}"),
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn create_in_missing_folder_names_the_tmp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("x.txt");
        match AtomicFile::create(&path) {
            Err(CurationError::Io { path: p, .. }) => {
                assert_eq!(p, dir.path().join("missing").join("x.txt.tmp"));
            }
            Ok(_) => panic!("created a file in a missing folder"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn write_json_replaces_and_leaves_no_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.json");
        write_json(&path, &[1, 2]).unwrap();
        write_json(&path, "text").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "\"text\"\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["v.json"]);
    }
}
