//! [`VideoRecord`]: one crawled video's metadata, in tubelet's field names,
//! read from tubelet's own JSON or from yt-dlp's `.info.json` field names.
//!
//! Nothing a crawler recorded is lost: keys tubelet does not model are kept
//! verbatim (as raw JSON) in [`VideoRecord::extra`] and written back on
//! serialisation, and a yt-dlp alias that collides with a field already set
//! under tubelet's name is kept there too.
//!
//! Reading goes through three submodules, so every reader (JSON, yt-dlp
//! info.json, CSV) and the public `Deserialize` see the same values:
//! `fields` (the known keys and how their values parse), `values` (serde
//! visitors for lists and the source reference) and `view` (one input
//! object, borrowed and validated, before it becomes an owned record).
//! `filter_fields` is what filters read of either form.
//!
//! This module depends on neither ingest nor filters: both build on it.

pub(crate) mod fields;
mod filter_fields;
mod values;
pub(crate) mod view;

pub(crate) use filter_fields::FilterFields;

use std::path::PathBuf;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use self::fields::Key;
use self::view::{RecordView, ViewVisitor};
use crate::hashtag::Hashtag;

/// Metadata of one crawled video.
///
/// JSON field names (tubelet's own) are the Rust field names below, except
/// [`extra`](Self::extra), whose keys appear at the top level of the object.
/// Reading also accepts yt-dlp's names: `webpage_url`, `tags`, `view_count`,
/// `like_count`, `comment_count`, `repost_count`, `upload_date`; the media
/// path falls back to `filepath`/`_filename`/`filename` and the platform to
/// `extractor_key`. Counts may be `null` (unknown). When `hashtags` is absent
/// it is built from `tags` and from `#words` in `title` and `description`.
///
/// ```
/// use curation_core::VideoRecord;
/// let r: VideoRecord = serde_json::from_str(
///     r#"{"id": "x1", "title": "Tango #Tango #milonga", "view_count": 12, "like_count": null,
///         "upload_date": "20240131", "uploader": "ana"}"#).unwrap();
/// assert_eq!(r.views, Some(12));
/// assert_eq!(r.likes, None);
/// assert_eq!(r.upload_time.as_deref(), Some("2024-01-31"));
/// let tags: Vec<&str> = r.hashtags.iter().map(|h| h.tag.as_str()).collect();
/// assert_eq!(tags, ["tango", "milonga"]);
/// assert_eq!(r.extra.get("uploader").unwrap().get(), r#""ana""#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoRecord {
    /// Platform video id (required; yt-dlp `id`).
    pub id: String,
    /// Page URL of the video (yt-dlp `webpage_url`).
    pub source_url: Option<String>,
    /// Platform name, lowercase (`tiktok`, `youtube`, ...).
    pub platform: Option<String>,
    /// Hashtags in order of first appearance, unique by normal form.
    pub hashtags: Vec<Hashtag>,
    /// Title or caption.
    pub title: Option<String>,
    /// Description text.
    pub description: Option<String>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Frame width in pixels.
    pub width: Option<u32>,
    /// Frame height in pixels.
    pub height: Option<u32>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Views (play count).
    pub views: Option<u64>,
    /// Likes.
    pub likes: Option<u64>,
    /// Comments.
    pub comments: Option<u64>,
    /// Shares / reposts.
    pub shares: Option<u64>,
    /// Language tag as given (`en`, `pt-BR`, ...).
    pub language: Option<String>,
    /// Region or country code as given.
    pub region: Option<String>,
    /// Upload time: `YYYY-MM-DD` from yt-dlp's `upload_date`, or any ISO 8601
    /// string given under `upload_time`.
    pub upload_time: Option<String>,
    /// Local media file, if downloaded.
    pub media_path: Option<PathBuf>,
    /// Action label (for example the action group), if known.
    pub label: Option<String>,
    /// Where the record was first read from (kept across re-curation).
    pub ingest_source: Option<SourceRef>,
    /// Every other key of the input object, verbatim.
    pub extra: Extras,
}

