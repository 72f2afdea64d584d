//! The field table shared by the JSON and CSV readers: which input keys
//! tubelet knows (its own names and yt-dlp's aliases), how their values are
//! parsed, and how a record is assembled from them.

use std::path::PathBuf;

use serde_json::value::RawValue;

use crate::hashtag::{Hashtag, for_each_hashtag, push_unique};
use crate::record::{SourceRef, VideoRecord};

/// A known input key. Variants after `Source` are yt-dlp aliases.
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
    Source,
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
            "source" => Key::Source,
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
            Key::Source => "source",
            Key::WebpageUrl => "webpage_url",
            Key::Tags => "tags",
            Key::ViewCount => "view_count",
            Key::LikeCount => "like_count",
            Key::CommentCount => "comment_count",
            Key::RepostCount => "repost_count",
            Key::UploadDate => "upload_date",
        }
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
            Key::Source => Kind::Source,
        }
    }
}

/// A parsed value; `None` inside means the input said `null` (unknown).
#[derive(Debug)]
pub(crate) enum Val {
    Str(Option<String>),
    Count(Option<u64>),
    Dim(Option<u32>),
    Float(Option<f64>),
    Strings(Option<Vec<String>>),
    Hashtags(Option<Vec<Hashtag>>),
    Source(Option<SourceRef>),
}

