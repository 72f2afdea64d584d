//! Platform-reported tag views and the views gate (SPEC 1a: keep a hashtag
//! only if the platform reports at least 5 million views for it).

use std::collections::BTreeMap;
use std::path::Path;

use curation_core::normalize_hashtag;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::HashtagError;
use crate::input::{describe, line_of_element, line_of_key, parse_json, read_text, whole_number};

/// Views per tag as the platform reports them (its tag page counter).
///
/// ```
/// use hashtag_select::TagViews;
/// let path = std::env::temp_dir().join(format!("hs_doc_views_{}.csv", std::process::id()));
/// std::fs::write(&path, "hashtag,views\n#Salsa,\"80,000,000\"\nsalsa,5\ntango,12\n").unwrap();
/// let views = TagViews::from_file(&path)?;
/// # std::fs::remove_file(&path).ok();
/// assert_eq!(views.get("salsa"), Some(80_000_000)); // the larger figure wins
/// assert_eq!(views.get("tango"), Some(12));
/// assert_eq!(views.get("waltz"), None);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TagViews(pub BTreeMap<String, u64>);

const TAG_COLUMNS: &[&str] = &["tag", "hashtag", "name", "challenge"];
const VIEW_COLUMNS: &[&str] = &[
    "views",
    "view_count",
    "video_views",
    "views_count",
    "viewcount",
];