/// File and line a record was read from.
///
/// ```
/// use curation_core::ingest::{discover_inputs, RecordBatches};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-source-ref-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, "{\"id\": \"a\"}\n{\"id\": \"b\"}\n")?;
/// let (files, _) = discover_inputs(&[&crawl]);
/// let b = RecordBatches::new(files).records().nth(1).unwrap()?;
/// let source = b.ingest_source.unwrap();
/// assert_eq!(source.line, 2);
/// assert_eq!(&*source.path, crawl.display().to_string());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Input file (shared by all records of the file).
    pub path: std::sync::Arc<str>,
    /// 1-based line (JSON Lines, CSV) or 1 for a whole-file `.info.json`.
    pub line: u64,
}

/// Input keys tubelet does not model, kept verbatim in input order.
///
/// ```
/// use curation_core::VideoRecord;
/// let mut r: VideoRecord =
///     serde_json::from_str(r#"{"id": "a", "uploader": "ana", "chapters": [1, 2]}"#)?;
/// assert_eq!(r.extra.len(), 2);
/// assert_eq!(r.extra.get_str("uploader").as_deref(), Some("ana"));
/// assert_eq!(r.extra.get("chapters").unwrap().get(), "[1, 2]"); // verbatim
/// assert!(!r.extra.insert_value("views", &5)?); // a record field: refused
/// assert!(r.extra.insert_value("score", &0.5)?);
/// assert_eq!(serde_json::to_value(&r)?["score"], 0.5); // written at the top level
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Extras(Vec<(String, Box<RawValue>)>);

impl Extras {
    /// The raw JSON value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// The value under `key` when it is a JSON string.
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key)
            .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
    }

    /// Stores `value` under `key`, replacing an earlier value.
    ///
    /// Returns `false` and stores nothing when `key` is one of tubelet's
    /// field names (`id`, `views`, ...): those live on the record, and a
    /// second copy would write the key twice.
    pub fn insert(&mut self, key: String, value: Box<RawValue>) -> bool {
        if Key::from_name(&key).is_some_and(Key::is_own) {
            return false;
        }
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
        true
    }

    /// Stores any serialisable value under `key` (see [`insert`](Self::insert)).
    /// A value serde_json cannot write (a map with non-string keys, a
    /// `Serialize` impl that fails) is an error and nothing is stored.
    pub fn insert_value<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<bool, serde_json::Error> {
        let raw = serde_json::value::to_raw_value(value)?;
        Ok(self.insert(key.to_owned(), raw))
    }

    /// Keys and raw values in input order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), &**v))
    }

    /// Number of kept keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing extra was kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for Extras {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
    }
}

