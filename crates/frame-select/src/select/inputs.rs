//! Where the videos come from: a folder, or curation-core's manifest.

use std::path::{Path, PathBuf};

use super::SelectError;

/// One video to select from.
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

/// A file-name-safe id: characters outside `[A-Za-z0-9._-]` become `_`.
pub fn safe_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("v{s}")
    } else {
        s
    }
}

fn unique(inputs: &mut [VideoInput]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for input in inputs.iter_mut() {
        let n = seen.entry(input.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            input.id = format!("{}-{}", input.id, n);
        }
    }
}

/// Every video file under `dir` (recursively, sorted by path), with the
/// file stem as id (made unique by a suffix).
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
    unique(&mut inputs);
    Ok(inputs)
}

/// The kept records of a curation-core `manifest.jsonl`: each line's `id`
/// and `media_path` (relative paths are taken from the manifest's folder).
/// Records without a media path are skipped and counted in the second value.
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
    unique(&mut inputs);
    Ok((inputs, without_media))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_and_unique() {
        assert_eq!(safe_id("a b/c.mp4"), "a_b_c.mp4");
        assert_eq!(safe_id(".hidden"), "v.hidden");
        let mut v = vec![
            VideoInput {
                id: "x".into(),
                path: "a".into(),
            },
            VideoInput {
                id: "x".into(),
                path: "b".into(),
            },
        ];
        unique(&mut v);
        assert_eq!(v[1].id, "x-2");
    }
}
