//! Hashtag normalisation and extraction from free text.
//!
//! Platforms treat `#Café`, `#cafe\u{301}` (decomposed accent), `#ＣＡＦＥ`
//! (full-width) and `#café` as one tag, so matching and counting must happen on
//! a normal form, while the spelling a creator used is kept for display and
//! for later analysis (regional variants are one of the selection rules).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// One hashtag: its normal form (for matching) and the spelling it was found in.
///
/// ```
/// use curation_core::Hashtag;
/// let h = Hashtag::new("#Café").unwrap();
/// assert_eq!(h.tag, "café");
/// assert_eq!(h.original, "#Café");
/// assert!(Hashtag::new(" # ").is_none()); // nothing left after normalising
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hashtag {
    /// Normal form: NFKC, lowercase, no leading `#`, whitespace collapsed.
    pub tag: String,
    /// The spelling as found (a `tags` entry verbatim, or the text after `#`).
    pub original: String,
}

impl Hashtag {
    /// Builds a hashtag from a spelling; `None` when nothing remains after
    /// normalisation (for example `"#"` or whitespace).
    pub fn new(original: &str) -> Option<Self> {
        let tag = normalize_hashtag(original);
        (!tag.is_empty()).then(|| Hashtag {
            tag,
            original: original.to_owned(),
        })
    }
}

/// Normalises a hashtag: Unicode NFKC, lowercase, leading `#` (or full-width
/// `＃`) removed, surrounding whitespace trimmed and inner runs collapsed to
/// one space. Non-Latin scripts are kept as they are. Idempotent.
///
/// ```
/// use curation_core::normalize_hashtag;
/// assert_eq!(normalize_hashtag("#ÜBUNG"), "übung");
/// assert_eq!(normalize_hashtag("＃ＣＡＦＥ"), "cafe");
/// assert_eq!(normalize_hashtag("#舞蹈"), "舞蹈");
/// ```
pub fn normalize_hashtag(raw: &str) -> String {
    normalize_hashtag_cow(raw).into_owned()
}

/// [`normalize_hashtag`] that borrows when `raw` already is in normal form
/// (lowercase ASCII without `#` or inner spaces: most tags), so filters can
/// test tags of records they reject without allocating.
pub(crate) fn normalize_hashtag_cow(raw: &str) -> Cow<'_, str> {
    // Fast path: plain ASCII needs no Unicode tables.
    if raw.is_ascii() {
        let trimmed = strip_sign(raw).trim_end();
        let b = trimmed.as_bytes();
        if !b.iter().any(|&c| (c as char).is_whitespace()) {
            return if b.iter().any(u8::is_ascii_uppercase) {
                Cow::Owned(trimmed.to_ascii_lowercase())
            } else {
                Cow::Borrowed(trimmed)
            };
        }
        return Cow::Owned(collapse_whitespace(&trimmed.to_ascii_lowercase()));
    }
    // NFKC first (folds full-width and compatibility forms), then lowercase,
    // then NFKC again because lowercasing can leave a string that is no
    // longer in normal form.
    // The quick checks skip both passes for text already in NFKC, which is
    // nearly all real tags.
    let folded: Cow<str> = match is_nfkc_quick(raw.chars()) {
        IsNormalized::Yes => Cow::Borrowed(raw),
        _ => Cow::Owned(raw.nfkc().collect()),
    };
    let mut lowered = strip_sign(&folded).to_lowercase();
    if is_nfkc_quick(lowered.chars()) != IsNormalized::Yes {
        lowered = lowered.nfkc().collect();
    }
    let lowered = strip_sign(&lowered);
    Cow::Owned(if lowered.contains(char::is_whitespace) {
        collapse_whitespace(lowered)
    } else {
        lowered.trim().to_owned()
    })
}

/// Leading `#` signs and whitespace, in any mix (`"# #salsa"` is `salsa`).
fn strip_sign(s: &str) -> &str {
    s.trim_start_matches(|c: char| c == '#' || c.is_whitespace())
}