impl Serialize for VideoRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        macro_rules! opt {
            ($($name:ident),*) => {$(
                if let Some(v) = &self.$name {
                    m.serialize_entry(stringify!($name), v)?;
                }
            )*};
        }
        opt!(source_url, platform);
        // Always written, even empty: an absent key would make a reader
        // derive hashtags from the title again.
        m.serialize_entry("hashtags", &self.hashtags)?;
        opt!(
            title,
            description,
            duration,
            width,
            height,
            fps,
            views,
            likes,
            comments,
            shares
        );
        opt!(
            language,
            region,
            upload_time,
            media_path,
            label,
            ingest_source
        );
        for (k, v) in &self.extra.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for VideoRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ViewVisitor { borrow_raw: false })
            .map(RecordView::into_record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<VideoRecord, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn own_format_round_trips_with_unknown_fields() {
        let text = r#"{"id":"a","source_url":"https://x/a","platform":"tiktok","hashtags":["salsa",{"tag":"café","original":"CAFÉ"}],"title":"t","duration":12.5,"width":720,"height":1280,"fps":30.0,"views":10,"likes":2,"comments":0,"shares":1,"language":"en","region":"US","upload_time":"2024-01-02","media_path":"v/a.mp4","label":"salsa","ingest_source":{"path":"in.jsonl","line":3},"uploader":{"name":"n","n":[1,2.50]},"weird key":null}"#;
        let r = parse(text).unwrap();
        assert_eq!(r.extra.len(), 2);
        assert_eq!(
            r.extra.get("uploader").unwrap().get(),
            r#"{"name":"n","n":[1,2.50]}"#
        );
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
    }

    #[test]
    fn ytdlp_aliases_map_and_collisions_are_kept() {
        let r = parse(r##"{"id":"b","webpage_url":"u","tags":["Dance","#Tango"],"view_count":1.0e3,"repost_count":"7","views":5,"extractor_key":"TikTok","_filename":"b.mp4"}"##).unwrap();
        assert_eq!(r.source_url.as_deref(), Some("u"));
        assert_eq!(r.views, Some(5)); // tubelet's name wins
        assert_eq!(r.extra.get("view_count").unwrap().get(), "1000");
        assert_eq!(r.shares, Some(7));
        assert_eq!(r.platform.as_deref(), Some("tiktok"));
        assert_eq!(r.media_path, Some(PathBuf::from("b.mp4")));
        assert_eq!(r.hashtags[1].tag, "tango");
        assert_eq!(r.hashtags[1].original, "#Tango");
        // Re-reading the serialised form gives the same record.
        let again = parse(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn hashtag_lists_are_normalised_and_tags_kept() {
        let r = parse(
            r##"{"id":"h","hashtags":[{"tag":"Salsa","original":"SALSA"},"","#"," #Tango"]}"##,
        )
        .unwrap();
        let tags: Vec<&str> = r.hashtags.iter().map(|h| h.tag.as_str()).collect();
        assert_eq!(tags, ["salsa", "tango"]);
        assert_eq!(parse(&serde_json::to_string(&r).unwrap()).unwrap(), r);
        // `null` hashtags are unknown: derived from tags and title.
        let r = parse(r##"{"id":"n","hashtags":null,"tags":["Yoga","yoga"],"title":"#flow"}"##)
            .unwrap();
        let tags: Vec<&str> = r.hashtags.iter().map(|h| h.tag.as_str()).collect();
        assert_eq!(tags, ["yoga", "flow"]);
        // The crawler's list is kept as it was.
        assert_eq!(r.extra.get("tags").unwrap().get(), r#"["Yoga","yoga"]"#);
        assert_eq!(parse(&serde_json::to_string(&r).unwrap()).unwrap(), r);
    }

    #[test]
    fn extras_refuse_tubelet_field_names() {
        let mut x = Extras::default();
        assert!(!x.insert_value("views", &5).unwrap());
        assert!(!x.insert_value("id", &"x").unwrap());
        assert!(x.insert_value("view_count", &5).unwrap());
        assert!(x.insert_value("uploader", &"u").unwrap());
        // JSON objects need string keys: an error, and nothing stored.
        let n = x.len();
        let bad = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(x.insert_value("pairs", &bad).is_err());
        assert_eq!(x.len(), n);
        assert_eq!(x.len(), 2);
    }

    #[test]
    fn bad_values_are_errors_naming_the_field() {
        let e = parse(r#"{"id":"c","view_count":1e30}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
        let e = parse(r#"{"id":"c","view_count":-3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("negative"), "{e}");
        let e = parse(r#"{"id":"c","duration":"long"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("long"), "{e}");
        let e = parse(r#"{"title":"no id"}"#).unwrap_err().to_string();
        assert!(e.contains("`id`"), "{e}");
        let e = parse(r#"{"id":"c","id":"d"}"#).unwrap_err().to_string();
        assert!(e.contains("duplicate field `id`"), "{e}");
    }
}
