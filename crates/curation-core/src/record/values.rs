//! Readers of a record's list and object fields (`tags`, `hashtags`,
//! `ingest_source`) that name the field in every error: serde's derived
//! readers say only "expected a string" or leak internal type names.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::SourceRef;
use crate::hashtag::{Hashtag, HashtagVisitor};

/// A list field whose entries are read by `S` (`None`: an entry dropped,
/// such as `null`), or `null`: `tags` and `hashtags`.
pub(crate) struct ListVisitor<'n, S> {
    /// The field, named in errors.
    pub(crate) name: &'n str,
    /// What the entries are, for "a list of ..." in errors.
    what: &'static str,
    /// The reader of one entry, given the field name.
    elem: fn(&'n str) -> S,
}

/// `tags`: a list of strings (`null` entries dropped) or `null`.
pub(crate) fn strings_visitor(name: &str) -> ListVisitor<'_, StrElem<'_>> {
    ListVisitor {
        name,
        what: "strings",
        elem: |name| StrElem { name },
    }
}

/// `hashtags`: a list of hashtags (empty and `null` entries dropped) or
/// `null`.
pub(crate) fn hashtags_visitor(name: &str) -> ListVisitor<'_, HashtagElem<'_>> {
    ListVisitor {
        name,
        what: "hashtags",
        elem: |name| HashtagElem { name },
    }
}

impl<'de, 'n, S, T> Visitor<'de> for ListVisitor<'n, S>
where
    S: DeserializeSeed<'de, Value = Option<T>>,
{
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {} for field `{}`", self.what, self.name)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(x) = seq.next_element_seed((self.elem)(self.name))? {
            out.extend(x);
        }
        Ok(Some(out))
    }
}

pub(crate) struct StrElem<'n> {
    name: &'n str,
}

impl<'de> DeserializeSeed<'de> for StrElem<'_> {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrElem<'_> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a string in field `{}`", self.name)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
}

pub(crate) struct HashtagElem<'n> {
    name: &'n str,
}

impl<'de> DeserializeSeed<'de> for HashtagElem<'_> {
    type Value = Option<Hashtag>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(HashtagVisitor {
            field: Some(self.name),
        })
    }
}

/// `ingest_source`: `{"path": "...", "line": N}` (N >= 1) or `null`.
pub(crate) struct SourceVisitor<'n> {
    pub(crate) name: &'n str,
}

impl<'de> Visitor<'de> for SourceVisitor<'_> {
    type Value = Option<SourceRef>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "an object {{\"path\": text, \"line\": number}} for field `{}`",
            self.name
        )
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut path, mut line) = (None::<String>, None::<u64>);
        let fail = |m: &str| de::Error::custom(format_args!("field `{}`: {m}", self.name));
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "path" => {
                    path = Some(
                        map.next_value::<String>()
                            .map_err(|_| fail("`path` must be text"))?,
                    )
                }
                "line" => {
                    line = Some(
                        map.next_value_seed(LineSeed)?
                            .ok_or_else(|| fail("`line` must be a whole number of at least 1"))?,
                    )
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        match (path, line) {
            (Some(path), Some(line)) => Ok(Some(SourceRef {
                path: path.into(),
                line,
            })),
            (None, _) => Err(fail("missing `path`")),
            (_, None) => Err(fail("missing `line`")),
        }
    }
}

/// A 1-based line number; `None` for anything else (the caller names the
/// field in its error).
struct LineSeed;

impl<'de> DeserializeSeed<'de> for LineSeed {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LineSeed {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a line number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok((v >= 1).then_some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(v).ok().filter(|&v| v >= 1))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}
