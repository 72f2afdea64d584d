//! Action vocabularies: the class lists hashtags are derived from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::HashtagError;
use crate::words::label_words;

/// One action class of a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLabel {
    /// The vocabulary it belongs to (`kinetics400`, a file stem).
    pub dataset: String,
    /// Its 0-based index in the list.
    pub index: usize,
    /// The name as written in the list.
    pub name: String,
    /// Content words ([`label_words`]).
    pub words: Vec<String>,
}

/// A named list of action classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Name (the file stem when read from a file).
    pub name: String,
    /// Classes in list order; labels without content words are left out.
    pub labels: Vec<ActionLabel>,
}

impl Vocabulary {
    /// A vocabulary from class names.
    pub fn from_names<S: AsRef<str>>(name: &str, names: &[S]) -> Self {
        let labels = names
            .iter()
            .enumerate()
            .filter_map(|(index, n)| {
                let words = label_words(n.as_ref());
                (!words.is_empty()).then(|| ActionLabel {
                    dataset: name.to_owned(),
                    index,
                    name: n.as_ref().to_owned(),
                    words,
                })
            })
            .collect();
        Vocabulary {
            name: name.to_owned(),
            labels,
        }
    }

    /// Reads a class list:
    /// - `.txt`: one class per line (`ApplyEyeMakeup`, or UCF101's
    ///   `classInd.txt` style `1 ApplyEyeMakeup`); blank lines and `#`
    ///   comments skipped;
    /// - `.json`: a list of names, or an object mapping names to indices
    ///   (SSv2's `something-something-v2-labels.json`);
    /// - `.csv`: a header with a `label` column (Kinetics annotations); the
    ///   distinct labels, sorted, as Kinetics indexes them.
    pub fn from_file(path: &Path) -> Result<Self, HashtagError> {
        let text = std::fs::read_to_string(path).map_err(HashtagError::io(path))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let names = match ext.as_str() {
            "json" => json_names(path, &text)?,
            "csv" => csv_labels(path, &text)?,
            _ => text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| match l.split_once(char::is_whitespace) {
                    Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => {
                        rest.trim().to_owned()
                    }
                    _ => l.to_owned(),
                })
                .collect(),
        };
        if names.is_empty() {
            return Err(HashtagError::malformed(path, None, "no class names"));
        }
        Ok(Vocabulary::from_names(&name, &names))
    }
}

fn json_names(path: &Path, text: &str) -> Result<Vec<String>, HashtagError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        List(Vec<String>),
        Map(std::collections::BTreeMap<String, serde_json::Value>),
    }
    let repr: Repr = serde_json::from_str(text).map_err(|e| HashtagError::json(path, &e))?;
    Ok(match repr {
        Repr::List(l) => l,
        Repr::Map(m) => {
            let mut pairs = Vec::with_capacity(m.len());
            for (name, v) in m {
                let idx = match &v {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    HashtagError::malformed(
                        path,
                        None,
                        format!("{name:?}: index {v} is not a whole number"),
                    )
                })?;
                pairs.push((idx, name));
            }
            pairs.sort();
            pairs.into_iter().map(|(_, n)| n).collect()
        }
    })
}

fn csv_labels(path: &Path, text: &str) -> Result<Vec<String>, HashtagError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| HashtagError::malformed(path, Some(1), e.to_string()))?
        .clone();
    let col = headers
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("label"))
        .ok_or_else(|| HashtagError::malformed(path, Some(1), "no `label` column"))?;
    let mut set = std::collections::BTreeSet::new();
    for (i, row) in reader.records().enumerate() {
        let row =
            row.map_err(|e| HashtagError::malformed(path, Some(i as u64 + 2), e.to_string()))?;
        if let Some(l) = row.get(col).map(str::trim).filter(|l| !l.is_empty()) {
            set.insert(l.to_owned());
        }
    }
    Ok(set.into_iter().collect())
}
