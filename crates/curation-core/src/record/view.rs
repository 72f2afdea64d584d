//! [`RecordView`]: one input object parsed and validated without copying its
//! text. Filters run on the view, so a rejected record never allocates its
//! strings; [`RecordView::into_record`] builds the owned [`VideoRecord`] for
//! the ones kept. Every reader (JSON, yt-dlp info.json, CSV) and the public
//! `Deserialize` of `VideoRecord` go through this one path, so the filter sees
//! exactly the values the record will hold.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::FilterFields;
use super::fields::{Key, Kind, Number, Val, parse_scalar, scalar_from_number};
use super::values::{SourceVisitor, hashtags_visitor, strings_visitor};
use super::{Extras, SourceRef, VideoRecord};
use crate::hashtag::{Hashtag, for_each_hashtag, push_unique, with_normalized};

/// The deepest nesting of arrays and objects a record may hold, counting the
/// record object itself. Unknown values are copied verbatim into the
/// manifest; deeper ones would make it unreadable for common JSON readers
/// (serde_json stops at 128), so such records are refused on ingest.
pub const MAX_NESTING: usize = 64;

/// Deepest nesting of arrays and objects in a JSON text (valid JSON: strings
/// are skipped, escapes respected).
pub(crate) fn nesting_depth(json: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in json.as_bytes() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A raw JSON value kept for a key tubelet does not model.
pub(crate) enum RawRef<'a> {
    Borrowed(&'a RawValue),
    Owned(Box<RawValue>),
}

/// The values of one input object, borrowed where the input allows.
#[derive(Default)]
pub(crate) struct RecordView<'a> {
    seen: u64,
    id: Option<Cow<'a, str>>,
    source_url: Option<Cow<'a, str>>,
    platform: Option<Cow<'a, str>>,
    hashtags: Option<Vec<Hashtag>>,
    title: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    duration: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    views: Option<u64>,
    likes: Option<u64>,
    comments: Option<u64>,
    shares: Option<u64>,
    language: Option<Cow<'a, str>>,
    region: Option<Cow<'a, str>>,
    upload_time: Option<Cow<'a, str>>,
    media_path: Option<Cow<'a, str>>,
    label: Option<Cow<'a, str>>,
    ingest_source: Option<SourceRef>,
    // yt-dlp aliases: used when tubelet's name is absent or null.
    webpage_url: Option<Cow<'a, str>>,
    tags: Option<Vec<Cow<'a, str>>>,
    view_count: Option<u64>,
    like_count: Option<u64>,
    comment_count: Option<u64>,
    repost_count: Option<u64>,
    upload_date: Option<Cow<'a, str>>,
    extra: Vec<(Cow<'a, str>, RawRef<'a>)>,
    /// The first unknown key whose value is nested too deep, and the depth
    /// of the record there; its value is not kept.
    too_deep: Option<(Cow<'a, str>, usize)>,
}

impl<'a> RecordView<'a> {
    /// Parses one JSON object from `text`, borrowing strings and unknown
    /// values from it.
    pub(crate) fn from_json(text: &'a str) -> serde_json::Result<Self> {
        let mut de = serde_json::Deserializer::from_str(text);
        let view = de.deserialize_map(ViewVisitor { borrow_raw: true })?;
        de.end()?;
        Ok(view)
    }

    /// Keeps an unknown key (noting, instead, a value nested deeper than
    /// [`MAX_NESTING`]).
    pub(crate) fn extra(&mut self, key: Cow<'a, str>, raw: RawRef<'a>) {
        let text = match &raw {
            RawRef::Borrowed(r) => r.get(),
            RawRef::Owned(r) => r.get(),
        };
        // +1: the record object around the value.
        let depth = nesting_depth(text) + 1;
        if depth > MAX_NESTING {
            if self.too_deep.is_none() {
                self.too_deep = Some((key, depth));
            }
            return;
        }
        self.extra.push((key, raw));
    }

    /// The first unknown key whose value is nested deeper than
    /// [`MAX_NESTING`] (a record to refuse).
    pub(crate) fn too_deep(&self) -> Option<&str> {
        self.too_deep.as_ref().map(|(k, _)| k.as_ref())
    }

    /// Sets one known key; a key given twice or an impossible value (a
    /// negative duration or frame rate, a zero pixel size) is an error.
    pub(crate) fn set(&mut self, key: Key, val: Val<'a>) -> Result<(), String> {
        let bit = 1u64 << (key as u32);
        if self.seen & bit != 0 {
            return Err(format!("duplicate field `{}`", key.name()));
        }
        match &val {
            Val::Float(Some(v)) if *v < 0.0 => {
                return Err(format!("field `{}`: {v} is negative", key.name()));
            }
            Val::Dim(Some(0)) => {
                return Err(format!(
                    "field `{}`: 0 is not a pixel size (use null when unknown)",
                    key.name()
                ));
            }
            _ => {}
        }
        self.seen |= bit;
        match (key, val) {
            (Key::Id, Val::Str(v)) => self.id = v,
            (Key::SourceUrl, Val::Str(v)) => self.source_url = v,
            (Key::Platform, Val::Str(v)) => self.platform = v,
            // `null` is unknown: hashtags are then derived as when absent.
            (Key::Hashtags, Val::Hashtags(v)) => self.hashtags = v,
            (Key::Title, Val::Str(v)) => self.title = v,
            (Key::Description, Val::Str(v)) => self.description = v,
            (Key::Duration, Val::Float(v)) => self.duration = v,
            (Key::Width, Val::Dim(v)) => self.width = v,
            (Key::Height, Val::Dim(v)) => self.height = v,
            (Key::Fps, Val::Float(v)) => self.fps = v,
            (Key::Views, Val::Count(v)) => self.views = v,
            (Key::Likes, Val::Count(v)) => self.likes = v,
            (Key::Comments, Val::Count(v)) => self.comments = v,
            (Key::Shares, Val::Count(v)) => self.shares = v,
            (Key::Language, Val::Str(v)) => self.language = v,
            (Key::Region, Val::Str(v)) => self.region = v,
            (Key::UploadTime, Val::Str(v)) => self.upload_time = v,
            (Key::MediaPath, Val::Str(v)) => self.media_path = v,
            (Key::Label, Val::Str(v)) => self.label = v,
            (Key::IngestSource, Val::Source(v)) => self.ingest_source = v,
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

    /// Checks what every record needs (a non-empty `id`).
    pub(crate) fn validate(&self) -> Result<(), String> {
        match &self.id {
            Some(id) if !id.trim().is_empty() => Ok(()),
            Some(_) => Err("field `id` is empty".into()),
            None => Err("missing field `id`".into()),
        }
    }

    /// The record id (valid after [`validate`](Self::validate)).
    pub(crate) fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }

    /// Builds the owned record: aliases resolved (tubelet's name wins and the
    /// alias is kept as an extra field), hashtags derived when absent.
    pub(crate) fn into_record(self) -> VideoRecord {
        let owned = |c: Option<Cow<'a, str>>| c.map(Cow::into_owned);
        let mut x = Extras::default();
        for (k, raw) in self.extra {
            let raw = match raw {
                RawRef::Borrowed(r) => r.to_owned(),
                RawRef::Owned(r) => r,
            };
            x.insert(k.into_owned(), raw);
        }
        fn merge<T: serde::Serialize>(
            own: Option<T>,
            alias: Option<T>,
            name: &str,
            x: &mut Extras,
        ) -> Option<T> {
            match (own, alias) {
                (None, alias) => alias,
                (Some(o), Some(a)) => {
                    // A value just read from JSON (text or a number)
                    // always writes back.
                    let _ = x.insert_value(name, &a);
                    Some(o)
                }
                (own, None) => own,
            }
        }
        let hashtags = match self.hashtags {
            Some(h) => h,
            None => {
                let mut h = Vec::new();
                for t in self.tags.iter().flatten() {
                    push_unique(&mut h, t);
                }
                for text in [&self.title, &self.description].into_iter().flatten() {
                    for_each_hashtag(text, |t| push_unique(&mut h, t));
                }
                h
            }
        };
        // The crawler's own tag list stays as it was (order, case, repeats).
        if let Some(tags) = &self.tags {
            let _ = x.insert_value("tags", tags);
        }
        let upload_date = self.upload_date.map(|d| iso_date(&d));
        let mut r = VideoRecord {
            id: self.id.map(Cow::into_owned).unwrap_or_default(),
            source_url: merge(
                owned(self.source_url),
                owned(self.webpage_url),
                "webpage_url",
                &mut x,
            ),
            platform: owned(self.platform),
            hashtags,
            title: owned(self.title),
            description: owned(self.description),
            duration: self.duration,
            width: self.width,
            height: self.height,
            fps: self.fps,
            views: merge(self.views, self.view_count, "view_count", &mut x),
            likes: merge(self.likes, self.like_count, "like_count", &mut x),
            comments: merge(self.comments, self.comment_count, "comment_count", &mut x),
            shares: merge(self.shares, self.repost_count, "repost_count", &mut x),
            language: owned(self.language),
            region: owned(self.region),
            upload_time: merge(owned(self.upload_time), upload_date, "upload_date", &mut x),
            media_path: self.media_path.map(|p| p.into_owned().into()),
            label: owned(self.label),
            ingest_source: self.ingest_source,
            extra: Extras::default(),
        };
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
                .map(Into::into);
        }
        r.extra = x;
        r
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

impl FilterFields for RecordView<'_> {
    fn duration(&self) -> Option<f64> {
        self.duration
    }
    fn size(&self) -> Option<(u32, u32)> {
        self.width.zip(self.height)
    }
    fn fps(&self) -> Option<f64> {
        self.fps
    }
    fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    fn views(&self) -> Option<u64> {
        self.views.or(self.view_count)
    }
    fn likes(&self) -> Option<u64> {
        self.likes.or(self.like_count)
    }
    fn any_tag(&self, pred: &mut dyn FnMut(&str) -> bool) -> bool {
        if let Some(h) = &self.hashtags {
            return h.iter().any(|h| pred(&h.tag));
        }
        let mut test = |t: &str| with_normalized(t, &mut *pred).unwrap_or(false);
        if self.tags.iter().flatten().any(|t| test(t)) {
            return true;
        }
        let mut hit = false;
        for text in [&self.title, &self.description].into_iter().flatten() {
            for_each_hashtag(text, |t| hit = hit || test(t));
        }
        hit
    }
    fn media_path(&self) -> Option<&Path> {
        // Resolution against the input folder happens on the owned record;
        // filters that need the media file run there (see FilterRules).
        None
    }
}

/// Deserialises a view; `borrow_raw` keeps unknown values as slices of the
/// input (only possible when parsing from a `&str`).
pub(crate) struct ViewVisitor {
    pub(crate) borrow_raw: bool,
}

impl<'de> Visitor<'de> for ViewVisitor {
    type Value = RecordView<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object describing one video")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RecordView<'de>, A::Error> {
        let mut v = RecordView::default();
        while let Some(KeyName(name)) = map.next_key::<KeyName<'de>>()? {
            let Some(key) = Key::from_name(&name) else {
                let raw = if self.borrow_raw {
                    RawRef::Borrowed(map.next_value::<&'de RawValue>()?)
                } else {
                    RawRef::Owned(map.next_value::<Box<RawValue>>()?)
                };
                v.extra(name, raw);
                continue;
            };
            let val = map.next_value_seed(ValSeed { key, name: &name })?;
            v.set(key, val).map_err(de::Error::custom)?;
        }
        v.validate().map_err(de::Error::custom)?;
        if !self.borrow_raw
            && let Some(key) = v.too_deep()
        {
            return Err(de::Error::custom(format_args!(
                "field `{key}` is nested deeper than {MAX_NESTING} levels"
            )));
        }
        Ok(v)
    }
}

/// A string borrowed from the input when it has no escapes.
struct KeyName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyName(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyName(v.to_owned().into()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(KeyName(v.into()))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the value of one known key as its [`Kind`], naming the key in
/// errors. Crawlers write counts as integers, floats (`1.0e6`), digit strings
/// or `null`, and ids as strings or numbers.
struct ValSeed<'n> {
    key: Key,
    name: &'n str,
}

impl<'de> DeserializeSeed<'de> for ValSeed<'_> {
    type Value = Val<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
        match self.key.kind() {
            Kind::Strings => Ok(Val::Strings(d.deserialize_any(strings_visitor(self.name))?)),
            Kind::Hashtags => Ok(Val::Hashtags(
                d.deserialize_any(hashtags_visitor(self.name))?,
            )),
            Kind::Source => Ok(Val::Source(
                d.deserialize_any(SourceVisitor { name: self.name })?,
            )),
            kind => d.deserialize_any(ScalarVisitor {
                kind,
                name: self.name,
            }),
        }
    }
}

