//! Where the videos come from: a folder, or curation-core's manifest.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::SelectError;

/// One video to select from.
///
/// ```
/// use frame_select::select::{VideoInput, is_safe_id};
/// let input = VideoInput { id: "walk_01".into(), path: "videos/walk_01.mp4".into() };
/// assert!(is_safe_id(&input.id));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VideoInput {
    /// Id used for output file names and the report.
    pub id: String,
    /// The video file.
    pub path: PathBuf,
}

/// File extensions treated as videos when scanning a folder.
const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "mkv", "webm", "mov", "avi", "m4v", "flv", "ts", "mpg", "mpeg", "3gp", "wmv",
];

/// Longest id [`is_safe_id`] accepts: [`safe_id`]'s longest output (80
/// characters, `-`, 16 hex digits) plus a de-duplication suffix
/// (`-` and up to 20 digits), rounded up.
pub const MAX_ID_CHARS: usize = 128;

/// A file-name-safe id for clip and sidecar names, the same function as
/// curation-core's WebDataset keys ([`curation_core::shard::shard_key`]), so a
/// clip's id equals its record's shard key. An id made of `[A-Za-z0-9_-]`
/// (1 to 80 characters) stays as it is; any other becomes its first 80
/// characters with the others replaced by `_`, plus `-` and 16 hex digits
/// of the id's SHA-256, so two different ids do not meet in practice.
/// Outputs never hold `.`, `/`, `\\` or control characters (so never `..`
/// nor a hidden file), are never empty, and have at most 97 characters.
///
/// ```
/// use frame_select::select::safe_id;
/// assert_eq!(safe_id("dQw4w9WgXcQ"), "dQw4w9WgXcQ");
/// let odd = safe_id("../a b.mp4");
/// assert!(odd.starts_with("___a_b_mp4-") && odd.len() == 11 + 16);
/// ```
pub fn safe_id(id: &str) -> String {
    curation_core::shard::shard_key(id)
}

/// Whether `id` is usable as a clip file stem as it is: 1 to
/// [`MAX_ID_CHARS`] characters from `[A-Za-z0-9_-]`.
///
/// ```
/// use frame_select::select::{MAX_ID_CHARS, is_safe_id, safe_id};
/// assert!(is_safe_id("dQw4w9WgXcQ"));
/// assert!(!is_safe_id("../etc/passwd"));
/// assert!(!is_safe_id(""));
/// assert!(!is_safe_id(&"a".repeat(MAX_ID_CHARS + 1)));
/// assert!(is_safe_id(&safe_id("a b.mp4")));
/// ```
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Makes the inputs' ids safe ([`safe_id`] for any that is not
/// [`is_safe_id`]) and distinct, ignoring ASCII case (on a case-insensitive
/// file system `A.mp4` and `a.mp4` are one file). The first of equal ids
/// keeps it; later ones get the smallest suffix `-2`, `-3`, ... that is
/// neither an id of another input nor given out before, so an id no other
/// input shares never changes and no two outputs are equal, whatever the
/// input order (`x, x, x-2` gives `x, x-3, x-2`). Deterministic.
/// [`inputs_from_dir`] and [`inputs_from_manifest`] already call it; call it
/// on hand-made inputs before [`super::select_videos`], which refuses
/// unsafe or repeated ids.
///
/// ```
/// use frame_select::select::{VideoInput, assign_unique_ids};
/// let mut inputs: Vec<VideoInput> = ["x", "X", "x-2"]
///     .iter()
///     .map(|id| VideoInput { id: id.to_string(), path: format!("{id}.mp4").into() })
///     .collect();
/// assign_unique_ids(&mut inputs);
/// let ids: Vec<&str> = inputs.iter().map(|i| i.id.as_str()).collect();
/// assert_eq!(ids, ["x", "X-3", "x-2"]);
/// ```
pub fn assign_unique_ids(inputs: &mut [VideoInput]) {
    for input in inputs.iter_mut() {
        if !is_safe_id(&input.id) {
            input.id = safe_id(&input.id);
        }
    }
    // Every id some input holds is reserved before any suffix is chosen,
    // so a suffixed id never takes the id of a later input.
    let mut taken: HashSet<String> = inputs.iter().map(|i| fold(&i.id)).collect();
    let mut first_seen = HashSet::new();
    for input in inputs.iter_mut() {
        let key = fold(&input.id);
        if first_seen.insert(key) {
            continue;
        }
        // Room for the suffix keeps the result within MAX_ID_CHARS (ids
        // are ASCII here, so byte slicing is safe).
        let base = &input.id[..input.id.len().min(MAX_ID_CHARS - 21)];
        let id = (2u64..)
            .map(|n| format!("{base}-{n}"))
            .find(|c| !taken.contains(&fold(c)))
            .expect("finitely many ids are taken");
        taken.insert(fold(&id));
        input.id = id;
    }
}