/// Calls `f` with the normal form of `raw` unless it is empty; short ASCII
/// tags are lowercased on the stack (filters test every tag of every record).
pub(crate) fn with_normalized<R>(raw: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
    let t = strip_sign(raw).trim_end();
    if t.is_ascii() && t.len() <= 64 && !t.bytes().any(|b| (b as char).is_whitespace()) {
        let mut buf = [0u8; 64];
        let b = &mut buf[..t.len()];
        b.copy_from_slice(t.as_bytes());
        b.make_ascii_lowercase();
        let s = std::str::from_utf8(b).expect("ASCII stays UTF-8");
        return (!s.is_empty()).then(|| f(s));
    }
    let n = normalize_hashtag_cow(raw);
    (!n.is_empty()).then(|| f(&n))
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `c` may continue a hashtag: letters and digits of any script,
/// combining marks, `_`, and the joiners some scripts need inside words.
fn is_tag_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    c.is_alphanumeric()
        || c == '_'
        || c == '\u{200c}' // zero-width non-joiner (Persian, Indic)
        || c == '\u{200d}' // zero-width joiner
        || is_combining_mark(c)
}

/// Combining marks that `char::is_alphanumeric` does not cover (for example
/// U+0301 in a decomposed `é`, and Indic signs outside `Alphabetic`).
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
        | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957
        | 0x0962..=0x0963 | 0x0981..=0x0983 | 0x09BC..=0x09D7 | 0x0E31..=0x0E3A
        | 0x0E47..=0x0E4E | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF
        | 0x302A..=0x302F | 0x3099..=0x309A | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F)
}

/// Finds `#words` in free text (titles, descriptions, captions), in order of
/// appearance, returning the spelling after the `#`.
///
/// A hashtag starts with `#` or `＃` that is not preceded by a letter, digit or
/// `&` (so `C#`, `abc#def` and HTML entities such as `&#39;` are not tags) and
/// runs over letters, digits, marks and `_` of any script; a run of digits
/// only is not a tag (`#1`).
///
/// ```
/// use curation_core::extract_hashtags;
/// let tags = extract_hashtags("Salsa night! #salsa #舞蹈 #Café_Dance, not C# or &#39;");
/// assert_eq!(tags, vec!["salsa", "舞蹈", "Café_Dance"]);
/// ```
pub fn extract_hashtags(text: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    for_each_hashtag(text, |t| tags.push(t));
    tags
}

/// [`extract_hashtags`] without collecting (the ingest hot path).
pub(crate) fn for_each_hashtag<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    // Jump from one `#` (or the first byte of `＃`, EF BC 83) to the next:
    // work is proportional to the tags, not to the text.
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(off) = memchr::memchr2(b'#', 0xEF, &bytes[from..]) {
        let i = from + off;
        let sign_len = if bytes[i] == b'#' {
            1
        } else if text[i..].starts_with('＃') {
            '＃'.len_utf8()
        } else {
            from = i + 1;
            continue;
        };
        from = i + sign_len;
        let prev = text[..i].chars().next_back();
        if prev.is_some_and(|p| p.is_alphanumeric() || p == '&' || is_combining_mark(p)) {
            continue;
        }
        let rest = &text[from..];
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_tag_char(c))
            .map_or(rest.len(), |(j, _)| j);
        let tag = &rest[..len];
        if tag.bytes().any(|b| !b.is_ascii_digit() && b != b'_') {
            f(tag);
        }
        from += len;
    }
}

/// Adds `candidate` to `tags` unless its normal form is already there.
pub(crate) fn push_unique(tags: &mut Vec<Hashtag>, candidate: &str) {
    let tag = normalize_hashtag_cow(candidate);
    if !tag.is_empty() && !tags.iter().any(|t| t.tag == *tag) {
        tags.push(Hashtag {
            tag: tag.into_owned(),
            original: candidate.to_owned(),
        });
    }
}

impl Serialize for Hashtag {
    /// A bare string when the spelling already is the normal form, else
    /// `{"tag": ..., "original": ...}`; both forms read back losslessly.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.tag == self.original {
            s.serialize_str(&self.tag)
        } else {
            use serde::ser::SerializeStruct;
            let mut st = s.serialize_struct("Hashtag", 2)?;
            st.serialize_field("tag", &self.tag)?;
            st.serialize_field("original", &self.original)?;
            st.end()
        }
    }
}