impl TagViews {
    /// Reads views from
    /// - CSV with a header naming a tag column (`tag`, `hashtag`, `name`) and
    ///   a views column (`views`, `view_count`, `video_views`);
    /// - JSON: `{"salsa": 123, ...}` or `[{"tag": "salsa", "views": 123}, ...]`.
    ///
    /// Tags are normalised; a tag listed twice keeps its largest figure
    /// (platforms are crawled at different times); a count that is not a
    /// whole number is an error naming its line.
    pub fn from_file(path: &Path) -> Result<Self, HashtagError> {
        let text = read_text(path)?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            return Self::from_json(path, &text);
        }
        let mut out = TagViews::default();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| HashtagError::malformed(path, Some(1), e.to_string()))?
            .clone();
        let find = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let (Some(tc), Some(vc)) = (find(TAG_COLUMNS), find(VIEW_COLUMNS)) else {
            return Err(HashtagError::malformed(
                path,
                Some(1),
                format!(
                    "header needs a tag column ({TAG_COLUMNS:?}) and a views column ({VIEW_COLUMNS:?})"
                ),
            ));
        };
        for row in reader.records() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line());
                HashtagError::malformed(path, line, e.to_string())
            })?;
            // The line a (possibly multi-line, quoted) record starts on.
            let line = row.position().map_or(0, |p| p.line());
            let tag = row.get(tc).unwrap_or_default();
            let raw = row.get(vc).unwrap_or_default().replace(['_', ','], "");
            let views: u64 = raw.parse().map_err(|_| {
                HashtagError::malformed(
                    path,
                    Some(line),
                    format!(
                        "{}: {raw:?} is not a whole number of views (0 to 18446744073709551615)",
                        &headers[vc]
                    ),
                )
            })?;
            out.insert(tag, views);
        }
        Ok(out)
    }

    /// The JSON forms of [`from_file`](Self::from_file); an entry that is
    /// not a tag with a whole number of views is an error naming the tag
    /// (or row) and its line.
    fn from_json(path: &Path, text: &str) -> Result<Self, HashtagError> {
        const EXPECTED: &str = "a whole number of views (0 to 18446744073709551615)";
        let mut out = TagViews::default();
        match parse_json(path, text)? {
            Value::Object(map) => {
                for (tag, v) in &map {
                    let views = whole_number(v).ok_or_else(|| {
                        HashtagError::malformed(
                            path,
                            line_of_key(text, tag),
                            format!(
                                "views of {tag:?}: expected {EXPECTED}, found {}",
                                describe(v)
                            ),
                        )
                    })?;
                    out.insert(tag, views);
                }
            }
            Value::Array(rows) => {
                for (i, row) in rows.iter().enumerate() {
                    let bad = |message: String| {
                        HashtagError::malformed(path, line_of_element(text, i), message)
                    };
                    let Value::Object(row) = row else {
                        return Err(bad(format!(
                            "row {i}: expected an object {{\"tag\": ..., \"views\": ...}}, found {}",
                            describe(row)
                        )));
                    };
                    let field = |names: &[&str]| names.iter().find_map(|n| row.get(*n));
                    let tag = match field(TAG_COLUMNS) {
                        Some(Value::String(t)) => t,
                        Some(v) => {
                            return Err(bad(format!(
                                "row {i}: tag: expected a string, found {}",
                                describe(v)
                            )));
                        }
                        None => {
                            return Err(bad(format!(
                                "row {i}: no tag field (one of {TAG_COLUMNS:?})"
                            )));
                        }
                    };
                    let Some(v) = field(VIEW_COLUMNS) else {
                        return Err(bad(format!(
                            "row {i} ({tag:?}): no views field (one of {VIEW_COLUMNS:?})"
                        )));
                    };
                    let views = whole_number(v).ok_or_else(|| {
                        bad(format!(
                            "row {i} ({tag:?}): views: expected {EXPECTED}, found {}",
                            describe(v)
                        ))
                    })?;
                    out.insert(tag, views);
                }
            }
            other => {
                return Err(HashtagError::malformed(
                    path,
                    Some(1),
                    format!(
                        "expected an object {{\"tag\": views, ...}} or a list of {{\"tag\": ..., \"views\": ...}} rows, found {}",
                        describe(&other)
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Records `views` for `tag` (normalised; the larger figure wins).
    pub fn insert(&mut self, tag: &str, views: u64) {
        let t = normalize_hashtag(tag);
        if !t.is_empty() {
            let e = self.0.entry(t).or_insert(0);
            *e = (*e).max(views);
        }
    }

    /// The platform's figure for `tag` (a normal form).
    pub fn get(&self, tag: &str) -> Option<u64> {
        self.0.get(tag).copied()
    }
}

/// Where the views a gate decision used came from.
///
/// ```
/// use hashtag_select::{ViewsGate, stats::ViewsSource};
/// let g = ViewsGate::default();
/// let source = |d| match d {
///     hashtag_select::GateDecision::Pass { source, .. }
///     | hashtag_select::GateDecision::Below { source, .. } => source,
/// };
/// assert_eq!(source(g.decide(Some(9_000_000), 10)), ViewsSource::Platform);
/// assert_eq!(source(g.decide(None, 10)), ViewsSource::CrawlLowerBound);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewsSource {
    /// The platform's tag counter.
    Platform,
    /// The summed views of crawled posts: a lower bound of the platform's.
    CrawlLowerBound,
}

/// The views gate's verdict on one tag.
///
/// ```
/// use hashtag_select::{GateDecision, ViewsGate, stats::ViewsSource};
/// let d = ViewsGate::default().decide(Some(4_000_000), 0);
/// assert_eq!(d, GateDecision::Below { views: 4_000_000, source: ViewsSource::Platform });
/// assert!(!d.passed());
/// assert_eq!(d.views(), 4_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum GateDecision {
    /// At or above the threshold.
    Pass {
        /// The figure used.
        views: u64,
        /// Its source.
        source: ViewsSource,
    },
    /// Below it.
    Below {
        /// The figure used.
        views: u64,
        /// Its source.
        source: ViewsSource,
    },
}

impl GateDecision {
    /// Whether the tag passed.
    pub fn passed(self) -> bool {
        matches!(self, GateDecision::Pass { .. })
    }

    /// The figure the decision used.
    pub fn views(self) -> u64 {
        match self {
            GateDecision::Pass { views, .. } | GateDecision::Below { views, .. } => views,
        }
    }
}

/// Keep a tag only with at least `min_views` platform views.
///
/// ```
/// use hashtag_select::ViewsGate;
/// let gate = ViewsGate { min_views: 1_000 };
/// assert!(gate.decide(Some(1_000), 0).passed());
/// assert!(!gate.decide(Some(999), 0).passed());
/// // Crawled posts summing past the threshold prove a stale platform figure low.
/// assert!(gate.decide(Some(10), 2_000).passed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewsGate {
    /// Threshold (5,000,000 in the paper).
    pub min_views: u64,
}

impl Default for ViewsGate {
    fn default() -> Self {
        ViewsGate {
            min_views: 5_000_000,
        }
    }
}

impl ViewsGate {
    /// Decides from the platform's figure when there is one, else from the
    /// crawled posts' summed views: the platform counts at least those, so a
    /// crawl sum at or above the threshold proves the tag passes, and one
    /// below it is reported as such (with its source, so a user can fetch
    /// the platform figure).
    pub fn decide(&self, platform: Option<u64>, crawl_views: u64) -> GateDecision {
        let (views, source) = match platform {
            Some(v) if v >= crawl_views => (v, ViewsSource::Platform),
            _ => (crawl_views, ViewsSource::CrawlLowerBound),
        };
        if views >= self.min_views {
            GateDecision::Pass { views, source }
        } else {
            GateDecision::Below { views, source }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_uses_the_best_evidence() {
        let g = ViewsGate::default();
        assert!(g.decide(Some(5_000_000), 0).passed());
        assert!(!g.decide(Some(4_999_999), 0).passed());
        // A crawl sum above the platform's stale figure proves more views.
        assert!(g.decide(Some(1), 6_000_000).passed());
        assert_eq!(
            g.decide(None, 10),
            GateDecision::Below {
                views: 10,
                source: ViewsSource::CrawlLowerBound
            }
        );
    }

    #[test]
    fn views_files() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("v.csv");
        std::fs::write(
            &csv,
            "Hashtag,View_Count\n#Salsa,\"12,000,000\"\nsalsa,5\ntango,7\n",
        )
        .unwrap();
        let v = TagViews::from_file(&csv).unwrap();
        assert_eq!(v.get("salsa"), Some(12_000_000));
        assert_eq!(v.get("tango"), Some(7));
        std::fs::write(&csv, "tag,views\nsalsa,many\n").unwrap();
        let e = TagViews::from_file(&csv).unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("many"), "{e}");
        std::fs::write(&csv, "tag,count\nsalsa,1\n").unwrap();
        assert!(TagViews::from_file(&csv).is_err());
        let json = dir.path().join("v.json");
        std::fs::write(&json, r#"[{"hashtag": "ＴＡＮＧＯ", "views": 9}]"#).unwrap();
        assert_eq!(TagViews::from_file(&json).unwrap().get("tango"), Some(9));
    }
}
