//! [`TagStats`]: the per-tag and focus-neighbour counters, fed one post at
//! a time, and the overlap measures (co-posts, Jaccard, NPMI) built on them.

use curation_core::VideoRecord;

use super::space_saving::{HashKeyed, Slot, SpaceSaving};
use super::{Neighbour, StatsConfig, TagCount, tag_hash};

/// Per-tag counts and focus-tag co-occurrence, fed one post at a time.
///
/// ```
/// use hashtag_select::{StatsConfig, TagStats};
/// let mut stats = TagStats::new(StatsConfig::default(), &["salsa"]);
/// stats.add_post(["salsa", "bachata"], Some(10));
/// stats.add_post(["salsa", "salsa"], Some(5)); // a repeat counts once
/// stats.add_post(["tango"], None);
/// assert_eq!(stats.posts(), 3);
/// assert_eq!(stats.posts_of("salsa"), 2);
/// assert_eq!(stats.co_posts("salsa", "bachata"), Some(1));
/// assert_eq!(stats.jaccard("salsa", "bachata"), Some(0.5));
/// assert_eq!(stats.top(1)[0].tag, "salsa");
/// ```
#[derive(Debug, Clone)]
pub struct TagStats {
    config: StatsConfig,
    posts: u64,
    tags: SpaceSaving,
    /// Per tag slot: its name and summed views.
    names: Vec<String>,
    views: Vec<u64>,
    focus: HashKeyed<u32>,
    focus_names: Vec<String>,
    neighbours: Vec<SpaceSaving>,
    scratch: Vec<u64>,
}

impl TagStats {
    /// Empty statistics; co-occurrence is counted for `focus` tags (normal
    /// forms), typically the candidates.
    pub fn new<S: AsRef<str>>(config: StatsConfig, focus: &[S]) -> Self {
        let mut s = TagStats {
            config,
            posts: 0,
            tags: SpaceSaving::new(config.max_tags),
            names: Vec::new(),
            views: Vec::new(),
            focus: HashKeyed::default(),
            focus_names: Vec::new(),
            neighbours: Vec::new(),
            scratch: Vec::new(),
        };
        for f in focus {
            s.add_focus(f.as_ref());
        }
        s
    }

    /// Starts counting neighbours of `tag` (from the next post on).
    pub fn add_focus(&mut self, tag: &str) {
        let h = tag_hash(tag);
        if !self.focus.contains_key(&h) {
            self.focus.insert(h, self.focus_names.len() as u32);
            self.focus_names.push(tag.to_owned());
            self.neighbours
                .push(SpaceSaving::new(self.config.neighbour_slots));
        }
    }

