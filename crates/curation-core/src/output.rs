//! Files a curation run writes for the later stages: the JSONL manifest, the
//! VideoMAE pretraining list (`path 0 -1`), fine-tuning lists (`path label`)
//! with their label map, the deterministic train/val split, and run
//! provenance. Every file is written under a temporary name and renamed when
//! complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CurationError, InvalidValue};
use crate::filter::FilterConfig;
use crate::hashtag::normalize_hashtag;
use crate::ingest::InputFile;
use crate::record::VideoRecord;

/// A file written as `<name>.tmp` and renamed on [`commit`](Self::commit).
/// Dropped without a commit (an error on the way), it removes its `.tmp`:
/// a failed run leaves the earlier file and no debris.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once committed.
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path`.
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
        let tmp = self.tmp.clone();
        writeln!(self.writer(), "{text}").map_err(CurationError::io(tmp))
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), CurationError> {
        let tmp = self.tmp.clone();
        self.writer()
            .write_all(data)
            .map_err(CurationError::io(tmp))
    }

    /// Flushes, syncs and renames into place.
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

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CurationError> {
    let mut f = AtomicFile::create(path)?;
    let text = serde_json::to_vec_pretty(value).expect("plain data serialises");
    f.bytes(&text)?;
    f.bytes(b"\n")?;
    f.commit().map(|_| ())
}

/// Train or validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training set.
    Train,
    /// Validation set.
    Val,
}

/// A record id's position in [0, 1): the first 8 bytes of SHA-256(id), big
/// endian, over 2^64. Depends on the id alone, so adding records never moves
/// old ones between splits.
pub fn id_unit_hash(id: &str) -> f64 {
    let digest = Sha256::digest(id.as_bytes());
    let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (head >> 11) as f64 / (1u64 << 53) as f64
}

/// The split of `id` when a fraction `val_fraction` goes to validation.
pub fn split_of(id: &str, val_fraction: f64) -> Split {
    if id_unit_hash(id) < val_fraction {
        Split::Val
    } else {
        Split::Train
    }
}

/// One class of a [`LabelMap`].
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMap {
    /// Classes in index order.
    pub classes: Vec<LabelClass>,
}

impl LabelMap {
    /// Classes with these names and no extra tags.
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
        let mut seen = std::collections::HashSet::new();
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

    /// A lookup from names and member tags to class indices.
    pub fn index(&self) -> LabelIndex {
        let mut by_tag = std::collections::HashMap::new();
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
#[derive(Debug, Clone)]
pub struct LabelIndex {
    by_name: std::collections::HashMap<String, usize>,
    by_tag: std::collections::HashMap<String, usize>,
}

impl LabelIndex {
    /// The class of a record: its `label` when it names a class (a label
    /// naming no class gives `None`), else the class of its first hashtag
    /// that is a class name or member tag.
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

/// Where a run came from: enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// Writer of the files.
    pub tool: String,
    /// Version of curation-core.
    pub version: String,
    /// The filter config in force.
    pub config: FilterConfig,
    /// SHA-256 of the config's canonical JSON.
    pub config_sha256: String,
    /// Input files read.
    pub inputs: Vec<InputFile>,
    /// Start time, UTC, RFC 3339.
    pub started_at: String,
    /// End time, UTC, RFC 3339 (empty while running).
    pub finished_at: String,
}

impl Provenance {
    /// Provenance for a run starting now.
    pub fn start(config: &FilterConfig, inputs: Vec<InputFile>) -> Self {
        Provenance {
            tool: "tubelet curation-core".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config: config.clone(),
            config_sha256: config.sha256(),
            inputs,
            started_at: utc_now(),
            finished_at: String::new(),
        }
    }
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unit_hash_matches_sha256() {
        // sha256("abc") = ba7816bf8f01cfea...; head 0xba7816bf8f01cfea.
        let expected = (0xba7816bf8f01cfeau64 >> 11) as f64 / (1u64 << 53) as f64;
        assert_eq!(id_unit_hash("abc"), expected);
        assert_eq!(split_of("abc", 0.5), Split::Train); // 0.728... >= 0.5
        assert_eq!(split_of("abc", 0.75), Split::Val);
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    proptest! {
        #[test]
        fn split_is_stable_under_insertion(
            ids in proptest::collection::vec("[a-zA-Z0-9_-]{1,12}", 1..50),
            added in proptest::collection::vec("[a-zA-Z0-9_-]{1,12}", 0..50),
            frac in 0.0f64..1.0,
        ) {
            let before: Vec<Split> = ids.iter().map(|i| split_of(i, frac)).collect();
            let mut all = added.clone();
            all.extend(ids.iter().cloned());
            let after: std::collections::HashMap<&String, Split> =
                all.iter().map(|i| (i, split_of(i, frac))).collect();
            for (id, s) in ids.iter().zip(before) {
                prop_assert_eq!(after[id], s);
            }
        }

        #[test]
        fn val_share_tracks_fraction(frac in 0.05f64..0.95) {
            let n = 4000;
            let val = (0..n).filter(|i| split_of(&format!("id{i}"), frac) == Split::Val).count();
            let share = val as f64 / n as f64;
            // Binomial std at n=4000 is <= 0.008; 5 sigma.
            prop_assert!((share - frac).abs() < 0.04, "share {share} vs {frac}");
        }
    }
}
