//! Helpers the file readers share: reading text with a located UTF-8
//! error, and locating a JSON document's top-level members, so an error
//! about one entry can name its line (serde_json's `Value` keeps none).

use std::path::Path;

use serde_json::Value;

use crate::error::HashtagError;

/// Largest label list, table or saved state read whole: far above real
/// ones (a views table of ten million tags is a few hundred megabytes),
/// and a bound for `/dev/zero` or an endless FIFO given by mistake, which
/// would otherwise be read until memory runs out.
pub const MAX_TEXT_BYTES: u64 = 1 << 30;

/// Reads `path` as UTF-8; invalid bytes are a `Malformed` error naming the
/// line they are on (not a bare "stream did not contain valid UTF-8"), and
/// more than [`MAX_TEXT_BYTES`] a `Malformed` error too.
pub(crate) fn read_text(path: &Path) -> Result<String, HashtagError> {
    read_text_capped(path, MAX_TEXT_BYTES)
}

fn read_text_capped(path: &Path, limit: u64) -> Result<String, HashtagError> {
    let Some(bytes) = curation_core::read_capped(path, limit).map_err(HashtagError::io(path))?
    else {
        return Err(HashtagError::malformed(
            path,
            None,
            format!("longer than {limit} bytes: not a label, table or state file"),
        ));
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = line_at(e.as_bytes(), at);
        HashtagError::malformed(path, Some(line), format!("not UTF-8 text (byte {at})"))
    })
}

/// The 1-based line of byte `offset`.
pub(crate) fn line_at(text: &[u8], offset: usize) -> u64 {
    let end = offset.min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// One top-level member of a JSON array or object: where it starts and,
/// in an object, its decoded key.
#[derive(Debug)]
pub(crate) struct Member {
    /// Byte offset of the element (array) or of the key (object).
    pub offset: usize,
    /// The key, for object members.
    pub key: Option<String>,
}

/// The top-level members of a JSON array or object, in text order. Only
/// meant for text that already parsed as JSON (it does not validate).
pub(crate) fn top_level_members(text: &str) -> Vec<Member> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the next non-space byte at depth 1 starts a member.
    let mut expect_member = false;
    let mut is_object = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if depth == 1 && expect_member && c != b']' && c != b'}' {
            expect_member = false;
            let key = if is_object && c == b'"' {
                let end = string_end(b, i);
                serde_json::from_str::<String>(&text[i..end]).ok()
            } else {
                None
            };
            out.push(Member { offset: i, key });
        }
        match c {
            b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    is_object = c == b'{';
                    expect_member = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_member = true,
            _ => {}
        }
        i += 1;
    }
    out
}

/// The offset just past the JSON string starting at `start` (a `"`).
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The line of the object member with key `key`.
pub(crate) fn line_of_key(text: &str, key: &str) -> Option<u64> {
    top_level_members(text)
        .into_iter()
        .find(|m| m.key.as_deref() == Some(key))
        .map(|m| line_at(text.as_bytes(), m.offset))
}

/// The line of the array's `i`-th element.
pub(crate) fn line_of_element(text: &str, i: usize) -> Option<u64> {
    top_level_members(text)
        .get(i)
        .map(|m| line_at(text.as_bytes(), m.offset))
}

/// Parses JSON text into a `Value`; a syntax error names its line.
pub(crate) fn parse_json(path: &Path, text: &str) -> Result<Value, HashtagError> {
    serde_json::from_str(text).map_err(|e| HashtagError::json(path, &e))
}

/// A short description of a JSON value for error messages (strings and
/// numbers shown, cut at 40 characters; containers named).
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let cut: String = s.chars().take(40).collect();
            let more = if cut.len() < s.len() { "..." } else { "" };
            format!("the string {cut:?}{more}")
        }
        Value::Array(a) => format!("a list of {}", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// A whole number `>= 0` that fits 64 bits: a JSON integer, or a string of
/// digits (some exports quote numbers).
pub(crate) fn whole_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that never ends is refused after `limit + 1` bytes.
    #[cfg(unix)]
    #[test]
    fn endless_input_is_refused_after_the_limit() {
        let e = read_text_capped(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(
            matches!(&e, HashtagError::Malformed { line: None, message, .. }
                if message == "longer than 1000 bytes: not a label, table or state file"),
            "{e:?}"
        );
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("labels.txt");
        std::fs::write(&p, "x".repeat(1000)).unwrap();
        assert_eq!(read_text_capped(&p, 1000).unwrap().len(), 1000);
    }

    #[test]
    fn members_and_lines() {
        let text = "{\n \"a\": [1, {\"x\": \",\"}],\n \"b\\\"c\": 2\n}";
        let m = top_level_members(text);
        let keys: Vec<_> = m.iter().map(|m| m.key.clone().unwrap()).collect();
        assert_eq!(keys, ["a", "b\"c"]);
        assert_eq!(line_of_key(text, "b\"c"), Some(3));
        let list = "[\n1,\n\n[2, 3],\n\"x,y\"\n]";
        assert_eq!(line_of_element(list, 0), Some(2));
        assert_eq!(line_of_element(list, 1), Some(4));
        assert_eq!(line_of_element(list, 2), Some(5));
        assert_eq!(line_of_element(list, 3), None);
        assert!(top_level_members("[]").is_empty());
    }
}
