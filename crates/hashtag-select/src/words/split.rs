//! Splitting concatenated tags into words from a lexicon with frequencies.

use std::collections::HashMap;

/// Splits concatenated tags into words (`playingbasketball` -> `playing
/// basketball`) from a lexicon with frequencies: the split with the highest
/// product of word probabilities wins (the unigram model of `wordninja`),
/// and a tag is split only when every piece is a lexicon word of at least
/// two characters. Works on characters, so any script the lexicon covers.
///
/// ```
/// use hashtag_select::words::WordSplitter;
/// let mut s = WordSplitter::new();
/// s.add("ice", 10);
/// s.add("skating", 8);
/// assert!(s.contains("ice"));
/// assert_eq!(s.split("iceskating").unwrap(), ["ice", "skating"]);
/// ```
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

    proptest::proptest! {
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
