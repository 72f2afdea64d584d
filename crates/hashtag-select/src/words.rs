//! Words of action labels and hashtags: label phrases, stop words, gerunds,
//! a light inflectional root, and splitting concatenated tags into words.
//!
//! Action vocabularies come in several spellings: `playing basketball`
//! (Kinetics-400), `air_drumming` (Kinetics-700 folders), `ApplyEyeMakeup`
//! (UCF101), `brush_hair` (HMDB51), `Pushing something from left to right`
//! (SSv2 templates). [`label_words`] turns all of them into the same
//! lowercase content words; hashtags are those words concatenated.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use curation_core::normalize_hashtag;

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
pub fn is_particle(w: &str) -> bool {
    PARTICLES.contains(&w)
}

/// Whether `w` is a function word or a placeholder.
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

/// Whether `w` looks like an English gerund (`-ing` after a stem with a
/// vowel: `skating`, not `sing` or `ring`).
pub fn is_gerund(w: &str) -> bool {
    w.len() >= 5
        && w.is_ascii()
        && w.ends_with("ing")
        && w[..w.len() - 3].bytes().any(|b| b"aeiouy".contains(&b))
}

/// Possible base forms of a gerund, most likely first: `skating` ->
/// `skate`, `skat`; `running` -> `run`, `runn`; `surfing` -> `surf`,
/// `surfe`; `juggling` -> `juggle`, `juggl`; `playing` -> `play`.
pub fn gerund_bases(w: &str) -> Vec<String> {
    if !is_gerund(w) {
        return Vec::new();
    }
    let stem = &w[..w.len() - 3];
    let b = stem.as_bytes();
    let n = b.len();
    let last = b[n - 1];
    if n >= 2 && last == b[n - 2] && !is_vowel(last) {
        // running -> run, but rolling -> roll, kissing -> kiss
        return if b"lszf".contains(&last) {
            vec![stem.to_owned()]
        } else {
            vec![stem[..n - 1].to_owned(), stem.to_owned()]
        };
    }
    if last == b'y' && n >= 2 && !is_vowel(b[n - 2]) {
        return vec![format!("{}ie", &stem[..n - 1]), stem.to_owned()];
    }
    if is_vowel(last) || b"wxy".contains(&last) {
        return vec![stem.to_owned()];
    }
    let with_e = format!("{stem}e");
    if needs_silent_e(b) {
        vec![with_e, stem.to_owned()]
    } else {
        vec![stem.to_owned(), with_e]
    }
}

/// Whether a gerund stem most likely lost a silent `e`: one-syllable
/// vowel-consonant endings (`skat`, `rid`, `us`), consonant + `l` endings
/// after a plosive or fricative (`juggl`, `wrestl`; not `bowl`, `curl`), and `c`, `v`, `dg`, `rg` endings (`danc`, `serv`,
/// `judg`, `charg`).
fn needs_silent_e(b: &[u8]) -> bool {
    let n = b.len();
    let last = b[n - 1];
    let groups = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| is_vowel(c) && (i == 0 || !is_vowel(b[i - 1])))
        .count();
    let single_vowel_before = n >= 2 && is_vowel(b[n - 2]) && (n == 2 || !is_vowel(b[n - 3]));
    (groups == 1 && single_vowel_before)
        || (last == b'l' && n >= 2 && b"bdfgkptz".contains(&b[n - 2]))
        || last == b'c'
        || last == b'v'
        || (last == b'g' && n >= 2 && (b[n - 2] == b'd' || b[n - 2] == b'r'))
}

fn is_vowel(b: u8) -> bool {
    b"aeiou".contains(&b)
}

