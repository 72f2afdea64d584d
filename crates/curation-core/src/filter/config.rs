//! [`FilterConfig`] (a TOML or JSON file) and the [`Reason`]s a record can be
//! rejected for.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::hex;
use crate::error::{CurationError, InvalidValue};

/// An inclusive range; a missing bound is open.
///
/// ```
/// use curation_core::Range;
/// let r = Range { min: Some(3.0), max: None };
/// assert!(r.contains(3.0) && r.contains(1e6)); // inclusive; no upper bound
/// assert!(!r.contains(2.9));
/// assert!(r.validate("duration").is_ok());
/// let bad = Range { min: Some(5.0), max: Some(1.0) };
/// assert_eq!(bad.validate("duration").unwrap_err().field, "duration");
/// ```
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

    /// Checks the bounds of the range configured as `field`: finite, not
    /// negative (durations, frame rates and aspect ratios never are), and
    /// `min <= max`. A range failing this would silently reject every record.
    pub fn validate(&self, field: &str) -> Result<(), InvalidValue> {
        for (bound, v) in [("min", self.min), ("max", self.max)] {
            let Some(v) = v else { continue };
            if !v.is_finite() {
                return Err(InvalidValue::new(
                    format!("{field}.{bound}"),
                    format!("{v} is not a finite number"),
                ));
            }
            if v < 0.0 {
                return Err(InvalidValue::new(
                    format!("{field}.{bound}"),
                    format!("{v} is negative"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(InvalidValue::new(
                field,
                format!("min {min} is greater than max {max}: no value could pass"),
            ));
        }
        Ok(())
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
        let text = crate::error::read_config_text(path)?;
        let config = |message: String| CurationError::Config {
            path: path.to_owned(),
            message,
        };
        let parsed: FilterConfig = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            serde_json::from_str(&text).map_err(|e| config(json_error_with_field(&text, e)))?
        } else {
            toml::from_str(&text).map_err(|e| config(e.to_string()))?
        };
        parsed.validate().map_err(|e| config(e.to_string()))?;
        Ok(parsed)
    }

    /// Checks every value: ranges (see [`Range::validate`]), and list
    /// entries that would match nothing (an empty language or region, a
    /// hashtag that is empty once normalised, such as `"#"`). The error
    /// names the field.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        for (name, range) in [
            ("duration", &self.duration),
            ("aspect_ratio", &self.aspect_ratio),
            ("fps", &self.fps),
        ] {
            if let Some(r) = range {
                r.validate(name)?;
            }
        }
        for (name, list, normalise) in [
            ("languages", &self.languages, false),
            ("regions", &self.regions, false),
            ("hashtags_allow", &self.hashtags_allow, true),
            ("hashtags_deny", &self.hashtags_deny, true),
        ] {
            for (i, entry) in list.iter().enumerate() {
                let empty = if normalise {
                    crate::normalize_hashtag(entry).is_empty()
                } else {
                    entry.trim().is_empty()
                };
                if empty {
                    return Err(InvalidValue::new(
                        format!("{name}[{i}]"),
                        format!("{entry:?} is empty and would match nothing"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// SHA-256 of the config's canonical JSON (for provenance).
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(
            serde_json::to_vec(self).expect("config serialises"),
        ))
    }
}

/// serde_json names no field in errors such as "invalid value: integer
/// `-1`, expected u32": find the key whose value fails on its own and name it.
fn json_error_with_field(text: &str, e: serde_json::Error) -> String {
    let field = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
        .ok()
        .and_then(|map| {
            map.into_iter().find_map(|(k, v)| {
                let one = serde_json::Value::Object([(k.clone(), v)].into_iter().collect());
                serde_json::from_value::<FilterConfig>(one)
                    .is_err()
                    .then_some(k)
            })
        });
    match field {
        Some(k) if !e.to_string().contains(&format!("`{k}`")) => format!("field `{k}`: {e}"),
        _ => e.to_string(),
    }
}

/// Why a record was rejected, in the order checks run.
///
/// ```
/// use curation_core::{FilterConfig, FilterRules, Reason, VideoRecord};
/// let rules = FilterRules::new(FilterConfig { min_views: Some(100), ..FilterConfig::default() });
/// let few = VideoRecord { id: "a".into(), views: Some(5), ..VideoRecord::default() };
/// assert_eq!(rules.check(&few), [Reason::Views]);
/// let unknown = VideoRecord { id: "b".into(), ..VideoRecord::default() };
/// assert_eq!(rules.check(&unknown), [Reason::ViewsMissing]);
/// assert_eq!(Reason::ViewsMissing.as_str(), "views_missing");
/// ```
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
    /// The media file lies outside the input folders and the allowed media
    /// roots (untrusted metadata must not pull in arbitrary local files).
    MediaOutsideRoots,
    /// The id was already kept.
    DuplicateId,
    /// The media file could not be read for content hashing.
    MediaUnreadable,
    /// The media content was already kept under another id.
    DuplicateContent,
}

impl Reason {
    /// Every reason, in check order.
    pub const ALL: [Reason; 22] = [
        Reason::Duration,
        Reason::DurationMissing,
        Reason::ShortSide,
        Reason::AspectRatio,
        Reason::SizeMissing,
        Reason::Fps,
        Reason::FpsMissing,
        Reason::Language,
        Reason::LanguageMissing,
        Reason::Region,
        Reason::RegionMissing,
        Reason::Views,
        Reason::ViewsMissing,
        Reason::Likes,
        Reason::LikesMissing,
        Reason::HashtagDenied,
        Reason::HashtagNotAllowed,
        Reason::MediaMissing,
        Reason::MediaOutsideRoots,
        Reason::DuplicateId,
        Reason::MediaUnreadable,
        Reason::DuplicateContent,
    ];
}

/// The reasons a record fails, iterated in check order; a bit set, so
/// checking a record allocates nothing.
///
/// ```
/// use curation_core::{filter::ReasonSet, Reason};
/// let set: ReasonSet = [Reason::Likes, Reason::Duration].into_iter().collect();
/// assert_eq!(set.first(), Some(Reason::Duration)); // check order, not insertion order
/// assert!(set.contains(Reason::Likes) && !set.contains(Reason::Views));
/// assert_eq!(set.iter().count(), 2);
/// assert!(ReasonSet::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReasonSet(u32);

impl ReasonSet {
    /// Adds a reason.
    pub fn insert(&mut self, r: Reason) {
        self.0 |= 1 << r as u32;
    }

    /// Whether `r` is in the set.
    pub fn contains(self, r: Reason) -> bool {
        self.0 & (1 << r as u32) != 0
    }

    /// Whether the record passes (no reason).
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The reasons in check order.
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// The first failing check.
    pub fn first(self) -> Option<Reason> {
        self.iter().next()
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Self {
        let mut s = ReasonSet::default();
        iter.into_iter().for_each(|r| s.insert(r));
        s
    }
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
            Reason::MediaOutsideRoots => "media_outside_roots",
            Reason::MediaUnreadable => "media_unreadable",
            Reason::DuplicateId => "duplicate_id",
            Reason::DuplicateContent => "duplicate_content",
        }
    }
}