impl Val {
    pub(crate) fn none(kind: Kind) -> Val {
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

pub(crate) fn scalar_from_number(kind: Kind, n: Number) -> Result<Val, String> {
    match (kind, n) {
        (Kind::Count, Number::U64(v)) => Ok(Val::Count(Some(v))),
        (Kind::Dim, Number::U64(v)) => u32::try_from(v)
            .map(|v| Val::Dim(Some(v)))
            .map_err(|_| format!("{v} is too large for a pixel size")),
        (Kind::Float, Number::U64(v)) => Ok(Val::Float(Some(v as f64))),
        (Kind::Float, Number::I64(v)) => Ok(Val::Float(Some(v as f64))),
        (Kind::Float, Number::F64(v)) if v.is_finite() => Ok(Val::Float(Some(v))),
        (Kind::Str, Number::U64(v)) => Ok(Val::Str(Some(v.to_string()))),
        (Kind::Str, Number::I64(v)) => Ok(Val::Str(Some(v.to_string()))),
        (Kind::Count | Kind::Dim, Number::I64(v)) if v < 0 => {
            Err(format!("{v} is negative; expected a count"))
        }
        (Kind::Count | Kind::Dim, Number::F64(v)) if v.is_finite() && v.fract() == 0.0 => {
            if v < 0.0 {
                Err(format!("{v} is negative; expected a count"))
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
pub(crate) fn parse_scalar(kind: Kind, text: &str) -> Result<Val, String> {
    let t = text.trim();
    if kind == Kind::Str {
        return Ok(Val::Str(Some(text.to_owned())));
    }
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
fn split_tag_cell(cell: &str) -> Vec<String> {
    cell.split(['|', ',', ';'])
        .flat_map(|part| {
            let part = part.trim();
            if part.starts_with('#') && part.contains(char::is_whitespace) {
                part.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            } else {
                vec![part.to_owned()]
            }
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Collects the values of one input object and assembles the record.
#[derive(Default)]
pub(crate) struct RecordBuilder {
    rec: VideoRecord,
    seen_own: u32,
    has_hashtags: bool,
    id: Option<String>,
    webpage_url: Option<String>,
    tags: Option<Vec<String>>,
    view_count: Option<u64>,
    like_count: Option<u64>,
    comment_count: Option<u64>,
    repost_count: Option<u64>,
    upload_date: Option<String>,
}

impl RecordBuilder {
    /// Keeps an unknown key verbatim.
    pub(crate) fn extra(&mut self, key: String, raw: Box<RawValue>) {
        self.rec.extra.insert(key, raw);
    }

    /// Sets one known key; a key given twice is an error.
    pub(crate) fn set(&mut self, key: Key, val: Val) -> Result<(), String> {
        let bit = 1u32 << (key as u32);
        if self.seen_own & bit != 0 {
            return Err(format!("duplicate field `{}`", key.name()));
        }
        self.seen_own |= bit;
        let r = &mut self.rec;
        match (key, val) {
            (Key::Id, Val::Str(v)) => self.id = v,
            (Key::SourceUrl, Val::Str(v)) => r.source_url = v,
            (Key::Platform, Val::Str(v)) => r.platform = v,
            (Key::Hashtags, Val::Hashtags(v)) => {
                self.has_hashtags = true;
                r.hashtags = v.unwrap_or_default();
            }
            (Key::Title, Val::Str(v)) => r.title = v,
            (Key::Description, Val::Str(v)) => r.description = v,
            (Key::Duration, Val::Float(v)) => r.duration = v,
            (Key::Width, Val::Dim(v)) => r.width = v,
            (Key::Height, Val::Dim(v)) => r.height = v,
            (Key::Fps, Val::Float(v)) => r.fps = v,
            (Key::Views, Val::Count(v)) => r.views = v,
            (Key::Likes, Val::Count(v)) => r.likes = v,
            (Key::Comments, Val::Count(v)) => r.comments = v,
            (Key::Shares, Val::Count(v)) => r.shares = v,
            (Key::Language, Val::Str(v)) => r.language = v,
            (Key::Region, Val::Str(v)) => r.region = v,
            (Key::UploadTime, Val::Str(v)) => r.upload_time = v,
            (Key::MediaPath, Val::Str(v)) => r.media_path = v.map(PathBuf::from),
            (Key::Label, Val::Str(v)) => r.label = v,
            (Key::Source, Val::Source(v)) => r.source = v,
            (Key::WebpageUrl, Val::Str(v)) => self.webpage_url = v,
            (Key::Tags, Val::Strings(v)) => self.tags = v,
            (Key::ViewCount, Val::Count(v)) => self.view_count = v,
            (Key::LikeCount, Val::Count(v)) => self.like_count = v,
            (Key::CommentCount, Val::Count(v)) => self.comment_count = v,
            (Key::RepostCount, Val::Count(v)) => self.repost_count = v,
            (Key::UploadDate, Val::Str(v)) => self.upload_date = v,
            (key, val) => unreachable!("{key:?} parsed as {val:?}"),
        }
        Ok(())
    }

    /// Resolves aliases and derived fields.
    pub(crate) fn finish(mut self) -> Result<VideoRecord, String> {
        let mut r = self.rec;
        r.id = match self.id {
            Some(id) if !id.trim().is_empty() => id,
            Some(_) => return Err("field `id` is empty".into()),
            None => return Err("missing field `id`".into()),
        };
        // tubelet's own name wins; the alias value is then kept as an extra.
        fn merge<T: serde::Serialize>(
            own: &mut Option<T>,
            alias: Option<T>,
            name: &str,
            x: &mut crate::record::Extras,
        ) {
            match (own.is_some(), alias) {
                (false, alias) => *own = alias,
                (true, Some(a)) => x.insert_value(name, &a),
                (true, None) => {}
            }
        }
        let x = &mut r.extra;
        merge(&mut r.source_url, self.webpage_url.take(), "webpage_url", x);
        merge(&mut r.views, self.view_count, "view_count", x);
        merge(&mut r.likes, self.like_count, "like_count", x);
        merge(&mut r.comments, self.comment_count, "comment_count", x);
        merge(&mut r.shares, self.repost_count, "repost_count", x);
        let date = self.upload_date.take().map(|d| iso_date(&d));
        merge(&mut r.upload_time, date, "upload_date", x);
        if self.has_hashtags {
            if let Some(tags) = self.tags.take() {
                x.insert_value("tags", &tags);
            }
        } else {
            for t in self.tags.iter().flatten() {
                push_unique(&mut r.hashtags, t);
            }
            for text in [&r.title, &r.description].into_iter().flatten() {
                for_each_hashtag(text, |t| push_unique(&mut r.hashtags, t));
            }
        }
        if r.platform.is_none() {
            r.platform = ["extractor_key", "extractor"]
                .iter()
                .find_map(|k| x.get_str(k))
                .map(|p| p.to_lowercase());
        }
        if r.media_path.is_none() {
            r.media_path = ["filepath", "_filename", "filename"]
                .iter()
                .find_map(|k| x.get_str(k))
                .map(PathBuf::from);
        }
        Ok(r)
    }
}

/// yt-dlp's `upload_date` is `YYYYMMDD`; anything else is kept as given.
fn iso_date(d: &str) -> String {
    if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
    } else {
        d.to_owned()
    }
}
