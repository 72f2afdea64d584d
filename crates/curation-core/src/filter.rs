//! Declarative metadata filters ([`FilterConfig`], a TOML or JSON file) and
//! their application ([`Filter`]): stateless checks in parallel (rayon), then
//! duplicate ids and duplicate media content in input order.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::CurationError;
use crate::hashtag::normalize_hashtag;
use crate::record::VideoRecord;
use crate::report::FilterReport;

/// An inclusive range; a missing bound is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Smallest accepted value.
    pub min: Option<f64>,
    /// Largest accepted value.
    pub max: Option<f64>,
}

impl Range {
    /// Whether `v` lies in the range.
    pub fn contains(&self, v: f64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// What a curation run keeps. Every field is optional; the default keeps
/// everything except repeated ids.
///
/// ```toml
/// duration = { min = 3.0, max = 60.0 }   # seconds
/// min_short_side = 360                    # pixels
/// aspect_ratio = { max = 1.0 }            # width / height: portrait or square
/// fps = { min = 15 }
/// languages = ["en", "es"]                # "en" also admits "en-US"
/// regions = ["US", "MX"]
/// min_views = 10000
/// min_likes = 100
/// hashtags_allow = ["salsa", "tango"]     # at least one of these
/// hashtags_deny = ["ad", "sponsored"]     # none of these
/// require_media = true                    # the local media file must exist
/// dedup_ids = true
/// dedup_content = true                    # SHA-256 of the media file
/// keep_missing = false                    # unknown values fail their check
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    /// Duration range in seconds.
    pub duration: Option<Range>,
    /// Minimum of width and height, in pixels.
    pub min_short_side: Option<u32>,
    /// Range of width / height.
    pub aspect_ratio: Option<Range>,
    /// Frame-rate range.
    pub fps: Option<Range>,
    /// Allowed languages (primary subtag match, case-insensitive); empty = any.
    pub languages: Vec<String>,
    /// Allowed regions (case-insensitive); empty = any.
    pub regions: Vec<String>,
    /// Minimum views.
    pub min_views: Option<u64>,
    /// Minimum likes.
    pub min_likes: Option<u64>,
    /// Keep only records with at least one of these hashtags; empty = any.
    pub hashtags_allow: Vec<String>,
    /// Reject records with any of these hashtags.
    pub hashtags_deny: Vec<String>,
    /// Reject records whose local media file does not exist.
    pub require_media: bool,
    /// Reject a record whose id was already kept.
    pub dedup_ids: bool,
    /// Reject a record whose media file has the same SHA-256 as a kept one.
    pub dedup_content: bool,
    /// Let records with an unknown value pass that value's check.
    pub keep_missing: bool,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            duration: None,
            min_short_side: None,
            aspect_ratio: None,
            fps: None,
            languages: Vec::new(),
            regions: Vec::new(),
            min_views: None,
            min_likes: None,
            hashtags_allow: Vec::new(),
            hashtags_deny: Vec::new(),
            require_media: false,
            dedup_ids: true,
            dedup_content: false,
            keep_missing: false,
        }
    }
}

impl FilterConfig {
    /// Reads a config from a `.toml` or `.json` file.
    pub fn from_file(path: &Path) -> Result<Self, CurationError> {
        let text = std::fs::read_to_string(path).map_err(CurationError::io(path))?;
        let config = |message: String| CurationError::Config {
            path: path.to_owned(),
            message,
        };
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            serde_json::from_str(&text).map_err(|e| config(e.to_string()))
        } else {
            toml::from_str(&text).map_err(|e| config(e.to_string()))
        }
    }

    /// SHA-256 of the config's canonical JSON (for provenance).
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(
            serde_json::to_vec(self).expect("config serialises"),
        ))
    }
}

