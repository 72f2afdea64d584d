//! Words of action labels and hashtags: label phrases, stop words, gerunds,
//! a light inflectional root, and splitting concatenated tags into words.
//!
//! Action vocabularies come in several spellings: `playing basketball`
//! (Kinetics-400), `air_drumming` (Kinetics-700 folders), `ApplyEyeMakeup`
//! (UCF101), `brush_hair` (HMDB51), `Pushing something from left to right`
//! (SSv2 templates). [`label_words`] turns all of them into the same
//! lowercase content words; hashtags are those words concatenated.

use curation_core::normalize_hashtag;

mod gerund;
mod split;

pub use gerund::{VerbForms, gerund_bases, is_gerund, regular_gerund};
pub use split::WordSplitter;

use gerund::is_vowel;

/// Function words and SSv2 placeholders that never become part of a tag.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "with",
    "to",
    "from",
    "at",
    "by",
    "for",
    "and",
    "or",
    "into",
    "onto",
    "something",
    "someone",
    "somewhere",
    "your",
    "his",
    "her",
    "their",
    "its",
    "it",
    "that",
    "so",
    "until",
    "without",
    "like",
    "being",
    "is",
    "as",
    "but",
    "not",
    "then",
    "while",
    "over",
    "behind",
    "next",
    "nothing",
    "s",
];

/// Particles of phrasal verbs (`pull ups`, `sticking tongue out`): kept in
/// the literal tag, never a tag on their own.
const PARTICLES: &[&str] = &[
    "up", "ups", "out", "off", "down", "away", "back", "around", "about",
];

/// Whether `w` is a phrasal-verb particle.
///
/// ```
/// use hashtag_select::words::is_particle;
/// assert!(is_particle("ups") && is_particle("out"));
/// assert!(!is_particle("pull"));
/// ```
pub fn is_particle(w: &str) -> bool {
    PARTICLES.contains(&w)
}

/// Whether `w` is a function word or a placeholder.
///
/// ```
/// use hashtag_select::words::is_stop_word;
/// assert!(is_stop_word("the") && is_stop_word("something"));
/// assert!(!is_stop_word("basketball"));
/// ```
pub fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.contains(&w)
}

