//! The later stages' verdicts per record id, read from their output files,
//! so a crawl round can be turned into observations: curation-core's
//! `manifest.jsonl` lists the records that passed the metadata filters,
//! frame-select's `selections.jsonl` has one decision per video (`kept` is
//! the written clip, `null` when rejected).

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use curation_core::VideoRecord;
use serde::Deserialize;

use super::TagObservation;
use crate::error::HashtagError;

/// Which records passed the filters and how many clips each gave.
///
/// ```
/// use hashtag_select::adaptive::Outcomes;
/// let dir = std::env::temp_dir().join(format!("hs_doc_outcomes_{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let (manifest, selections) = (dir.join("manifest.jsonl"), dir.join("selections.jsonl"));
/// std::fs::write(&manifest, "{\"id\": \"a\"}\n{\"id\": \"b\"}\n").unwrap();
/// std::fs::write(&selections, "{\"id\": \"a\", \"kept\": {\"path\": \"a.mp4\"}}\n{\"id\": \"b\", \"kept\": null}\n").unwrap();
/// let o = Outcomes::read(&manifest, Some(&selections))?;
/// assert!(o.passed("a") && o.passed("b") && !o.passed("c"));
/// assert_eq!((o.clips("a"), o.clips("b"), o.clips("c")), (1, 0, 0));
/// // Without frame selection every passing record counts as one clip.
/// assert_eq!(Outcomes::read(&manifest, None)?.clips("b"), 1);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes {
    passed: HashSet<String>,
    clips: HashMap<String, u64>,
    frame_selection: bool,
}

#[derive(Deserialize)]
struct IdLine {
    id: String,
}

#[derive(Deserialize)]
struct SelectionLine {
    id: String,
    #[serde(default)]
    kept: Option<serde_json::Value>,
}

fn read_lines<T: for<'de> Deserialize<'de>>(
    path: &Path,
    mut f: impl FnMut(T),
) -> Result<(), HashtagError> {
    let file = std::fs::File::open(path).map_err(HashtagError::io(path))?;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(HashtagError::io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(&line)
            .map_err(|e| HashtagError::malformed(path, Some(i as u64 + 1), e.to_string()))?;
        f(v);
    }
    Ok(())
}

impl Outcomes {
    /// Reads a curation-core `manifest.jsonl` and, when frame selection
    /// ran, frame-select's `selections.jsonl`. Without selections, every
    /// record that passed the filters counts as one clip.
    pub fn read(manifest: &Path, selections: Option<&Path>) -> Result<Self, HashtagError> {
        let mut o = Outcomes::default();
        read_lines(manifest, |l: IdLine| {
            o.passed.insert(l.id);
        })?;
        if let Some(p) = selections {
            o.frame_selection = true;
            read_lines(p, |l: SelectionLine| {
                let kept = l.kept.is_some_and(|k| !k.is_null());
                *o.clips.entry(l.id).or_default() += u64::from(kept);
            })?;
        }
        Ok(o)
    }

    /// Whether the record passed the metadata filters.
    pub fn passed(&self, id: &str) -> bool {
        self.passed.contains(id)
    }

    /// Clips kept from the record.
    pub fn clips(&self, id: &str) -> u64 {
        if !self.passed(id) {
            0
        } else if self.frame_selection {
            self.clips.get(id).copied().unwrap_or(0)
        } else {
            1
        }
    }

    /// The observation of crawling `tag` and getting `records`.
    pub fn observe(&self, tag: &str, records: &[VideoRecord], exhausted: bool) -> TagObservation {
        TagObservation::from_records(
            tag,
            records,
            exhausted,
            |r| self.passed(&r.id),
            |r| self.clips(&r.id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, tags: &[&str]) -> VideoRecord {
        let json = serde_json::json!({"id": id, "hashtags": tags});
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn manifest_and_selections_make_an_observation() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.jsonl");
        std::fs::write(
            &manifest,
            "{\"id\": \"a\", \"hashtags\": [\"salsa\"]}\n{\"id\": \"b\"}\n\n",
        )
        .unwrap();
        let selections = dir.path().join("selections.jsonl");
        std::fs::write(
            &selections,
            "{\"id\": \"a\", \"kept\": {\"path\": \"clips/a.mp4\"}}\n{\"id\": \"b\", \"kept\": null, \"reasons\": [\"no_person\"]}\n",
        )
        .unwrap();
        let o = Outcomes::read(&manifest, Some(&selections)).unwrap();
        let records = [
            record("a", &["salsa", "dance"]),
            record("b", &["salsa", "fyp"]),
            record("c", &["salsa", "dance"]),
        ];
        let obs = o.observe("salsa", &records, false);
        assert_eq!(
            (obs.crawled, obs.passed_filters, obs.accepted_clips),
            (3, 2, 1)
        );
        let n: Vec<(&str, u64)> = obs
            .neighbours
            .iter()
            .map(|n| (n.tag.as_str(), n.posts))
            .collect();
        assert_eq!(n, [("dance", 2), ("fyp", 1)]);
        // Without frame selection, a passing record is a clip.
        let o = Outcomes::read(&manifest, None).unwrap();
        assert_eq!(o.observe("salsa", &records, true).accepted_clips, 2);
        std::fs::write(&selections, "{\"id\": 3}\n").unwrap();
        let e = Outcomes::read(&manifest, Some(&selections))
            .unwrap_err()
            .to_string();
        assert!(e.contains("selections.jsonl:1"), "{e}");
    }
}
