//! Space-Saving (Metwally, Agrawal, El Abbadi, "Efficient computation of
//! frequent and top-k elements in data streams", ICDT 2005): at most
//! `capacity` counters; an unmonitored key takes over the smallest counter.
//!
//! Guarantees, with `N` the total weight added and `m` the capacity: a
//! monitored key's true count lies in `[count - error, count]`; every key
//! with a true count above `N / m` is monitored; an unmonitored key's true
//! count is at most [`SpaceSaving::min_count`] (<= `N / m`). While fewer
//! than `m` distinct keys have been seen, nothing is evicted and every
//! count is exact (error 0).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Keys here are already 64-bit hashes: hashing them again is wasted work.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// What [`SpaceSaving::add`] did.
///
/// ```
/// use hashtag_select::stats::space_saving::{Slot, SpaceSaving};
/// let mut s = SpaceSaving::new(1);
/// assert_eq!(s.add(7, 1), Slot::New(0));
/// assert_eq!(s.add(7, 1), Slot::Existing(0));
/// assert_eq!(s.add(9, 1), Slot::Replaced { slot: 0, evicted: 7 });
/// assert_eq!(s.add(9, 1).index(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The key was monitored in this slot.
    Existing(u32),
    /// The key got a free slot.
    New(u32),
    /// The key took over this slot from `evicted`.
    Replaced {
        /// The slot.
        slot: u32,
        /// The key that lost it.
        evicted: u64,
    },
}

impl Slot {
    /// The slot index.
    pub fn index(self) -> usize {
        match self {
            Slot::Existing(s) | Slot::New(s) | Slot::Replaced { slot: s, .. } => s as usize,
        }
    }
}

/// A bounded counter set (see the module docs for its error bounds).
///
/// ```
/// use hashtag_select::stats::SpaceSaving;
/// let mut s = SpaceSaving::new(2);
/// s.add(1, 5);
/// s.add(2, 3);
/// s.add(3, 1); // takes over key 2's counter (the smallest, 3)
/// assert_eq!(s.get(2), None);
/// assert_eq!(s.get(3), Some((4, 3))); // count 4, at most 3 of it not key 3's
/// assert_eq!((s.total(), s.len(), s.min_count()), (9, 2, 4));
/// ```
#[derive(Debug, Clone)]
pub struct SpaceSaving {
    capacity: usize,
    slot_of: HashKeyed<u32>,
    keys: Vec<u64>,
    counts: Vec<u64>,
    errors: Vec<u64>,
    /// Slots as a binary min-heap on count.
    heap: Vec<u32>,
    /// Slot -> its position in `heap`.
    pos: Vec<u32>,
    total: u64,
}

impl SpaceSaving {
    /// At most `capacity` counters (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        SpaceSaving {
            capacity,
            slot_of: HashKeyed::default(),
            keys: Vec::new(),
            counts: Vec::new(),
            errors: Vec::new(),
            heap: Vec::new(),
            pos: Vec::new(),
            total: 0,
        }
    }

    /// Adds `weight` to `key`.
    pub fn add(&mut self, key: u64, weight: u64) -> Slot {
        self.total += weight;
        if let Some(&s) = self.slot_of.get(&key) {
            self.counts[s as usize] += weight;
            self.sift_down(self.pos[s as usize] as usize);
            return Slot::Existing(s);
        }
        if self.keys.len() < self.capacity {
            let s = self.keys.len() as u32;
            self.keys.push(key);
            self.counts.push(weight);
            self.errors.push(0);
            self.pos.push(self.heap.len() as u32);
            self.heap.push(s);
            self.slot_of.insert(key, s);
            self.sift_up(self.heap.len() - 1);
            return Slot::New(s);
        }
        let s = self.heap[0];
        let si = s as usize;
        let evicted = self.keys[si];
        self.slot_of.remove(&evicted);
        self.slot_of.insert(key, s);
        self.keys[si] = key;
        self.errors[si] = self.counts[si];
        self.counts[si] += weight;
        self.sift_down(0);
        Slot::Replaced { slot: s, evicted }
    }

    /// `(count, error)` of a monitored key.
    pub fn get(&self, key: u64) -> Option<(u64, u64)> {
        self.slot_of
            .get(&key)
            .map(|&s| (self.counts[s as usize], self.errors[s as usize]))
    }

    /// The slot of a monitored key.
    pub fn slot(&self, key: u64) -> Option<usize> {
        self.slot_of.get(&key).map(|&s| s as usize)
    }

    /// `(key, count, error)` of every monitored key, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        (0..self.keys.len()).map(|i| (self.keys[i], self.counts[i], self.errors[i]))
    }

    /// The most an unmonitored key can have been counted: the smallest
    /// counter once all are in use, else 0.
    pub fn min_count(&self) -> u64 {
        if self.keys.len() < self.capacity {
            0
        } else {
            self.counts[self.heap[0] as usize]
        }
    }

    /// Total weight added.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Monitored keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Heap bytes used (capacity-bound; for memory reports).
    pub fn heap_bytes(&self) -> usize {
        self.slot_of.capacity() * 16 + self.keys.capacity() * (8 + 8 + 8 + 4 + 4)
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.pos[self.heap[i] as usize] = i as u32;
        self.pos[self.heap[j] as usize] = j as u32;
    }

    fn count_at(&self, i: usize) -> u64 {
        self.counts[self.heap[i] as usize]
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.count_at(i) >= self.count_at(parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut smallest = i;
            if l < n && self.count_at(l) < self.count_at(smallest) {
                smallest = l;
            }
            if r < n && self.count_at(r) < self.count_at(smallest) {
                smallest = r;
            }
            if smallest == i {
                return;
            }
            self.swap(i, smallest);
            i = smallest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_until_full() {
        let mut s = SpaceSaving::new(3);
        for k in [1, 2, 1, 3, 1] {
            s.add(k, 1);
        }
        assert_eq!(s.get(1), Some((3, 0)));
        assert_eq!(s.min_count(), 1);
        // 4 takes over the smallest counter (2 or 3, count 1): count 2, error 1.
        assert!(matches!(s.add(4, 1), Slot::Replaced { .. }));
        assert_eq!(s.get(4), Some((2, 1)));
        assert_eq!(s.get(1), Some((3, 0)));
    }

    proptest! {
        /// Metwally et al.'s bounds against exact counts of a skewed stream.
        #[test]
        fn error_bounds_hold(keys in prop::collection::vec(0u64..40, 1..600), cap in 1usize..20) {
            let mut s = SpaceSaving::new(cap);
            let mut exact = std::collections::HashMap::new();
            for &k in &keys {
                // Skew: small keys much more often.
                let k = k * k / 40;
                s.add(k, 1);
                *exact.entry(k).or_insert(0u64) += 1;
            }
            let n = keys.len() as u64;
            for (&k, &truth) in &exact {
                match s.get(k) {
                    Some((c, e)) => prop_assert!(c - e <= truth && truth <= c),
                    None => {
                        prop_assert!(truth <= s.min_count());
                        prop_assert!(truth as f64 <= n as f64 / cap as f64);
                    }
                }
            }
            prop_assert_eq!(s.total(), n);
        }
    }
}