/// Why a record was rejected, in the order checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Duration outside the range.
    Duration,
    /// Duration unknown.
    DurationMissing,
    /// Short side below the minimum.
    ShortSide,
    /// Aspect ratio outside the range.
    AspectRatio,
    /// Width or height unknown.
    SizeMissing,
    /// Frame rate outside the range.
    Fps,
    /// Frame rate unknown.
    FpsMissing,
    /// Language not allowed.
    Language,
    /// Language unknown.
    LanguageMissing,
    /// Region not allowed.
    Region,
    /// Region unknown.
    RegionMissing,
    /// Too few views.
    Views,
    /// Views unknown.
    ViewsMissing,
    /// Too few likes.
    Likes,
    /// Likes unknown.
    LikesMissing,
    /// Has a denied hashtag.
    HashtagDenied,
    /// Has none of the allowed hashtags.
    HashtagNotAllowed,
    /// The media file does not exist (or no path is known).
    MediaMissing,
    /// The media file could not be read for content hashing.
    MediaUnreadable,
    /// The id was already kept.
    DuplicateId,
    /// The media content was already kept under another id.
    DuplicateContent,
}

impl Reason {
    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Duration => "duration",
            Reason::DurationMissing => "duration_missing",
            Reason::ShortSide => "short_side",
            Reason::AspectRatio => "aspect_ratio",
            Reason::SizeMissing => "size_missing",
            Reason::Fps => "fps",
            Reason::FpsMissing => "fps_missing",
            Reason::Language => "language",
            Reason::LanguageMissing => "language_missing",
            Reason::Region => "region",
            Reason::RegionMissing => "region_missing",
            Reason::Views => "views",
            Reason::ViewsMissing => "views_missing",
            Reason::Likes => "likes",
            Reason::LikesMissing => "likes_missing",
            Reason::HashtagDenied => "hashtag_denied",
            Reason::HashtagNotAllowed => "hashtag_not_allowed",
            Reason::MediaMissing => "media_missing",
            Reason::MediaUnreadable => "media_unreadable",
            Reason::DuplicateId => "duplicate_id",
            Reason::DuplicateContent => "duplicate_content",
        }
    }
}

/// A [`FilterConfig`] ready to apply, with the dedup state of a run.
pub struct Filter {
    config: FilterConfig,
    allow: SortedSet,
    deny: SortedSet,
    languages: Vec<String>,
    regions: Vec<String>,
    seen_ids: HashSet<String>,
    seen_content: HashMap<[u8; 32], String>,
}

/// A sorted, deduplicated list: faster than hashing for the few to few
/// thousand tags of an allow/deny list, checked for every hashtag of every
/// record.
struct SortedSet(Vec<String>);

impl SortedSet {
    fn new(mut v: Vec<String>) -> Self {
        v.sort_unstable();
        v.dedup();
        SortedSet(v)
    }
    fn contains(&self, s: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(s)).is_ok()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn language_key(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace('_', "-")
}

impl Filter {
    /// Prepares `config` (normalises hashtag and language lists).
    pub fn new(config: FilterConfig) -> Self {
        let tags = |v: &[String]| SortedSet::new(v.iter().map(|t| normalize_hashtag(t)).collect());
        Filter {
            allow: tags(&config.hashtags_allow),
            deny: tags(&config.hashtags_deny),
            languages: config.languages.iter().map(|l| language_key(l)).collect(),
            regions: config
                .regions
                .iter()
                .map(|r| r.trim().to_ascii_lowercase())
                .collect(),
            config,
            seen_ids: HashSet::new(),
            seen_content: HashMap::new(),
        }
    }

    /// The config in force.
    pub fn config(&self) -> &FilterConfig {
        &self.config
    }

