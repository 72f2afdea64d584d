//! A stream of synthetic posts for benchmarking the statistics: tags drawn
//! from a Zipf(s) law over a fixed vocabulary (`tag<rank>`), 1-8 tags per
//! post, heavy-tailed views. Deterministic for a seed; nothing is stored
//! per post, so the stream itself needs memory for the vocabulary's
//! cumulative weights only.

use super::super::adaptive::sample::{next_u64, uniform};

/// Synthetic posts.
///
/// ```
/// use hashtag_select::simulate::SyntheticPosts;
/// let mut posts = SyntheticPosts::new(10, 50, 1.0, 7);
/// let mut n = 0;
/// while let Some((tags, views)) = posts.next_post() {
///     assert!((1..=8).contains(&tags.len()) && tags.iter().all(|t| t.starts_with("tag")));
///     assert!((100..=10_000_000).contains(&views));
///     n += 1;
/// }
/// assert_eq!(n, 10);
/// assert_eq!(SyntheticPosts::tag_name(0), "tag0");
/// ```
#[derive(Debug, Clone)]
pub struct SyntheticPosts {
    /// Walker/Vose alias table: `(probability of keeping i, alias of i)`.
    alias: Vec<(f64, u32)>,
    rng: u64,
    left: u64,
    buf: String,
    ends: Vec<usize>,
}

impl SyntheticPosts {
    /// `posts` posts over a vocabulary of `vocabulary` tags with Zipf
    /// exponent `s`.
    pub fn new(posts: u64, vocabulary: usize, s: f64, seed: u64) -> Self {
        let n = vocabulary.max(1);
        let w: Vec<f64> = (1..=n).map(|r| 1.0 / (r as f64).powf(s)).collect();
        let total: f64 = w.iter().sum();
        // Vose's alias method: O(1) draws from the Zipf weights.
        let mut prob: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(l), Some(&g)) = (small.pop(), large.last()) {
            alias[l] = g as u32;
            prob[g] -= 1.0 - prob[l];
            if prob[g] < 1.0 {
                large.pop();
                small.push(g);
            }
        }
        for i in small.into_iter().chain(large) {
            prob[i] = 1.0;
        }
        SyntheticPosts {
            alias: prob.into_iter().zip(alias).collect(),
            rng: seed ^ 0x1234_5678_9ABC_DEF1,
            left: posts,
            buf: String::new(),
            ends: Vec::new(),
        }
    }

    /// The name of the tag of rank `r` (0 is the most frequent).
    pub fn tag_name(r: usize) -> String {
        format!("tag{r}")
    }

    /// The next post's tags and views, or `None` at the end. The tags
    /// borrow an internal buffer that the next call reuses.
    pub fn next_post(&mut self) -> Option<(Vec<&str>, u64)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let n = 1 + (next_u64(&mut self.rng) % 8) as usize;
        self.buf.clear();
        self.ends.clear();
        for _ in 0..n {
            let x = next_u64(&mut self.rng);
            let i = (((x >> 32) * self.alias.len() as u64) >> 32) as usize;
            let (keep, other) = self.alias[i];
            let r = if ((x & 0xFFFF_FFFF) as f64) < keep * 4_294_967_296.0 {
                i
            } else {
                other as usize
            };
            self.buf.push_str("tag");
            push_decimal(&mut self.buf, r);
            self.ends.push(self.buf.len());
        }
        // Views: 10^(2..7) with a heavy tail.
        let views = 10f64.powf(2.0 + 5.0 * uniform(&mut self.rng).powi(3)) as u64;
        let mut tags = Vec::with_capacity(n);
        let mut start = 0;
        for &e in &self.ends {
            tags.push(&self.buf[start..e]);
            start = e;
        }
        Some((tags, views))
    }
}

fn push_decimal(buf: &mut String, mut r: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (r % 10) as u8;
        r /= 10;
        if r == 0 {
            break;
        }
    }
    buf.push_str(std::str::from_utf8(&digits[i..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_frequencies_and_names() {
        // Rank r has weight 1/(r+1) over 100 tags: rank 0 gets 1/H(100) of draws.
        let mut p = SyntheticPosts::new(40_000, 100, 1.0, 3);
        let mut counts = vec![0u64; 100];
        let mut total = 0u64;
        while let Some((tags, _)) = p.next_post() {
            for t in tags {
                counts[t[3..].parse::<usize>().unwrap()] += 1;
                total += 1;
            }
        }
        let h: f64 = (1..=100).map(|r| 1.0 / r as f64).sum();
        for r in [0usize, 1, 9, 99] {
            let expect = total as f64 / ((r + 1) as f64 * h);
            let got = counts[r] as f64;
            assert!(
                (got - expect).abs() < 5.0 * expect.sqrt() + 5.0,
                "rank {r}: {got} vs {expect}"
            );
        }
        assert_eq!(SyntheticPosts::tag_name(42), "tag42");
    }
}