/// Reads a hashtag as written: a bare spelling or `{"tag", "original"}`
/// (`original` defaults to `tag`); `null` and entries empty once normalised
/// give `None`. `field` names the record field in errors.
pub(crate) struct HashtagVisitor<'n> {
    pub(crate) field: Option<&'n str>,
}

impl<'de> serde::de::Visitor<'de> for HashtagVisitor<'_> {
    type Value = Option<Hashtag>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a hashtag (a string or an object with `tag` and `original`)")?;
        match self.field {
            Some(name) => write!(f, " in field `{name}`"),
            None => Ok(()),
        }
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Hashtag::new(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let (mut tag, mut original) = (None::<String>, None::<String>);
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "tag" => &mut tag,
                "original" => &mut original,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<String>().map_err(|_| {
                A::Error::custom(format_args!("{}: `{key}` must be a string", Ctx(&self)))
            })?);
        }
        let Some(tag) = tag else {
            return Err(A::Error::custom(format_args!(
                "{}: missing `tag`",
                Ctx(&self)
            )));
        };
        let original = original.unwrap_or_else(|| tag.clone());
        let tag = normalize_hashtag(&tag);
        Ok((!tag.is_empty()).then_some(Hashtag { tag, original }))
    }
}

/// "a hashtag in field `x`", for error messages.
struct Ctx<'a, 'n>(&'a HashtagVisitor<'n>);

impl std::fmt::Display for Ctx<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.0.field {
            Some(name) => write!(f, "a hashtag in field `{name}`"),
            None => f.write_str("a hashtag"),
        }
    }
}

impl<'de> Deserialize<'de> for Hashtag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HashtagVisitor { field: None })?
            .ok_or_else(|| serde::de::Error::custom("empty hashtag"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normal_forms() {
        assert_eq!(normalize_hashtag("#Basketball"), "basketball");
        assert_eq!(normalize_hashtag("##NBA "), "nba");
        assert_eq!(normalize_hashtag("#café"), "café");
        // Decomposed e + combining acute composes to the same tag.
        assert_eq!(normalize_hashtag("#cafe\u{301}"), "café");
        assert_eq!(normalize_hashtag("#ÜBUNG"), "übung");
        assert_eq!(normalize_hashtag("＃ＳＡＬＳＡ"), "salsa");
        assert_eq!(normalize_hashtag("playing   Piano"), "playing piano");
        assert_eq!(normalize_hashtag("#"), "");
        assert_eq!(normalize_hashtag("# #Salsa"), "salsa");
        assert_eq!(normalize_hashtag("#\t#A b"), "a b");
        assert_eq!(normalize_hashtag("a\u{b}b"), "a b");
        assert_eq!(normalize_hashtag("é\u{b}b"), "é b");
    }

    #[test]
    fn extraction_rules() {
        assert_eq!(
            extract_hashtags("#a1 x#no #1 #_ #ok! (#paren) #tag#next"),
            vec!["a1", "ok", "paren", "tag"]
        );
        assert_eq!(extract_hashtags("#नमस्ते दुनिया"), vec!["नमस्ते"]);
        assert_eq!(extract_hashtags("#ÜBUNG macht"), vec!["ÜBUNG"]);
        assert!(extract_hashtags("no tags &#39; here #").is_empty());
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(s in "(\\PC|[# \t]){0,24}") {
            let once = normalize_hashtag(&s);
            prop_assert_eq!(normalize_hashtag(&once), once.clone());
        }

        #[test]
        fn stack_normalisation_matches(s in "[#a-zA-Z0-9 _é\t\u{b}]{0,70}") {
            let n = normalize_hashtag(&s);
            prop_assert_eq!(with_normalized(&s, str::to_owned), (!n.is_empty()).then_some(n));
        }

        #[test]
        fn extracted_tags_are_substrings_without_hash(s in "[#a-zé舞 ]{0,40}") {
            for t in extract_hashtags(&s) {
                prop_assert!(!t.contains('#'));
                let with_hash = format!("#{t}");
                prop_assert!(s.contains(&with_hash));
            }
        }
    }
}