/// The gerund of a verb by the usual spelling rules (`skate` -> `skating`,
/// `run` -> `running`, `tie` -> `tying`, `play` -> `playing`); [`VerbForms`]
/// prefers the forms seen in the vocabulary.
pub fn regular_gerund(base: &str) -> String {
    let b = base.as_bytes();
    let n = b.len();
    if base.ends_with("ie") {
        return format!("{}ying", &base[..n - 2]);
    }
    if n >= 3 && base.ends_with('e') && !base.ends_with("ee") && !base.ends_with("ye") {
        return format!("{}ing", &base[..n - 1]);
    }
    // One syllable ending consonant-vowel-consonant: double the consonant
    // (run, swim, skip; not surf, cook, visit).
    let vowels = b.iter().filter(|&&c| is_vowel(c)).count();
    if n >= 3
        && vowels == 1
        && !is_vowel(b[n - 3])
        && is_vowel(b[n - 2])
        && !is_vowel(b[n - 1])
        && !b"wxy".contains(&b[n - 1])
    {
        return format!("{base}{}ing", b[n - 1] as char);
    }
    format!("{base}ing")
}

/// The verbs an action vocabulary uses, as base -> gerund, learnt from its
/// gerunds (`skating` teaches `skate` -> `skating`) and from base-form labels
/// (`brush_hair`).
#[derive(Debug, Clone, Default)]
pub struct VerbForms {
    gerund_of: BTreeMap<String, String>,
    gerunds: BTreeSet<String>,
}

impl VerbForms {
    /// Learns every gerund of these label word lists.
    pub fn learn<'a>(labels: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut forms = VerbForms::default();
        for words in labels {
            for w in words {
                if is_gerund(w) {
                    forms.gerunds.insert(w.clone());
                    for base in gerund_bases(w) {
                        forms.gerund_of.entry(base).or_insert_with(|| w.clone());
                    }
                }
            }
        }
        forms
    }

    /// Whether `w` is a verb base seen as a gerund (`skate`, `brush`).
    pub fn is_base(&self, w: &str) -> bool {
        self.gerund_of.contains_key(w)
    }

    /// Whether `w` is a gerund seen in the vocabulary.
    pub fn is_known_gerund(&self, w: &str) -> bool {
        self.gerunds.contains(w)
    }

    /// The gerund of `base`: the vocabulary's, else the regular spelling.
    pub fn gerund(&self, base: &str) -> String {
        self.gerund_of
            .get(base)
            .cloned()
            .unwrap_or_else(|| regular_gerund(base))
    }
}

/// A light inflectional root, used only to decide that two tags "share a
/// root" (`skateboarding`, `skateboarder`, `skateboards` -> `skateboard`;
/// `dance`, `dancing`, `dancer` -> `danc`). Strips one of `-ings -ing -ers
/// -er -ed -es -s`, undoubles a final consonant and drops a final `e`; stems
/// stay at least 3 letters and `-ss -us -is` words keep their `s` (`tennis`).
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

/// Splits concatenated tags into words (`playingbasketball` -> `playing
/// basketball`) from a lexicon with frequencies: the split with the highest
/// product of word probabilities wins (the unigram model of `wordninja`),
/// and a tag is split only when every piece is a lexicon word of at least
/// two characters. Works on characters, so any script the lexicon covers.
#[derive(Debug, Clone, Default)]
pub struct WordSplitter {
    cost: HashMap<String, f64>,
    max_chars: usize,
    total: f64,
}

impl WordSplitter {
    /// An empty lexicon.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `count` occurrences of `word` (label words, single-word tags).
    pub fn add(&mut self, word: &str, count: u64) {
        let n = word.chars().count();
        if n < 2 || count == 0 {
            return;
        }
        self.max_chars = self.max_chars.max(n);
        *self.cost.entry(word.to_owned()).or_insert(0.0) += count as f64;
        self.total += count as f64;
    }

    /// Whether `word` is in the lexicon.
    pub fn contains(&self, word: &str) -> bool {
        self.cost.contains_key(word)
    }

