//! Action vocabularies: the class lists hashtags are derived from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::error::HashtagError;
use crate::input::{describe, line_of_element, line_of_key, parse_json, read_text, whole_number};
use crate::words::label_words;

/// Why a label got no action group. The first two are decided when the
/// list is read ([`Vocabulary::skipped`]), the others by the rules and the
/// views gate; every label of a list ends up in a group or is listed with
/// one of these, never silently dropped.
///
/// ```
/// use hashtag_select::{UngroupedReason, Vocabulary};
/// let v = Vocabulary::from_names("demo", &["salsa dancing", "???", "salsa dancing"]);
/// let reasons: Vec<UngroupedReason> = v.skipped.iter().map(|s| s.reason).collect();
/// assert_eq!(reasons, [UngroupedReason::NoContentWords, UngroupedReason::Duplicate]);
/// assert_eq!(UngroupedReason::Duplicate.to_string(), "duplicate");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UngroupedReason {
    /// Its name has no words once normalised: emoji, punctuation, only
    /// stop words, or only a parenthesis.
    NoContentWords,
    /// The same name appears earlier in the same list.
    Duplicate,
    /// The rules proposed no tag for it (every candidate was shorter than
    /// `RuleConfig::min_chars`).
    NoCandidate,
    /// None of its tags passed the views gate.
    NoTagPassedGate,
}

impl std::fmt::Display for UngroupedReason {
    /// The serialised name (`no_content_words`, ...).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UngroupedReason::NoContentWords => "no_content_words",
            UngroupedReason::Duplicate => "duplicate",
            UngroupedReason::NoCandidate => "no_candidate",
            UngroupedReason::NoTagPassedGate => "no_tag_passed_gate",
        })
    }
}

/// A class of a list that is not among [`Vocabulary::labels`].
///
/// ```
/// use hashtag_select::{UngroupedReason, Vocabulary};
/// let v = Vocabulary::from_names("demo", &["juggling", "💃🕺"]);
/// let s = &v.skipped[0];
/// assert_eq!((s.index, s.name.as_str()), (1, "💃🕺"));
/// assert_eq!(s.reason, UngroupedReason::NoContentWords);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLabel {
    /// Its 0-based index in the list.
    pub index: usize,
    /// The name as written.
    pub name: String,
    /// Why it was left out.
    pub reason: UngroupedReason,
}

/// One action class of a vocabulary.
///
/// ```
/// use hashtag_select::Vocabulary;
/// let v = Vocabulary::from_names("ucf101", &["ApplyEyeMakeup", "BasketballDunk"]);
/// let l = &v.labels[1];
/// assert_eq!((l.dataset.as_str(), l.index, l.name.as_str()), ("ucf101", 1, "BasketballDunk"));
/// assert_eq!(l.words, ["basketball", "dunk"]);
/// ```
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
///
/// ```
/// use hashtag_select::Vocabulary;
/// let path = std::env::temp_dir().join(format!("hs_doc_vocab_{}.txt", std::process::id()));
/// std::fs::write(&path, "# UCF101 classInd.txt\n1 ApplyEyeMakeup\n2 Archery\n")?;
/// let v = Vocabulary::from_file(&path)?;
/// # std::fs::remove_file(&path).ok();
/// assert_eq!(v.name, format!("hs_doc_vocab_{}", std::process::id()));
/// let names: Vec<&str> = v.labels.iter().map(|l| l.name.as_str()).collect();
/// assert_eq!(names, ["ApplyEyeMakeup", "Archery"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Name (the file stem when read from a file).
    pub name: String,
    /// Classes in list order; those without content words, and repeats of
    /// an earlier name, are in `skipped` instead.
    pub labels: Vec<ActionLabel>,
    /// Classes left out of `labels`, and why.
    #[serde(default)]
    pub skipped: Vec<SkippedLabel>,
}

