//! The classes of a fine-tuning set ([`LabelMap`]: names in index order and
//! the hashtags that assign records to them) and the record-to-class lookup
//! ([`LabelIndex`]). hashtag-select writes label maps; curation reads them to
//! write `train.csv`, `val.csv`, `label_map.json` and `labels.txt`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::{AtomicFile, write_json};
use crate::error::{CurationError, InvalidValue};
use crate::hashtag::normalize_hashtag;
use crate::record::VideoRecord;

/// One class of a [`LabelMap`].
///
/// ```
/// use curation_core::{LabelClass, LabelMap};
/// let map: LabelMap = serde_json::from_str(
///     r#"{"classes": [{"name": "salsa", "tags": ["salsadance"]}, {"name": "tango"}]}"#)?;
/// let salsa = LabelClass { name: "salsa".into(), tags: vec!["salsadance".into()] };
/// assert_eq!(map.classes[0], salsa);
/// assert!(map.classes[1].tags.is_empty()); // `tags` may be left out
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelClass {
    /// Class name (written to `labels.txt`).
    pub name: String,
    /// Hashtags that assign a record to this class (the action group's
    /// member tags); matched on normal forms.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Class names and indices (0-based, VideoMAE's convention) and the hashtags
/// that map records to them; written by hashtag-select, read here.
///
/// JSON: `{"classes": [{"name": "salsa", "tags": ["salsa", "salsadance"]}, ...]}`
/// or a plain list of names; text: one class name per line (line N = class N-1).
///
/// ```
/// use curation_core::LabelMap;
/// let path = std::env::temp_dir().join(format!("curation-doc-labels-{}.txt", std::process::id()));
/// std::fs::write(&path, "salsa\n\ntango\n")?;
/// let map = LabelMap::from_file(&path)?;
/// assert_eq!(map.classes.len(), 2); // blank lines are skipped
/// assert_eq!(map.classes[1].name, "tango"); // line order is index order
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMap {
    /// Classes in index order.
    pub classes: Vec<LabelClass>,
}

impl LabelMap {
    /// Classes with these names, in this order, and no extra tags.
    ///
    /// ```
    /// use curation_core::LabelMap;
    /// let map = LabelMap::from_names(&["salsa", "tango"]);
    /// assert_eq!(map.classes[1].name, "tango");
    /// assert!(map.classes[1].tags.is_empty());
    /// assert!(map.validate().is_ok());
    /// ```
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        let classes = names
            .iter()
            .map(|n| LabelClass {
                name: n.as_ref().to_owned(),
                tags: Vec::new(),
            })
            .collect();
        LabelMap { classes }
    }

    /// Reads a `.json` label map or a text list of names (`.txt`, one class
    /// name per line, blank lines skipped).
    ///
    /// Files of another kind are refused rather than misread: a `.jsonl` or
    /// `.ndjson` file, a text line that is a JSON object or array (a JSON
    /// Lines file under another name), a JSON value that is neither of the
    /// documented forms. The classes are then checked ([`validate`](Self::validate)).
    pub fn from_file(path: &Path) -> Result<Self, CurationError> {
        let text = crate::error::read_config_text(path)?;
        let bad = |message: String| CurationError::Config {
            path: path.to_owned(),
            message,
        };
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let map = match ext.as_deref() {
            Some("json") => Self::from_json(&text).map_err(bad)?,
            Some("jsonl" | "ndjson") => {
                return Err(bad(
                    "a JSON Lines file is not a label map: give a .json file \
                     ({\"classes\": [...]} or a list of names) or a text file with one \
                     class name per line"
                        .into(),
                ));
            }
            _ => {
                let mut names = Vec::new();
                for (i, line) in text.lines().enumerate() {
                    let name = line.trim();
                    if name.is_empty() {
                        continue;
                    }
                    if name.starts_with(['{', '['])
                        && serde_json::from_str::<serde::de::IgnoredAny>(name).is_ok()
                    {
                        return Err(bad(format!(
                            "line {} is a JSON {}, not a class name (a text label map \
                             has one class name per line; JSON label maps end in .json)",
                            i + 1,
                            if name.starts_with('{') {
                                "object"
                            } else {
                                "array"
                            }
                        )));
                    }
                    names.push(name);
                }
                LabelMap::from_names(&names)
            }
        };
        map.validate().map_err(|e| bad(e.to_string()))?;
        Ok(map)
    }

    /// Parses the JSON forms: `{"classes": [{"name", "tags"}, ...]}` or a
    /// list of names. Errors name the entry (`classes[2].tags`, `entry 3`).
    fn from_json(text: &str) -> Result<Self, String> {
        use serde_json::Value;
        fn kind(v: &Value) -> &'static str {
            match v {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            }
        }
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let names = |list: &[Value], what: &str| -> Result<Vec<String>, String> {
            list.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    v => Err(format!("{what}[{i}]: expected a string, found {}", kind(v))),
                })
                .collect()
        };
        match value {
            Value::Array(list) => Ok(LabelMap::from_names(&names(&list, "entry")?)),
            Value::Object(mut obj) => {
                let Some(classes) = obj.remove("classes") else {
                    return Err("expected an object with a `classes` list".into());
                };
                let Value::Array(classes) = classes else {
                    return Err(format!(
                        "`classes`: expected a list, found {}",
                        kind(&classes)
                    ));
                };
                let mut out = Vec::with_capacity(classes.len());
                for (i, c) in classes.into_iter().enumerate() {
                    let Value::Object(mut c) = c else {
                        return Err(format!(
                            "classes[{i}]: expected an object {{\"name\", \"tags\"}}, found {}",
                            kind(&c)
                        ));
                    };
                    let name = match c.remove("name") {
                        Some(Value::String(s)) => s,
                        Some(v) => {
                            return Err(format!(
                                "classes[{i}].name: expected a string, found {}",
                                kind(&v)
                            ));
                        }
                        None => return Err(format!("classes[{i}]: missing `name`")),
                    };
                    let tags = match c.remove("tags") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(t)) => names(&t, &format!("classes[{i}].tags"))?,
                        Some(v) => {
                            return Err(format!(
                                "classes[{i}].tags: expected a list of strings, found {}",
                                kind(&v)
                            ));
                        }
                    };
                    out.push(LabelClass { name, tags });
                }
                Ok(LabelMap { classes: out })
            }
            v => Err(format!(
                "expected an object {{\"classes\": [...]}} or a list of class names, found {}",
                kind(&v)
            )),
        }
    }

    /// Checks the classes: at least one; names non-empty, unique, without
    /// line breaks or other control characters (`labels.txt` holds one name
    /// per line, so such a name would shift every later class).
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.classes.is_empty() {
            return Err(InvalidValue::new("classes", "no class names"));
        }
        let mut seen = HashSet::new();
        for (i, c) in self.classes.iter().enumerate() {
            let field = || format!("classes[{i}]");
            if c.name.trim().is_empty() {
                return Err(InvalidValue::new(field(), "empty class name"));
            }
            if c.name.chars().any(char::is_control) {
                return Err(InvalidValue::new(
                    field(),
                    format!(
                        "class name {:?} contains a control character",
                        crate::error::clip(c.name.clone())
                    ),
                ));
            }
            if !seen.insert(c.name.as_str()) {
                return Err(InvalidValue::new(
                    field(),
                    format!(
                        "class {:?} appears twice",
                        crate::error::clip(c.name.clone())
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A lookup from names and member tags to class indices. Tags match on
    /// their normal form; a tag claimed by two classes goes to the first.
    ///
    /// ```
    /// use curation_core::{Hashtag, LabelClass, LabelMap, VideoRecord};
    /// let map = LabelMap {
    ///     classes: vec![
    ///         LabelClass { name: "salsa".into(), tags: vec!["SalsaDance".into()] },
    ///         LabelClass { name: "tango".into(), tags: vec!["salsadance".into()] },
    ///     ],
    /// };
    /// let index = map.index();
    /// let mut r = VideoRecord::default();
    /// r.hashtags = vec![Hashtag::new("salsadance").unwrap()];
    /// assert_eq!(index.label_of(&r), Some(0)); // the first class keeps the tag
    /// ```
    pub fn index(&self) -> LabelIndex {
        let mut by_tag = HashMap::new();
        for (i, c) in self.classes.iter().enumerate() {
            for t in std::iter::once(&c.name).chain(&c.tags) {
                // The first class to claim a tag keeps it.
                by_tag.entry(normalize_hashtag(t)).or_insert(i);
            }
        }
        let by_name = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        LabelIndex { by_name, by_tag }
    }

    /// Writes `label_map.json` and `labels.txt` (line N = class N-1) to `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), CurationError> {
        write_json(&dir.join("label_map.json"), self)?;
        let mut txt = AtomicFile::create(dir.join("labels.txt"))?;
        for c in &self.classes {
            txt.line(&c.name)?;
        }
        txt.commit().map(|_| ())
    }
}

/// Assigns class indices to records (see [`LabelMap::index`]).
///
/// ```
/// use curation_core::{LabelMap, VideoRecord};
/// let index = LabelMap::from_names(&["salsa", "tango"]).index();
/// let r = VideoRecord { label: Some("tango".into()), ..VideoRecord::default() };
/// assert_eq!(index.label_of(&r), Some(1));
/// assert_eq!(index.label_of(&VideoRecord::default()), None); // no label, no hashtag
/// ```
#[derive(Debug, Clone)]
pub struct LabelIndex {
    by_name: HashMap<String, usize>,
    by_tag: HashMap<String, usize>,
}

impl LabelIndex {
    /// The class of a record: its `label` when it names a class (a label
    /// naming no class gives `None`), else the class of its first hashtag
    /// that is a class name or member tag.
    ///
    /// ```
    /// use curation_core::{Hashtag, LabelMap, VideoRecord};
    /// let index = LabelMap::from_names(&["salsa", "tango"]).index();
    /// let mut r = VideoRecord::default();
    /// r.hashtags = ["fun", "Tango", "salsa"].map(|t| Hashtag::new(t).unwrap()).to_vec();
    /// assert_eq!(index.label_of(&r), Some(1)); // first hashtag naming a class
    /// r.label = Some("salsa".into());
    /// assert_eq!(index.label_of(&r), Some(0)); // an explicit label wins
    /// r.label = Some("waltz".into());
    /// assert_eq!(index.label_of(&r), None); // and names no class here
    /// ```
    pub fn label_of(&self, r: &VideoRecord) -> Option<usize> {
        match &r.label {
            Some(label) => self.by_name.get(label).copied(),
            None => r
                .hashtags
                .iter()
                .find_map(|h| self.by_tag.get(&h.tag).copied()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> Result<LabelMap, CurationError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        LabelMap::from_file(&path)
    }

    fn names(map: &LabelMap) -> Vec<&str> {
        map.classes.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn every_documented_form_reads() {
        let obj = read(
            "m.json",
            r#"{"classes": [{"name": "salsa", "tags": ["salsadance"]}, {"name": "tango"}]}"#,
        )
        .unwrap();
        assert_eq!(names(&obj), ["salsa", "tango"]);
        assert_eq!(obj.classes[0].tags, ["salsadance"]);
        assert!(obj.classes[1].tags.is_empty());
        let list = read("m.json", r#"["salsa", "tango"]"#).unwrap();
        assert_eq!(list, LabelMap::from_names(&["salsa", "tango"]));
        let text = read("labels.txt", "salsa\n\n  tango  \n").unwrap();
        assert_eq!(text, list);
    }

    #[test]
    fn wrong_kinds_are_refused_naming_the_entry() {
        let msg = |r: Result<LabelMap, CurationError>| r.unwrap_err().to_string();
        assert!(msg(read("m.jsonl", "{}")).contains("JSON Lines"));
        assert!(msg(read("labels.txt", "salsa\n{\"a\": 1}\n")).contains("line 2 is a JSON object"));
        assert!(msg(read("m.json", r#"{"classes": [{"name": 3}]}"#)).contains("classes[0].name"));
        assert!(msg(read("m.json", r#"["a", 1]"#)).contains("entry[1]"));
        assert!(msg(read("m.json", "7")).contains("found a number"));
        assert!(msg(read("labels.txt", "a\na\n")).contains("appears twice"));
        assert!(msg(read("labels.txt", "\n")).contains("no class names"));
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let map = LabelMap {
            classes: vec![
                LabelClass {
                    name: "salsa".into(),
                    tags: vec!["salsadance".into()],
                },
                LabelClass {
                    name: "tango".into(),
                    tags: Vec::new(),
                },
            ],
        };
        map.write(dir.path()).unwrap();
        assert_eq!(
            LabelMap::from_file(&dir.path().join("label_map.json")).unwrap(),
            map
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("labels.txt")).unwrap(),
            "salsa\ntango\n"
        );
    }
}