struct ScalarVisitor<'n> {
    kind: Kind,
    name: &'n str,
}

impl ScalarVisitor<'_> {
    fn fail<E: de::Error>(&self, m: impl fmt::Display) -> E {
        E::custom(format_args!("field `{}`: {m}", self.name))
    }
    fn number<'de, E: de::Error>(&self, n: Number) -> Result<Val<'de>, E> {
        scalar_from_number(self.kind, n).map_err(|m| self.fail(m))
    }
    fn owned<'de, E: de::Error>(&self, v: &str) -> Result<Val<'de>, E> {
        match parse_scalar(self.kind, v).map_err(|m| self.fail(m))? {
            Val::Str(s) => Ok(Val::Str(s.map(|s| Cow::Owned(s.into_owned())))),
            Val::Count(c) => Ok(Val::Count(c)),
            Val::Dim(c) => Ok(Val::Dim(c)),
            Val::Float(c) => Ok(Val::Float(c)),
            other => unreachable!("scalar kind parsed as {other:?}"),
        }
    }
}

impl<'de> Visitor<'de> for ScalarVisitor<'_> {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} for field `{}`", self.kind.describe(), self.name)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::none(self.kind))
    }
    fn visit_none<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::none(self.kind))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Val<'de>, E> {
        parse_scalar(self.kind, v).map_err(|m| self.fail(m))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val<'de>, E> {
        self.owned(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val<'de>, E> {
        self.number(Number::U64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val<'de>, E> {
        self.number(Number::I64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val<'de>, E> {
        if self.kind == Kind::Str {
            return Err(self.fail(format_args!("expected text, found the number {v}")));
        }
        self.number(Number::F64(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val<'de>, E> {
        Err(self.fail(format_args!("expected {}, found {v}", self.kind.describe())))
    }
}