    /// Every failing stateless check of `r`, in check order (empty = passes).
    /// Duplicates are judged by [`apply`](Self::apply), against kept records.
    pub fn check(&self, r: &VideoRecord) -> Vec<Reason> {
        let c = &self.config;
        let mut out = Vec::new();
        let mut test = |value: Option<bool>, fail: Reason, missing: Reason| {
            let reason = match value {
                Some(true) => return,
                Some(false) => fail,
                None if c.keep_missing => return,
                None => missing,
            };
            // Size checks share `size_missing`: count it once.
            if out.last() != Some(&reason) {
                out.push(reason);
            }
        };
        if let Some(range) = &c.duration {
            test(
                r.duration.map(|d| range.contains(d)),
                Reason::Duration,
                Reason::DurationMissing,
            );
        }
        let size = r.width.zip(r.height).filter(|&(w, h)| w > 0 && h > 0);
        if let Some(min) = c.min_short_side {
            test(
                size.map(|(w, h)| w.min(h) >= min),
                Reason::ShortSide,
                Reason::SizeMissing,
            );
        }
        if let Some(range) = &c.aspect_ratio {
            let ok = size.map(|(w, h)| range.contains(w as f64 / h as f64));
            test(ok, Reason::AspectRatio, Reason::SizeMissing);
        }
        if let Some(range) = &c.fps {
            test(
                r.fps.map(|f| range.contains(f)),
                Reason::Fps,
                Reason::FpsMissing,
            );
        }
        if !self.languages.is_empty() {
            let ok = r.language.as_deref().map(|l| {
                let l = language_key(l);
                self.languages.iter().any(|a| {
                    l == *a
                        || (l.starts_with(a.as_str()) && l.as_bytes().get(a.len()) == Some(&b'-'))
                })
            });
            test(ok, Reason::Language, Reason::LanguageMissing);
        }
        if !self.regions.is_empty() {
            let ok = r
                .region
                .as_deref()
                .map(|g| self.regions.contains(&g.trim().to_ascii_lowercase()));
            test(ok, Reason::Region, Reason::RegionMissing);
        }
        if let Some(min) = c.min_views {
            test(
                r.views.map(|v| v >= min),
                Reason::Views,
                Reason::ViewsMissing,
            );
        }
        if let Some(min) = c.min_likes {
            test(
                r.likes.map(|v| v >= min),
                Reason::Likes,
                Reason::LikesMissing,
            );
        }
        if r.hashtags.iter().any(|h| self.deny.contains(&h.tag)) {
            out.push(Reason::HashtagDenied);
        }
        if !self.allow.is_empty() && !r.hashtags.iter().any(|h| self.allow.contains(&h.tag)) {
            out.push(Reason::HashtagNotAllowed);
        }
        if c.require_media && !r.media_path.as_deref().is_some_and(Path::is_file) {
            out.push(Reason::MediaMissing);
        }
        out
    }

    /// Filters one batch in parallel, updating the dedup state and `report`;
    /// returns the kept records in input order.
    pub fn apply(
        &mut self,
        records: Vec<VideoRecord>,
        report: &mut FilterReport,
    ) -> Vec<VideoRecord> {
        let dedup_content = self.config.dedup_content;
        // Media is hashed only for records that pass every other check.
        type Verdict = (Vec<Reason>, Option<std::io::Result<[u8; 32]>>);
        let verdicts: Vec<Verdict> = records
            .par_iter()
            .map(|r| {
                let reasons = self.check(r);
                let hash = match (&r.media_path, dedup_content && reasons.is_empty()) {
                    (Some(p), true) => Some(hash_file(p)),
                    _ => None,
                };
                (reasons, hash)
            })
            .collect();
        // Duplicates depend on input order: judged sequentially, on the
        // records that pass every other check.
        let mut keep = vec![false; records.len()];
        for ((r, (mut reasons, hash)), keep) in records.iter().zip(verdicts).zip(&mut keep) {
            if reasons.is_empty() {
                if self.config.dedup_ids && self.seen_ids.contains(&r.id) {
                    reasons.push(Reason::DuplicateId);
                }
                match hash {
                    Some(Err(_)) => reasons.push(Reason::MediaUnreadable),
                    Some(Ok(h)) if self.seen_content.contains_key(&h) => {
                        reasons.push(Reason::DuplicateContent)
                    }
                    Some(Ok(h)) if reasons.is_empty() => {
                        self.seen_content.insert(h, r.id.clone());
                    }
                    _ => {}
                }
            }
            report.count(&r.id, &reasons);
            if reasons.is_empty() {
                if self.config.dedup_ids {
                    self.seen_ids.insert(r.id.clone());
                }
                *keep = true;
            }
        }
        // Rejected records are dropped on the worker threads, not here.
        records
            .into_par_iter()
            .zip(keep)
            .filter_map(|(r, k)| k.then_some(r))
            .collect()
    }
}

/// SHA-256 of a file, streamed.
pub fn hash_file(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
