//! The field table shared by the JSON and CSV readers: which input keys
//! tubelet knows (its own names and yt-dlp's aliases) and how their values
//! are parsed. [`view`](super::view) assembles records from them.

use std::borrow::Cow;

use super::SourceRef;
use crate::hashtag::Hashtag;

/// A known input key. Variants after `IngestSource` are yt-dlp aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Id,
    SourceUrl,
    Platform,
    Hashtags,
    Title,
    Description,
    Duration,
    Width,
    Height,
    Fps,
    Views,
    Likes,
    Comments,
    Shares,
    Language,
    Region,
    UploadTime,
    MediaPath,
    Label,
    IngestSource,
    // yt-dlp aliases
    WebpageUrl,
    Tags,
    ViewCount,
    LikeCount,
    CommentCount,
    RepostCount,
    UploadDate,
}

/// How a key's value is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Count,
    Dim,
    Float,
    Strings,
    Hashtags,
    Source,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Str => "text",
            Kind::Count => "a non-negative integer",
            Kind::Dim => "a pixel size",
            Kind::Float => "a number",
            Kind::Strings => "a list of strings",
            Kind::Hashtags => "a list of hashtags",
            Kind::Source => "a {path, line} object",
        }
    }
}

impl Key {
    pub(crate) fn from_name(name: &str) -> Option<Key> {
        Some(match name {
            "id" => Key::Id,
            "source_url" => Key::SourceUrl,
            "platform" => Key::Platform,
            "hashtags" => Key::Hashtags,
            "title" => Key::Title,
            "description" => Key::Description,
            "duration" => Key::Duration,
            "width" => Key::Width,
            "height" => Key::Height,
            "fps" => Key::Fps,
            "views" => Key::Views,
            "likes" => Key::Likes,
            "comments" => Key::Comments,
            "shares" => Key::Shares,
            "language" => Key::Language,
            "region" => Key::Region,
            "upload_time" => Key::UploadTime,
            "media_path" => Key::MediaPath,
            "label" => Key::Label,
            "ingest_source" => Key::IngestSource,
            "webpage_url" => Key::WebpageUrl,
            "tags" => Key::Tags,
            "view_count" => Key::ViewCount,
            "like_count" => Key::LikeCount,
            "comment_count" => Key::CommentCount,
            "repost_count" => Key::RepostCount,
            "upload_date" => Key::UploadDate,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Id => "id",
            Key::SourceUrl => "source_url",
            Key::Platform => "platform",
            Key::Hashtags => "hashtags",
            Key::Title => "title",
            Key::Description => "description",
            Key::Duration => "duration",
            Key::Width => "width",
            Key::Height => "height",
            Key::Fps => "fps",
            Key::Views => "views",
            Key::Likes => "likes",
            Key::Comments => "comments",
            Key::Shares => "shares",
            Key::Language => "language",
            Key::Region => "region",
            Key::UploadTime => "upload_time",
            Key::MediaPath => "media_path",
            Key::Label => "label",
            Key::IngestSource => "ingest_source",
            Key::WebpageUrl => "webpage_url",
            Key::Tags => "tags",
            Key::ViewCount => "view_count",
            Key::LikeCount => "like_count",
            Key::CommentCount => "comment_count",
            Key::RepostCount => "repost_count",
            Key::UploadDate => "upload_date",
        }
    }

    /// A tubelet field name (not a yt-dlp alias).
    pub(crate) fn is_own(self) -> bool {
        (self as u32) <= (Key::IngestSource as u32)
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            Key::Id
            | Key::SourceUrl
            | Key::Platform
            | Key::Title
            | Key::Description
            | Key::Language
            | Key::Region
            | Key::UploadTime
            | Key::MediaPath
            | Key::Label
            | Key::WebpageUrl
            | Key::UploadDate => Kind::Str,
            Key::Views
            | Key::Likes
            | Key::Comments
            | Key::Shares
            | Key::ViewCount
            | Key::LikeCount
            | Key::CommentCount
            | Key::RepostCount => Kind::Count,
            Key::Width | Key::Height => Kind::Dim,
            Key::Duration | Key::Fps => Kind::Float,
            Key::Tags => Kind::Strings,
            Key::Hashtags => Kind::Hashtags,
            Key::IngestSource => Kind::Source,
        }
    }
}

