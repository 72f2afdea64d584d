//! Where a one-shot selection's files go: the groups JSON at `--out`, and
//! `label_map.json` + `labels.txt` beside it.
//!
//! The paths are planned and checked before anything is written: an output
//! that is an input (by name, through a symlink or a hard link), that lies
//! in an input folder under a name that folder's walk would read back, or
//! that is another output is refused. Writing then creates the parent
//! folders and replaces the three files together: all are written under
//! temporary names first and renamed only when every one is complete, and a
//! failure removes the temporary files.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use curation_core::ingest::{InputFormat, format_of};

use crate::error::HashtagError;
use crate::groups::Selection;

/// The label map's file name, beside the groups JSON.
pub const LABEL_MAP_FILE: &str = "label_map.json";
/// The class names' file name (one per line), beside the groups JSON.
pub const LABELS_FILE: &str = "labels.txt";

/// The files one selection writes.
///
/// ```
/// use std::path::Path;
/// use hashtag_select::{HashtagError, output::OutputPlan};
/// let dir = std::env::temp_dir().join(format!("hs_doc_plan_{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| HashtagError::Config(e.to_string()))?;
/// let plan = OutputPlan::new(&dir.join("groups.json"))?;
/// assert_eq!(plan.paths()[1], dir.join("label_map.json"));
/// // An input named like an output is refused before anything is written.
/// let labels = dir.join("labels.txt");
/// std::fs::write(&labels, "salsa dancing\n").map_err(|e| HashtagError::Config(e.to_string()))?;
/// let err = plan.check_inputs([("--labels", labels.as_path())]).unwrap_err();
/// assert!(matches!(err, HashtagError::OutputCollision { .. }));
/// let err = OutputPlan::new(Path::new("out/label_map.json")).unwrap_err();
/// assert!(matches!(err, HashtagError::OutputCollision { .. }));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPlan {
    groups: PathBuf,
    label_map: PathBuf,
    labels: PathBuf,
}

impl OutputPlan {
    /// The plan for groups JSON at `out`. Refuses an empty path, a path
    /// naming a folder, and an `out` named like a side output
    /// (`label_map.json`, `labels.txt`), which the side output would
    /// overwrite.
    pub fn new(out: &Path) -> Result<Self, HashtagError> {
        let text = out.as_os_str().to_string_lossy();
        if text.is_empty() {
            return Err(HashtagError::Config("--out is empty".into()));
        }
        let Some(name) = out.file_name().filter(|_| !text.ends_with('/')) else {
            return Err(HashtagError::Config(format!(
                "--out {}: must name a file, not a folder",
                out.display()
            )));
        };
        if out.is_dir() {
            return Err(HashtagError::Config(format!(
                "--out {}: is a folder; name the groups file (e.g. {}/groups.json)",
                out.display(),
                out.display()
            )));
        }
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let plan = OutputPlan {
            groups: out.to_owned(),
            label_map: dir.join(LABEL_MAP_FILE),
            labels: dir.join(LABELS_FILE),
        };
        for side in [&plan.label_map, &plan.labels] {
            if side.file_name() == Some(name) {
                return Err(HashtagError::OutputCollision {
                    output: side.clone(),
                    what: "the groups JSON (--out)".into(),
                    input: out.to_owned(),
                });
            }
        }
        Ok(plan)
    }

    /// The groups JSON (`--out`).
    pub fn groups(&self) -> &Path {
        &self.groups
    }

    /// Every file written: groups JSON, label map, class names.
    pub fn paths(&self) -> [&Path; 3] {
        [&self.groups, &self.label_map, &self.labels]
    }