/// The content words of an action label, lowercase and NFKC-normalised:
/// `_`, `-`, `/` and CamelCase boundaries separate words, parenthesised parts
/// (`passing American football (in game)`) and SSv2 brackets are dropped,
/// stop words and words without a letter or digit (emoji, punctuation)
/// removed.
///
/// ```
/// use hashtag_select::words::label_words;
/// assert_eq!(label_words("ApplyEyeMakeup"), ["apply", "eye", "makeup"]);
/// assert_eq!(label_words("riding a bike"), ["riding", "bike"]);
/// assert_eq!(label_words("passing American football (in game)"), ["passing", "american", "football"]);
/// assert_eq!(label_words("Pushing [something] from left to right"), ["pushing", "left", "right"]);
/// ```
pub fn label_words(label: &str) -> Vec<String> {
    // Kinetics-700 folder names write parentheses as `_-...-`
    // (`throwing_ball_-not_baseball_or_American_football-`).
    let label = if label.contains("_-") {
        let mut l = label.replace("_-", " (").replace("-_", ") ");
        if l.ends_with('-') {
            l.pop();
            l.push(')');
        }
        std::borrow::Cow::Owned(l)
    } else {
        std::borrow::Cow::Borrowed(label)
    };
    let mut text = String::with_capacity(label.len() + 8);
    let mut depth = 0u32;
    let mut prev: Option<char> = None;
    for c in label.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '[' | ']' if depth == 0 => text.push(' '),
            _ if depth > 0 => {}
            '_' | '-' | '/' | ',' | '.' | ':' | ';' | '&' | '+' | '\'' | '"' => text.push(' '),
            _ => {
                // CamelCase: a capital after a lowercase letter starts a word.
                if c.is_uppercase() && prev.is_some_and(char::is_lowercase) {
                    text.push(' ');
                }
                text.push(c);
            }
        }
        prev = Some(c);
    }
    normalize_hashtag(&text)
        .split_whitespace()
        // A "word" of emoji or punctuation only (`💃`, `???`) names no
        // activity; a label made only of such is listed as having no
        // content words rather than turned into a junk tag.
        .filter(|w| !is_stop_word(w) && w.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

/// A light inflectional root, used only to decide that two tags "share a
/// root" (`skateboarding`, `skateboarder`, `skateboards` -> `skateboard`;
/// `dance`, `dancing`, `dancer` -> `danc`). Strips one of `-ings -ing -ers
/// -er -ed -es -s`, undoubles a final consonant and drops a final `e`; stems
/// stay at least 3 letters and `-ss -us -is` words keep their `s` (`tennis`).
///
/// ```
/// use hashtag_select::words::root;
/// assert_eq!(root("skateboarding"), "skateboard");
/// assert_eq!(root("skateboarders"), root("skateboard"));
/// assert_eq!(root("dancing"), "danc");
/// assert_eq!(root("tennis"), "tennis");
/// ```
pub fn root(tag: &str) -> String {
    let mut s = tag;
    for suf in ["ings", "ing", "ers", "er", "ed", "es", "s"] {
        if let Some(stem) = s.strip_suffix(suf) {
            let keep_s =
                suf == "s" && (stem.ends_with('s') || stem.ends_with('u') || stem.ends_with('i'));
            let keep_es = suf == "es"
                && !(stem.ends_with("sh") || stem.ends_with("ch") || stem.ends_with('x'));
            if stem.chars().count() >= 3 && !keep_s && !keep_es {
                s = stem;
                break;
            }
        }
    }
    let mut out = s.to_owned();
    let b = out.as_bytes();
    let n = b.len();
    if n >= 4 && b[n - 1] == b[n - 2] && !is_vowel(b[n - 1]) && !b"lsz".contains(&b[n - 1]) {
        out.pop();
    }
    if out.chars().count() > 3 && out.ends_with('e') && !out.ends_with("ee") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_spellings() {
        let cases: &[(&str, &[&str])] = &[
            ("playing basketball", &["playing", "basketball"]),
            ("air_drumming", &["air", "drumming"]),
            ("brush_hair", &["brush", "hair"]),
            ("BasketballDunk", &["basketball", "dunk"]),
            ("YoYo", &["yo", "yo"]),
            ("skiing (not slalom or crosscountry)", &["skiing"]),
            (
                "throwing_ball_-not_baseball_or_American_football-",
                &["throwing", "ball"],
            ),
            (
                "skiing_-not_slalom_or_crosscountry-_fast",
                &["skiing", "fast"],
            ),
            ("Putting something on a surface", &["putting", "surface"]),
            ("#Salsa Dancing", &["salsa", "dancing"]),
            ("跳舞", &["跳舞"]),
        ];
        for (label, words) in cases {
            assert_eq!(label_words(label), *words, "{label}");
        }
    }

    #[test]
    fn shared_roots() {
        for group in [
            &["skateboarding", "skateboarder", "skateboards", "skateboard"][..],
            &["dance", "dancing", "dancer", "dancers"],
            &["swimming", "swimmer", "swim"],
            &["boxing", "boxer", "boxers"],
        ] {
            let r = root(group[0]);
            for t in group {
                assert_eq!(root(t), r, "{t}");
            }
        }
        assert_eq!(root("tennis"), "tennis");
        assert_ne!(root("tennis"), root("tenni"));
        assert_eq!(root("yoga"), "yoga");
    }

    proptest::proptest! {
        #[test]
        fn label_words_are_idempotent(label in "[A-Za-z_ ()\\[\\]é-]{0,30}") {
            let once = label_words(&label);
            proptest::prop_assert_eq!(label_words(&once.join(" ")), once);
        }
    }
}