/// A parsed value; `None` inside means the input said `null` (unknown).
#[derive(Debug)]
pub(crate) enum Val<'a> {
    Str(Option<Cow<'a, str>>),
    Count(Option<u64>),
    Dim(Option<u32>),
    Float(Option<f64>),
    Strings(Option<Vec<Cow<'a, str>>>),
    Hashtags(Option<Vec<Hashtag>>),
    Source(Option<SourceRef>),
}

impl Val<'_> {
    pub(crate) fn none(kind: Kind) -> Self {
        match kind {
            Kind::Str => Val::Str(None),
            Kind::Count => Val::Count(None),
            Kind::Dim => Val::Dim(None),
            Kind::Float => Val::Float(None),
            Kind::Strings => Val::Strings(None),
            Kind::Hashtags => Val::Hashtags(None),
            Kind::Source => Val::Source(None),
        }
    }
}

/// A JSON number as the parser saw it.
pub(crate) enum Number {
    U64(u64),
    I64(i64),
    F64(f64),
}

pub(crate) fn scalar_from_number(kind: Kind, n: Number) -> Result<Val<'static>, String> {
    match (kind, n) {
        (Kind::Count, Number::U64(v)) => Ok(Val::Count(Some(v))),
        (Kind::Dim, Number::U64(v)) => u32::try_from(v)
            .map(|v| Val::Dim(Some(v)))
            .map_err(|_| format!("{v} is too large for a pixel size")),
        (Kind::Float, Number::U64(v)) => Ok(Val::Float(Some(v as f64))),
        (Kind::Float, Number::I64(v)) => Ok(Val::Float(Some(v as f64))),
        (Kind::Float, Number::F64(v)) if v.is_finite() => Ok(Val::Float(Some(v))),
        (Kind::Str, Number::U64(v)) => Ok(Val::Str(Some(v.to_string().into()))),
        (Kind::Str, Number::I64(v)) => Ok(Val::Str(Some(v.to_string().into()))),
        (Kind::Count | Kind::Dim, Number::I64(v)) if v < 0 => {
            Err(format!("{v} is negative; expected a count"))
        }
        (Kind::Count | Kind::Dim, Number::F64(v)) if v.is_finite() && v.fract() == 0.0 => {
            if v < 0.0 {
                Err(format!("{v} is negative; expected a count"))
            } else if v >= 18_446_744_073_709_551_616.0 {
                Err(format!("{v} is too large for a count"))
            } else {
                scalar_from_number(kind, Number::U64(v as u64))
            }
        }
        (Kind::Count | Kind::Dim, Number::I64(v)) => {
            scalar_from_number(kind, Number::U64(v as u64))
        }
        (kind, Number::F64(v)) => Err(format!("expected {}, found {v}", kind.describe())),
        (kind, _) => Err(format!("expected {}, found a number", kind.describe())),
    }
}

/// Parses text (a CSV cell, or a JSON string where a number is expected).
pub(crate) fn parse_scalar(kind: Kind, text: &str) -> Result<Val<'_>, String> {
    if kind == Kind::Str {
        return Ok(Val::Str(Some(Cow::Borrowed(text))));
    }
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("null") {
        return Ok(Val::none(kind));
    }
    match kind {
        Kind::Count | Kind::Dim => {
            if let Ok(v) = t.parse::<u64>() {
                return scalar_from_number(kind, Number::U64(v));
            }
            match t.parse::<f64>() {
                Ok(v) => scalar_from_number(kind, Number::F64(v)),
                Err(_) => Err(format!("expected {}, found {t:?}", kind.describe())),
            }
        }
        Kind::Float => match t.parse::<f64>() {
            Ok(v) => scalar_from_number(kind, Number::F64(v)),
            Err(_) => Err(format!("expected a number, found {t:?}")),
        },
        Kind::Strings => Ok(Val::Strings(Some(split_tag_cell(t)))),
        Kind::Hashtags => Ok(Val::Hashtags(Some(
            split_tag_cell(t)
                .iter()
                .filter_map(|s| Hashtag::new(s))
                .collect(),
        ))),
        Kind::Source => Err("a source reference cannot be given as text".into()),
        Kind::Str => unreachable!("handled above"),
    }
}

/// Splits a CSV tag cell: entries separated by `|`, `,` or `;`, or
/// whitespace-separated `#words`.
fn split_tag_cell(cell: &str) -> Vec<Cow<'_, str>> {
    cell.split(['|', ',', ';'])
        .flat_map(|part| {
            let part = part.trim();
            if part.starts_with('#') && part.contains(char::is_whitespace) {
                part.split_whitespace().collect::<Vec<_>>()
            } else {
                vec![part]
            }
        })
        .filter(|s| !s.is_empty())
        .map(Cow::Borrowed)
        .collect()
}