    /// Checks `inputs` (what each is, for the message, and its path): each
    /// must exist, and no output (or its temporary file) may be one of
    /// them, lie in an input folder under a name that folder's walk reads
    /// (`.jsonl`, `.ndjson`, `.csv`, `.info.json`), or be another output.
    /// Paths are compared after resolving symlinks, `.` and `..`; on Unix
    /// hard links are caught too.
    pub fn check_inputs<'a>(
        &self,
        inputs: impl IntoIterator<Item = (&'a str, &'a Path)>,
    ) -> Result<(), HashtagError> {
        let outputs: Vec<(PathBuf, PathBuf)> = self
            .paths()
            .into_iter()
            .flat_map(|p| [p.to_owned(), tmp_of(p)])
            .map(|p| (resolve(&p), p))
            .collect();
        for (i, (a, pa)) in outputs.iter().enumerate() {
            if let Some((_, pb)) = outputs[..i].iter().find(|(b, _)| b == a) {
                return Err(HashtagError::OutputCollision {
                    output: pa.clone(),
                    what: "the output".into(),
                    input: pb.clone(),
                });
            }
        }
        for (what, input) in inputs {
            let Ok(meta) = std::fs::metadata(input) else {
                return Err(HashtagError::MissingInput {
                    what: what.to_owned(),
                    path: input.to_owned(),
                });
            };
            let resolved = resolve(input);
            for (out, given) in &outputs {
                let collides = if meta.is_dir() {
                    out.starts_with(&resolved) && read_from_folder(out)
                } else {
                    *out == resolved || same_file(given, &meta)
                };
                if collides {
                    let what = if meta.is_dir() {
                        format!("a file read from the {what} folder")
                    } else {
                        format!("the {what} input")
                    };
                    return Err(HashtagError::OutputCollision {
                        output: given.clone(),
                        what,
                        input: input.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Creates the parent folder and writes the selection's three files,
    /// all or none (see the module docs).
    pub fn write(&self, selection: &Selection) -> Result<(), HashtagError> {
        let groups = json_bytes(selection);
        let map = selection.label_map();
        let label_map = json_bytes(&map);
        let mut labels = String::new();
        for c in &map.classes {
            labels.push_str(&c.name);
            labels.push('\n');
        }
        let dir = self.label_map.parent().unwrap_or(Path::new("."));
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(HashtagError::io(dir))?;
        }
        let files: [(&Path, &[u8]); 3] = [
            (&self.groups, &groups),
            (&self.label_map, &label_map),
            (&self.labels, labels.as_bytes()),
        ];
        // A folder in an output's place would fail its rename after the
        // others were renamed: refuse it before any is written.
        if let Some((path, _)) = files.iter().find(|(p, _)| p.is_dir()) {
            return Err(HashtagError::Config(format!(
                "output {} is a folder",
                path.display()
            )));
        }
        let mut written: Vec<PathBuf> = Vec::new();
        let cleanup = |written: &[PathBuf]| {
            for t in written {
                let _ = std::fs::remove_file(t);
            }
        };
        for (path, bytes) in files {
            let tmp = tmp_of(path);
            // Listed before writing: a partly written file is removed too.
            written.push(tmp.clone());
            if let Err(e) = write_synced(&tmp, bytes) {
                cleanup(&written);
                return Err(e);
            }
        }
        for (i, (path, _)) in files.iter().enumerate() {
            if let Err(source) = std::fs::rename(&written[i], path) {
                cleanup(&written[i..]);
                return Err(HashtagError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        Ok(())
    }
}

/// Pretty JSON with a final newline.
fn json_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).expect("plain data serialises");
    v.push(b'\n');
    v
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), HashtagError> {
    let mut f = std::fs::File::create(path).map_err(HashtagError::io(path))?;
    f.write_all(bytes).map_err(HashtagError::io(path))?;
    f.sync_all().map_err(HashtagError::io(path))
}

/// The temporary name a file is written under before the rename.
fn tmp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Whether a walk of an input folder would read a file of this name
/// (curation-core reads only `.info.json` among JSON files in folders).
fn read_from_folder(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match format_of(path) {
        Some(InputFormat::InfoJson) => name.ends_with(".info.json"),
        Some(_) => true,
        None => false,
    }
}

/// Whether `path` exists and is the same file as `meta` (hard links).
#[cfg(unix)]
fn same_file(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &std::fs::Metadata) -> bool {
    false
}

/// The absolute path `path` names (or will name once created): its longest
/// existing ancestor canonicalised (symlinks resolved), then the remaining
/// components applied lexically.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(c) = path.canonicalize() {
        return c;
    }
    let abs = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let comps: Vec<Component> = abs.components().collect();
    for k in (0..=comps.len()).rev() {
        let prefix: PathBuf = comps[..k].iter().collect();
        let Ok(mut out) = prefix.canonicalize() else {
            continue;
        };
        for c in &comps[k..] {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(x) => out.push(x),
                _ => {}
            }
        }
        return out;
    }
    abs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_goes_through_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let p = dir.path().join("new/../x/./y.json");
        assert_eq!(resolve(&p), root.join("x/y.json"));
        assert_eq!(resolve(dir.path()), root);
    }
}