    /// Counts one post with these tags (normal forms; repeats within the
    /// post count once) and its views.
    pub fn add_post<'a>(&mut self, tags: impl IntoIterator<Item = &'a str>, views: Option<u64>) {
        self.posts += 1;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        // A linear scan dedups the usual handful of tags fastest; a crafted
        // post with thousands would make it quadratic, so a set takes over.
        let mut seen: Option<std::collections::HashSet<u64>> = None;
        for t in tags {
            let h = tag_hash(t);
            let repeat = match &mut seen {
                Some(set) => !set.insert(h),
                None if scratch.len() >= 64 => {
                    let mut set: std::collections::HashSet<u64> = scratch.iter().copied().collect();
                    let repeat = !set.insert(h);
                    seen = Some(set);
                    repeat
                }
                None => scratch.contains(&h),
            };
            if repeat {
                continue;
            }
            scratch.push(h);
            let slot = self.tags.add(h, 1);
            let s = slot.index();
            match slot {
                Slot::New(_) => {
                    self.names.push(t.to_owned());
                    self.views.push(views.unwrap_or(0));
                }
                Slot::Replaced { .. } => {
                    // Reuse the evicted name's allocation.
                    self.names[s].clear();
                    self.names[s].push_str(t);
                    self.views[s] = views.unwrap_or(0);
                }
                // Saturating: crawled view counts are untrusted, and a sum
                // past u64::MAX must cap, not wrap (or panic in debug).
                Slot::Existing(_) => {
                    self.views[s] = self.views[s].saturating_add(views.unwrap_or(0))
                }
            }
        }
        if !self.focus.is_empty() {
            for &h in &scratch {
                if let Some(&f) = self.focus.get(&h) {
                    let n = &mut self.neighbours[f as usize];
                    for &other in &scratch {
                        if other != h {
                            n.add(other, 1);
                        }
                    }
                }
            }
        }
        self.scratch = scratch;
    }

    /// Counts a record: its normalised hashtags and its views.
    pub fn add_record(&mut self, r: &VideoRecord) {
        self.add_post(r.hashtags.iter().map(|h| h.tag.as_str()), r.views);
    }

    /// Posts seen.
    pub fn posts(&self) -> u64 {
        self.posts
    }

    /// The sizes in use.
    pub fn config(&self) -> StatsConfig {
        self.config
    }

    /// Counts of `tag`, if monitored.
    pub fn count(&self, tag: &str) -> Option<TagCount> {
        let h = tag_hash(tag);
        let s = self.tags.slot(h)?;
        let (posts, error) = self.tags.get(h)?;
        Some(TagCount {
            tag: self.names[s].to_string(),
            posts,
            error,
            views: self.views[s],
        })
    }

    /// Posts of `tag`: its count, or 0 when not monitored (then its true
    /// count is at most [`TagStats::untracked_bound`]).
    pub fn posts_of(&self, tag: &str) -> u64 {
        self.tags.get(tag_hash(tag)).map_or(0, |c| c.0)
    }

    /// The most posts a tag missing from the counters can have.
    pub fn untracked_bound(&self) -> u64 {
        self.tags.min_count()
    }

    /// The `n` most frequent tags, most posts first (ties by tag).
    pub fn top(&self, n: usize) -> Vec<TagCount> {
        let mut all: Vec<TagCount> = self.iter().collect();
        all.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.tag.cmp(&b.tag)));
        all.truncate(n);
        all
    }

    /// Every monitored tag with its counts (slot order).
    pub fn iter(&self) -> impl Iterator<Item = TagCount> + '_ {
        self.tags
            .iter()
            .enumerate()
            .map(|(s, (_, posts, error))| TagCount {
                tag: self.names[s].clone(),
                posts,
                error,
                views: self.views[s],
            })
    }

    /// The `k` strongest neighbours of a focus tag (tags whose name is no
    /// longer monitored are left out); `None` when `tag` is not a focus tag.
    pub fn neighbours(&self, tag: &str, k: usize) -> Option<Vec<Neighbour>> {
        let f = *self.focus.get(&tag_hash(tag))?;
        let mut v: Vec<Neighbour> = self.neighbours[f as usize]
            .iter()
            .filter_map(|(h, posts, error)| {
                let s = self.tags.slot(h)?;
                Some(Neighbour {
                    tag: self.names[s].to_string(),
                    posts,
                    error,
                })
            })
            .collect();
        v.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.tag.cmp(&b.tag)));
        v.truncate(k);
        Some(v)
    }

    /// Posts carrying both tags, when either is a focus tag: the smallest
    /// count among the focus summaries that still hold the other tag (each
    /// is an upper bound); 0 when no summary holds it (then the true count
    /// is at most that summary's smallest counter); `None` when neither tag
    /// is a focus tag.
    pub fn co_posts(&self, a: &str, b: &str) -> Option<u64> {
        let (ha, hb) = (tag_hash(a), tag_hash(b));
        // Outer None: `f` is not a focus tag; inner None: `o` not held.
        let lookup = |f: u64, o: u64| {
            self.focus
                .get(&f)
                .map(|&i| self.neighbours[i as usize].get(o).map(|c| c.0))
        };
        match (lookup(ha, hb), lookup(hb, ha)) {
            (None, None) => None,
            (x, y) => {
                let held = [x.flatten(), y.flatten()].into_iter().flatten().min();
                Some(held.unwrap_or(0))
            }
        }
    }

    /// Jaccard overlap of the two tags' post sets, `|A ∩ B| / |A ∪ B|` (in
    /// [0, 1] even when a tag lost its own counter).
    pub fn jaccard(&self, a: &str, b: &str) -> Option<f64> {
        let co = self.co_posts(a, b)?;
        let union = self.posts_of(a).max(co) + self.posts_of(b).max(co) - co;
        (union > 0).then(|| co as f64 / union as f64)
    }

    /// Normalised pointwise mutual information of the two tags over posts,
    /// `ln(p(a,b) / (p(a) p(b))) / -ln p(a,b)`, in [-1, 1]; -1 when they
    /// never co-occur.
    pub fn npmi(&self, a: &str, b: &str) -> Option<f64> {
        let co = self.co_posts(a, b)?;
        let n = self.posts as f64;
        let (pa, pb) = (
            self.posts_of(a).max(co) as f64 / n,
            self.posts_of(b).max(co) as f64 / n,
        );
        if co == 0 || pa == 0.0 || pb == 0.0 {
            return Some(-1.0);
        }
        let pab = co as f64 / n;
        if pab >= 1.0 {
            return Some(1.0);
        }
        Some(((pab / (pa * pb)).ln() / -pab.ln()).clamp(-1.0, 1.0))
    }

    /// A word lexicon from the single tags seen (their post counts), for
    /// splitting concatenated tags.
    pub fn lexicon(&self) -> crate::words::WordSplitter {
        let mut w = crate::words::WordSplitter::new();
        for c in self.iter() {
            if !c.tag.contains(' ') {
                w.add(&c.tag, c.posts);
            }
        }
        w
    }

    /// Approximate heap bytes held: fixed by the configuration and the
    /// focus set, not by the posts.
    pub fn heap_bytes(&self) -> usize {
        self.tags.heap_bytes()
            + self.names.iter().map(|n| n.capacity() + 24).sum::<usize>()
            + self.views.capacity() * 8
            + self
                .neighbours
                .iter()
                .map(SpaceSaving::heap_bytes)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(posts: &[&[&str]]) -> TagStats {
        let mut s = TagStats::new(StatsConfig::default(), &["salsa", "tango"]);
        for (i, p) in posts.iter().enumerate() {
            s.add_post(p.iter().copied(), Some(i as u64 * 10));
        }
        s
    }

    #[test]
    fn counts_and_overlap_by_hand() {
        let s = stats(&[
            &["salsa", "dance", "fyp"],
            &["salsa", "dance"],
            &["tango", "dance", "salsa"],
            &["tango", "tango"],
            &["fyp"],
        ]);
        assert_eq!(s.posts(), 5);
        let salsa = s.count("salsa").unwrap();
        assert_eq!((salsa.posts, salsa.error, salsa.views), (3, 0, 10 + 20));
        assert_eq!(
            s.count("tango").unwrap().posts,
            2,
            "repeats in a post count once"
        );
        assert_eq!(s.co_posts("salsa", "dance"), Some(3));
        assert_eq!(s.co_posts("salsa", "tango"), Some(1));
        assert_eq!(s.co_posts("dance", "fyp"), None, "neither is a focus tag");
        // |salsa ∩ tango| = 1, |salsa ∪ tango| = 3 + 2 - 1 = 4
        assert_eq!(s.jaccard("salsa", "tango"), Some(0.25));
        // p(s)=3/5, p(t)=2/5, p(s,t)=1/5: ln((1/5)/(6/25)) / -ln(1/5)
        let expect = ((0.2f64) / (0.24)).ln() / -(0.2f64).ln();
        assert!((s.npmi("salsa", "tango").unwrap() - expect).abs() < 1e-12);
        let n = s.neighbours("salsa", 2).unwrap();
        assert_eq!((n[0].tag.as_str(), n[0].posts), ("dance", 3));
        assert_eq!(s.top(1)[0].tag, "dance");
    }

    #[test]
    fn co_posts_uses_the_summary_that_still_holds_the_pair() {
        let cfg = StatsConfig {
            max_tags: 64,
            neighbour_slots: 1,
        };
        let mut s = TagStats::new(cfg, &["a", "b"]);
        for _ in 0..3 {
            s.add_post(["a", "b"], None);
        }
        // a's single neighbour counter moves to x1; b's still holds a.
        s.add_post(["a", "x1"], None);
        assert_eq!(s.neighbours("a", 5).unwrap()[0].tag, "x1");
        assert_eq!(s.co_posts("a", "b"), Some(3));
        // |a ∩ b| = 3, |a ∪ b| = 4 + 3 - 3
        assert_eq!(s.jaccard("a", "b"), Some(0.75));
        assert_eq!(
            s.co_posts("x1", "b"),
            Some(0),
            "b's summary does not hold x1"
        );
    }

    #[test]
    fn memory_is_bounded_by_the_configuration() {
        let cfg = StatsConfig {
            max_tags: 64,
            neighbour_slots: 8,
        };
        let mut s = TagStats::new(cfg, &["t0"]);
        let names: Vec<String> = (0..5000).map(|i| format!("t{i}")).collect();
        let mut sizes = Vec::new();
        for round in 0..4 {
            for i in 0..5000usize {
                // t0 is in every post; the rest are spread thin.
                let j = (i * 7919 + round) % 5000;
                s.add_post(["t0", names[j].as_str()], None);
            }
            sizes.push(s.heap_bytes());
        }
        assert_eq!(s.count("t0").unwrap().posts, 20_000);
        assert_eq!(
            s.count("t0").unwrap().error,
            0,
            "a heavy hitter stays exact"
        );
        assert!(sizes.windows(2).all(|w| w[1] <= w[0] + 64 * 8), "{sizes:?}");
        assert!(s.untracked_bound() <= 40_000 / 64);
    }
}
