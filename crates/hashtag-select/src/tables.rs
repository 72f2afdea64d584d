//! User tables the rules read: sub-styles of umbrella actions
//! (specification) and regional or community spellings (social/cultural
//! variants). Both are JSON or TOML maps from a tag to a list of tags;
//! every tag is normalised on load.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use curation_core::normalize_hashtag;
use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::error::HashtagError;
use crate::input::{describe, line_of_key, parse_json, read_text};

/// Umbrella tag -> its popular styles (`ballroomdance` -> `chacha`, `salsa`,
/// `tango`, `waltz`).
///
/// ```
/// use hashtag_select::StyleTable;
/// let t = StyleTable::published();
/// let styles: Vec<&str> = t.styles("ballroomdance").collect();
/// assert_eq!(styles, ["chacha", "salsa", "tango", "waltz"]);
/// assert_eq!(t.styles("salsa").count(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StyleTable(pub BTreeMap<String, BTreeSet<String>>);

/// Groups of tags that name the same activity in different communities
/// (`football` / `soccer`). The relation is symmetric: a map entry
/// `football = ["soccer", "futbol"]` makes all three variants of each other.
///
/// ```
/// use hashtag_select::SynonymTable;
/// let t = SynonymTable::common();
/// assert!(t.are_variants("football", "soccer"));
/// assert!(t.are_variants("futbol", "football"));
/// assert_eq!(t.variants("biking").into_iter().collect::<Vec<_>>(), ["cycling"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SynonymTable(pub BTreeMap<String, BTreeSet<String>>);

impl StyleTable {
    /// The one style split the paper spells out (SPEC 1a); users add theirs.
    pub fn published() -> Self {
        let mut t = BTreeMap::new();
        t.insert(
            "ballroomdance".to_owned(),
            ["chacha", "salsa", "tango", "waltz"]
                .map(str::to_owned)
                .into(),
        );
        StyleTable(t)
    }

    /// Reads a `.json` or `.toml` table and normalises its tags.
    pub fn from_file(path: &Path) -> Result<Self, HashtagError> {
        Ok(StyleTable(read_table(path)?))
    }

    /// The styles of `umbrella`, if it is one.
    pub fn styles(&self, umbrella: &str) -> impl Iterator<Item = &str> {
        self.0
            .get(umbrella)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

impl SynonymTable {
    /// A few well-known variants (American/British sport names and bike
    /// words); a starting point, not a claim of coverage.
    pub fn common() -> Self {
        let pairs: &[(&str, &[&str])] = &[
            ("soccer", &["football", "futbol", "fútbol"]),
            ("cycling", &["biking"]),
            ("bicycle", &["bike"]),
            ("weightlifting", &["weighttraining"]),
            ("makeup", &["makeuptutorial"]),
        ];
        SynonymTable(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        )
    }

    /// Reads a `.json` or `.toml` table and normalises its tags.
    pub fn from_file(path: &Path) -> Result<Self, HashtagError> {
        Ok(SynonymTable(read_table(path)?))
    }

    /// Every variant of `tag` (both directions of each entry), without `tag`.
    pub fn variants(&self, tag: &str) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        for (k, vs) in &self.0 {
            if k == tag || vs.contains(tag) {
                out.insert(k.as_str());
                out.extend(vs.iter().map(String::as_str));
            }
        }
        out.remove(tag);
        out
    }

    /// Whether `a` and `b` are listed as variants of each other (one entry
    /// holds both). Consolidation asks this for every pair of tags, so it
    /// scans the entries without building `variants`' set.
    pub fn are_variants(&self, a: &str, b: &str) -> bool {
        a != b
            && self.0.iter().any(|(k, vs)| {
                let holds = |t: &str| k == t || vs.contains(t);
                holds(a) && holds(b)
            })
    }
}

fn read_table(path: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, HashtagError> {
    let text = read_text(path)?;
    let raw: BTreeMap<String, Vec<String>> = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|e| HashtagError::malformed(path, None, e.to_string()))?
    } else {
        json_table(path, &text)?
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (k, vs) in raw {
        let key = normalize_hashtag(&k);
        if key.is_empty() {
            return Err(HashtagError::malformed(
                path,
                None,
                format!("empty tag {k:?}"),
            ));
        }
        let entry = out.entry(key.clone()).or_default();
        for v in vs {
            let v = normalize_hashtag(&v);
            if !v.is_empty() && v != key {
                entry.insert(v);
            }
        }
    }
    Ok(out)
}

/// A JSON table: an object mapping each tag to a list of tags; an entry
/// of another shape is an error naming its key and line.
fn json_table(path: &Path, text: &str) -> Result<BTreeMap<String, Vec<String>>, HashtagError> {
    let Value::Object(map) = parse_json(path, text)? else {
        return Err(HashtagError::malformed(
            path,
            Some(1),
            "expected an object {\"tag\": [\"tag\", ...], ...}",
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let bad = |found: &Value| {
            HashtagError::malformed(
                path,
                line_of_key(text, &k),
                format!("{k:?}: expected a list of tags, found {}", describe(found)),
            )
        };
        let Value::Array(items) = &v else {
            return Err(bad(&v));
        };
        let tags = items
            .iter()
            .map(|t| t.as_str().map(str::to_owned).ok_or_else(|| bad(t)))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(k, tags);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_symmetric() {
        let t = SynonymTable::common();
        assert!(t.are_variants("football", "soccer"));
        assert!(t.are_variants("soccer", "football"));
        assert!(t.are_variants("futbol", "football"));
        assert!(!t.are_variants("soccer", "soccer"));
        assert!(t.variants("tango").is_empty());
    }

    #[test]
    fn tables_read_and_normalise() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("s.json");
        std::fs::write(
            &json,
            r##"{"#BallroomDance": ["ChaCha", "#Tango", "ballroomdance"]}"##,
        )
        .unwrap();
        let t = StyleTable::from_file(&json).unwrap();
        assert_eq!(
            t.styles("ballroomdance").collect::<Vec<_>>(),
            ["chacha", "tango"]
        );
        let toml = dir.path().join("v.toml");
        std::fs::write(&toml, "Soccer = [\"Football\"]\n").unwrap();
        assert!(
            SynonymTable::from_file(&toml)
                .unwrap()
                .are_variants("football", "soccer")
        );
        std::fs::write(&json, "{\"a\": 3}").unwrap();
        assert!(matches!(
            StyleTable::from_file(&json),
            Err(HashtagError::Malformed { .. })
        ));
    }
}