/// The form ids are compared in: ASCII lower case.
fn fold(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// The first few (at most five) problems with `inputs`' ids, and how many
/// there are in all: ids that are not [`is_safe_id`], and ids (ignoring
/// ASCII case) held by more than one input.
pub(crate) fn id_problems(inputs: &[VideoInput]) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut total = 0;
    let mut note = |p: String| {
        total += 1;
        if problems.len() < 5 {
            problems.push(p);
        }
    };
    let mut first = HashMap::new();
    for input in inputs {
        if !is_safe_id(&input.id) {
            let shown: String = input.id.chars().take(40).collect();
            note(format!(
                "id {shown:?} ({}) is not 1-{MAX_ID_CHARS} characters of [A-Za-z0-9_-]",
                input.path.display()
            ));
        } else if let Some(path) = first.insert(fold(&input.id), &input.path) {
            note(format!(
                "id {:?} is used by both {} and {}",
                input.id,
                path.display(),
                input.path.display()
            ));
        }
    }
    (problems, total)
}

/// Every video file under `dir` (recursively, sorted by path), with the
/// file stem as id (made unique by a suffix).
///
/// ```
/// use frame_select::select::inputs_from_dir;
/// let dir = std::env::temp_dir().join(format!("frame-select-doc-dir-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("more"))?;
/// for name in ["b.mp4", "more/a.MKV", "notes.txt"] {
///     std::fs::write(dir.join(name), b"")?; // only the names matter here
/// }
/// let inputs = inputs_from_dir(&dir)?;
/// let ids: Vec<&str> = inputs.iter().map(|i| i.id.as_str()).collect();
/// assert_eq!(ids, ["b", "a"]); // sorted by path: b.mp4, then more/a.MKV
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inputs_from_dir(dir: &Path) -> Result<Vec<VideoInput>, SelectError> {
    let mut inputs = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| SelectError::Input {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let is_video = entry.file_type().is_file()
            && entry
                .path()
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_video {
            let stem = entry
                .path()
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("video");
            inputs.push(VideoInput {
                id: safe_id(stem),
                path: entry.path().to_path_buf(),
            });
        }
    }
    assign_unique_ids(&mut inputs);
    Ok(inputs)
}

/// The kept records of a curation-core `manifest.jsonl`: each line's `id`
/// and `media_path` (relative paths are taken from the manifest's folder).
/// Records without a media path are skipped and counted in the second value.
///
/// ```
/// use frame_select::select::inputs_from_manifest;
/// let dir = std::env::temp_dir().join(format!("frame-select-doc-manifest-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let manifest = dir.join("manifest.jsonl");
/// std::fs::write(&manifest, concat!(
///     r#"{"id": "v1", "media_path": "media/v1.mp4"}"#, "\n",
///     r#"{"id": "v2"}"#, "\n", // not downloaded
/// ))?;
/// let (inputs, without_media) = inputs_from_manifest(&manifest)?;
/// assert_eq!(inputs.len(), 1);
/// assert_eq!(inputs[0].path, dir.join("media/v1.mp4")); // relative to the manifest
/// assert_eq!(without_media, 1);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inputs_from_manifest(manifest: &Path) -> Result<(Vec<VideoInput>, usize), SelectError> {
    // A FIFO would block the read forever, a device never end.
    if let Ok(meta) = std::fs::metadata(manifest)
        && !meta.is_file()
    {
        return Err(SelectError::Input {
            path: manifest.to_path_buf(),
            reason: format!(
                "not a regular file ({})",
                crate::video::file_kind(&meta.file_type())
            ),
        });
    }
    let text = std::fs::read_to_string(manifest).map_err(|e| SelectError::Input {
        path: manifest.to_path_buf(),
        reason: e.to_string(),
    })?;
    let base = manifest.parent().unwrap_or(Path::new("."));
    let mut inputs = Vec::new();
    let mut without_media = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: curation_core::VideoRecord =
            serde_json::from_str(line).map_err(|e| SelectError::Input {
                path: manifest.to_path_buf(),
                reason: format!("line {}: {e}", i + 1),
            })?;
        match &record.media_path {
            Some(p) => inputs.push(VideoInput {
                id: safe_id(&record.id),
                path: if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                },
            }),
            None => without_media += 1,
        }
    }
    assign_unique_ids(&mut inputs);
    Ok((inputs, without_media))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        let mut v: Vec<VideoInput> = list
            .iter()
            .map(|id| VideoInput {
                id: id.to_string(),
                path: PathBuf::from(format!("{id}.mp4")),
            })
            .collect();
        assign_unique_ids(&mut v);
        v.into_iter().map(|i| i.id).collect()
    }

    #[test]
    fn ids_are_safe_and_unique() {
        assert_eq!(safe_id("a_b-C9"), "a_b-C9");
        assert!(safe_id("a b/c.mp4").starts_with("a_b_c_mp4-"));
        assert!(safe_id(".hidden").starts_with("_hidden-"));
        assert_eq!(ids(&["x", "x"]), ["x", "x-2"]);
        // The old suffixing gave `x, x-2, x-2` here.
        assert_eq!(ids(&["x", "x", "x-2"]), ["x", "x-3", "x-2"]);
        assert_eq!(ids(&["x-2", "x", "x"]), ["x-2", "x", "x-3"]);
        assert_eq!(ids(&["A", "a", "a-2"]), ["A", "a-3", "a-2"]);
    }
}
