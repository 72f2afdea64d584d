//! Gerunds and verb bases: `skating` <-> `skate`, by the usual spelling
//! rules and from the forms a vocabulary uses.

use std::collections::{BTreeMap, BTreeSet};

/// Whether `w` looks like an English gerund (`-ing` after a stem with a
/// vowel: `skating`, not `sing` or `ring`).
///
/// ```
/// use hashtag_select::words::is_gerund;
/// assert!(is_gerund("skating") && is_gerund("boxing"));
/// assert!(!is_gerund("sing") && !is_gerund("ring"));
/// ```
pub fn is_gerund(w: &str) -> bool {
    w.len() >= 5
        && w.is_ascii()
        && w.ends_with("ing")
        && w[..w.len() - 3].bytes().any(|b| b"aeiouy".contains(&b))
}

/// Possible base forms of a gerund, most likely first: `skating` ->
/// `skate`, `skat`; `running` -> `run`, `runn`; `surfing` -> `surf`,
/// `surfe`; `juggling` -> `juggle`, `juggl`; `playing` -> `play`.
///
/// ```
/// use hashtag_select::words::gerund_bases;
/// assert_eq!(gerund_bases("skating"), ["skate", "skat"]);
/// assert_eq!(gerund_bases("running"), ["run", "runn"]);
/// assert_eq!(gerund_bases("playing"), ["play"]);
/// assert!(gerund_bases("sing").is_empty());
/// ```
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

pub(super) fn is_vowel(b: u8) -> bool {
    b"aeiou".contains(&b)
}

/// The gerund of a verb by the usual spelling rules (`skate` -> `skating`,
/// `run` -> `running`, `tie` -> `tying`, `play` -> `playing`); [`VerbForms`]
/// prefers the forms seen in the vocabulary.
///
/// ```
/// use hashtag_select::words::regular_gerund;
/// assert_eq!(regular_gerund("skate"), "skating");
/// assert_eq!(regular_gerund("run"), "running");
/// assert_eq!(regular_gerund("tie"), "tying");
/// assert_eq!(regular_gerund("surf"), "surfing");
/// ```
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
///
/// ```
/// use hashtag_select::words::{VerbForms, label_words};
/// let labels = [label_words("ice skating"), label_words("brush_hair")];
/// let forms = VerbForms::learn(labels.iter().map(Vec::as_slice));
/// assert!(forms.is_base("skate") && forms.is_known_gerund("skating"));
/// assert_eq!(forms.gerund("skate"), "skating");
/// // A verb the vocabulary never used gets the regular spelling.
/// assert_eq!(forms.gerund("brush"), "brushing");
/// ```
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
