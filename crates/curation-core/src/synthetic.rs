//! Deterministic synthetic crawl metadata (yt-dlp field names), for
//! benchmarks and tests. The same `(n, seed)` always gives the same bytes, so
//! a Python peer can time the same file.

use std::io::Write;

/// splitmix64: small, fast, and reproducible across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const TAGS: &[&str] = &[
    "basketball",
    "Salsa",
    "tango",
    "skateboarding",
    "piano",
    "Parkour",
    "yoga",
    "boxing",
    "surfing",
    "cooking",
    "dance",
    "fyp",
    "viral",
    "football",
    "soccer",
    "Café",
    "舞蹈",
    "ÜBUNG",
    "ballet",
    "hiphop",
    "juggling",
    "climbing",
    "swimming",
    "ad",
];
const LANGS: &[&str] = &["en", "en-US", "es", "pt-BR", "de", "zh", "ja", "fr"];

/// Writes `n` JSON Lines records; about 1% repeat an earlier id and about 2%
/// have `null` counts or no duration, as real crawls do.
///
/// ```
/// use curation_core::{synthetic::write_jsonl, VideoRecord};
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// write_jsonl(&mut a, 3, 7)?;
/// write_jsonl(&mut b, 3, 7)?;
/// assert_eq!(a, b); // same (n, seed), same bytes
/// let text = String::from_utf8(a).unwrap();
/// assert_eq!(text.lines().count(), 3);
/// for line in text.lines() {
///     let r: VideoRecord = serde_json::from_str(line).unwrap();
///     assert_eq!(r.platform.as_deref(), Some("tiktok"));
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_jsonl(out: &mut impl Write, n: u64, seed: u64) -> std::io::Result<()> {
    let mut rng = Rng(seed);
    let mut line = String::with_capacity(512);
    for i in 0..n {
        use std::fmt::Write as _;
        line.clear();
        let id = if i > 0 && rng.below(100) == 0 {
            rng.below(i)
        } else {
            i
        };
        let t1 = TAGS[rng.below(TAGS.len() as u64) as usize];
        let t2 = TAGS[rng.below(TAGS.len() as u64) as usize];
        let t3 = TAGS[rng.below(TAGS.len() as u64) as usize];
        let (w, h) = [
            (720, 1280),
            (1080, 1920),
            (480, 854),
            (1280, 720),
            (360, 640),
        ][rng.below(5) as usize];
        let views = rng.below(5_000_000);
        let missing = rng.below(50) == 0;
        let _ = write!(
            line,
            r##"{{"id":"v{id:09}","webpage_url":"https://www.tiktok.com/@user{u}/video/{id}","extractor_key":"TikTok","title":"clip {i} #{t1} #{t2}","tags":["{t1}","{t3}"],"##,
            u = rng.below(100_000),
        );
        if missing {
            line.push_str(r#""duration":null,"view_count":null,"like_count":null,"#);
        } else {
            let _ = write!(
                line,
                r#""duration":{}.{},"view_count":{views},"like_count":{},"#,
                1 + rng.below(120),
                rng.below(10),
                views / (1 + rng.below(50)),
            );
        }
        let _ = writeln!(
            line,
            r#""comment_count":{},"repost_count":{},"width":{w},"height":{h},"fps":{},"language":"{}","upload_date":"2024{:02}{:02}"}}"#,
            rng.below(5000),
            rng.below(2000),
            [24, 25, 30, 60][rng.below(4) as usize],
            LANGS[rng.below(LANGS.len() as u64) as usize],
            1 + rng.below(12),
            1 + rng.below(28),
        );
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn deterministic_and_parseable() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        super::write_jsonl(&mut a, 200, 7).unwrap();
        super::write_jsonl(&mut b, 200, 7).unwrap();
        assert_eq!(a, b);
        for line in String::from_utf8(a).unwrap().lines() {
            let r: crate::VideoRecord = serde_json::from_str(line).unwrap();
            assert!(r.hashtags.len() >= 2);
        }
    }
}