    /// The best split of `tag` into at least two lexicon words, if any.
    ///
    /// ```
    /// use hashtag_select::words::WordSplitter;
    /// let mut s = WordSplitter::new();
    /// for (w, n) in [("playing", 50), ("basketball", 40), ("basket", 5), ("ball", 30)] {
    ///     s.add(w, n);
    /// }
    /// assert_eq!(s.split("playingbasketball").unwrap(), ["playing", "basketball"]);
    /// assert_eq!(s.split("basketball"), Some(vec!["basket".into(), "ball".into()]));
    /// assert_eq!(s.split("salsa"), None);
    /// ```
    pub fn split(&self, tag: &str) -> Option<Vec<String>> {
        let chars: Vec<(usize, char)> = tag.char_indices().collect();
        let n = chars.len();
        if n < 4 || self.total == 0.0 {
            return None;
        }
        let byte_at = |i: usize| chars.get(i).map_or(tag.len(), |c| c.0);
        // best[i]: (cost, start of last word) of the best split of chars[..i].
        let mut best: Vec<Option<(f64, usize)>> = vec![None; n + 1];
        best[0] = Some((0.0, 0));
        for end in 2..=n {
            for start in end.saturating_sub(self.max_chars)..=end - 2 {
                // The whole tag as one piece is not a split.
                if start == 0 && end == n {
                    continue;
                }
                let Some((before, _)) = best[start] else {
                    continue;
                };
                let word = &tag[byte_at(start)..byte_at(end)];
                if let Some(&count) = self.cost.get(word) {
                    let c = before + (self.total / count).ln();
                    if best[end].is_none_or(|(b, _)| c < b) {
                        best[end] = Some((c, start));
                    }
                }
            }
        }
        best[n]?;
        let mut words = Vec::new();
        let mut end = n;
        while end > 0 {
            let (_, start) = best[end].expect("reachable");
            words.push(tag[byte_at(start)..byte_at(end)].to_owned());
            end = start;
        }
        words.reverse();
        (words.len() >= 2).then_some(words)
    }
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
    fn gerunds_both_ways() {
        let cases = [
            ("skating", "skate"),
            ("running", "run"),
            ("playing", "play"),
            ("dancing", "dance"),
            ("riding", "ride"),
            ("swimming", "swim"),
            ("rolling", "roll"),
            ("tying", "tie"),
            ("surfing", "surf"),
            ("kicking", "kick"),
            ("juggling", "juggle"),
            ("bowling", "bowl"),
            ("curling", "curl"),
            ("using", "use"),
            ("shooting", "shoot"),
        ];
        for (g, base) in cases {
            assert_eq!(gerund_bases(g)[0], base, "{g}");
            assert_eq!(regular_gerund(base), g, "{base}");
        }
        assert!(!is_gerund("sing") && !is_gerund("ring") && is_gerund("boxing"));
        let words = [vec!["ice".to_owned(), "skating".to_owned()]];
        let forms = VerbForms::learn(words.iter().map(Vec::as_slice));
        assert!(forms.is_base("skate"));
        assert_eq!(forms.gerund("skate"), "skating");
        assert_eq!(forms.gerund("surf"), "surfing");
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

        #[test]
        fn splits_concatenate_back(words in proptest::collection::vec("[a-e]{2,4}", 1..4), extra in "[a-e]{2,5}") {
            let mut s = WordSplitter::new();
            for (i, w) in words.iter().enumerate() {
                s.add(w, i as u64 + 1);
            }
            let tag = format!("{}{extra}", words.concat());
            if let Some(parts) = s.split(&tag) {
                proptest::prop_assert_eq!(parts.concat(), tag);
                proptest::prop_assert!(parts.len() >= 2 && parts.iter().all(|p| s.contains(p)));
            }
        }
    }

    #[test]
    fn splitting_needs_the_lexicon() {
        let mut s = WordSplitter::new();
        for (w, n) in [
            ("skate", 20),
            ("board", 30),
            ("boarding", 5),
            ("ice", 10),
            ("skating", 8),
        ] {
            s.add(w, n);
        }
        assert_eq!(s.split("iceskating").unwrap(), ["ice", "skating"]);
        assert_eq!(s.split("skateboard").unwrap(), ["skate", "board"]);
        assert_eq!(s.split("skateboardx"), None);
        assert_eq!(s.split("board"), None);
    }
}