impl Vocabulary {
    /// A vocabulary from class names.
    /// A name without content words (`💃🕺`, `???`) or repeating an earlier
    /// one is listed in [`skipped`](Self::skipped) with its reason.
    pub fn from_names<S: AsRef<str>>(name: &str, names: &[S]) -> Self {
        let mut labels = Vec::with_capacity(names.len());
        let mut skipped = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (index, n) in names.iter().enumerate() {
            let n = n.as_ref();
            let words = label_words(n);
            let reason = if !seen.insert(n) {
                UngroupedReason::Duplicate
            } else if words.is_empty() {
                UngroupedReason::NoContentWords
            } else {
                labels.push(ActionLabel {
                    dataset: name.to_owned(),
                    index,
                    name: n.to_owned(),
                    words,
                });
                continue;
            };
            skipped.push(SkippedLabel {
                index,
                name: n.to_owned(),
                reason,
            });
        }
        Vocabulary {
            name: name.to_owned(),
            labels,
            skipped,
        }
    }

    /// Reads a class list:
    /// - `.txt`: one class per line (`ApplyEyeMakeup`, or UCF101's
    ///   `classInd.txt` style `1 ApplyEyeMakeup`); blank lines and
    ///   comments (`# ...`: a `#` followed by a space or another `#`, or
    ///   alone) skipped, while `#salsa` is a hashtag-style class name;
    /// - `.json`: a list of names, or an object mapping names to indices
    ///   (SSv2's `something-something-v2-labels.json`);
    /// - `.csv`: a header with a `label` column (Kinetics annotations); the
    ///   distinct labels, sorted, as Kinetics indexes them.
    pub fn from_file(path: &Path) -> Result<Self, HashtagError> {
        let text = read_text(path)?;
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
                .filter(|l| !l.is_empty() && !is_comment(l))
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

/// A comment line of a `.txt` class list: `#` alone or followed by space
/// or `#`. A `#` glued to a word is a hashtag-style class name, which
/// would otherwise vanish without a trace.
fn is_comment(line: &str) -> bool {
    let mut c = line.chars();
    c.next() == Some('#') && c.next().is_none_or(|n| n.is_whitespace() || n == '#')
}

fn json_names(path: &Path, text: &str) -> Result<Vec<String>, HashtagError> {
    match parse_json(path, text)? {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s),
                other => Err(HashtagError::malformed(
                    path,
                    line_of_element(text, i),
                    format!(
                        "class {i}: expected a name (string), found {}",
                        describe(&other)
                    ),
                )),
            })
            .collect(),
        Value::Object(map) => {
            let mut pairs = Vec::with_capacity(map.len());
            for (name, v) in map {
                let idx = whole_number(&v).ok_or_else(|| {
                    HashtagError::malformed(
                        path,
                        line_of_key(text, &name),
                        format!(
                            "index of {name:?}: expected a whole number >= 0, found {}",
                            describe(&v)
                        ),
                    )
                })?;
                pairs.push((idx, name));
            }
            pairs.sort();
            // Two names with one index would shift every later class.
            if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(HashtagError::malformed(
                    path,
                    line_of_key(text, &w[1].1),
                    format!(
                        "index {} is given to both {:?} and {:?}",
                        w[0].0, w[0].1, w[1].1
                    ),
                ));
            }
            Ok(pairs.into_iter().map(|(_, n)| n).collect())
        }
        other => Err(HashtagError::malformed(
            path,
            Some(1),
            format!(
                "expected a list of class names or an object {{name: index}}, found {}",
                describe(&other)
            ),
        )),
    }
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
    for row in reader.records() {
        // The csv crate knows where a (possibly multi-line) record starts.
        let row = row.map_err(|e| {
            let line = e.position().map(|p| p.line());
            HashtagError::malformed(path, line, e.to_string())
        })?;
        if let Some(l) = row.get(col).map(str::trim).filter(|l| !l.is_empty()) {
            set.insert(l.to_owned());
        }
    }
    Ok(set.into_iter().collect())
}
