//! The deterministic train/val split: a record's side depends on a hash of
//! its id alone, so adding records never moves old ones between splits.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Train or validation.
///
/// ```
/// use curation_core::{split_of, Split};
/// assert_eq!(split_of("abc", 0.75), Split::Val); // id_unit_hash("abc") is 0.7284...
/// assert_eq!(serde_json::to_string(&Split::Train)?, "\"train\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training set.
    Train,
    /// Validation set.
    Val,
}

/// A record id's position in [0, 1): the first 8 bytes of SHA-256(id), big
/// endian, over 2^64 (the top 53 bits, so every value is exact in an `f64`).
/// Depends on the id alone, so adding records never moves old ones between
/// splits.
///
/// ```
/// use curation_core::split::id_unit_hash;
/// // SHA-256("abc") begins ba 78 16 bf 8f 01 cf ea.
/// let expected = (0xba78_16bf_8f01_cfea_u64 >> 11) as f64 / (1u64 << 53) as f64;
/// assert_eq!(id_unit_hash("abc"), expected);
/// assert!((0.0..1.0).contains(&id_unit_hash("")));
/// ```
pub fn id_unit_hash(id: &str) -> f64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) >> 11) as f64 / (1u64 << 53) as f64
}

/// The split of `id` when a fraction `val_fraction` goes to validation:
/// [`Split::Val`] when [`id_unit_hash`]`(id) < val_fraction`. A fraction of 0
/// (or below, or NaN) puts every id in training, 1 (or above) every id in
/// validation.
///
/// ```
/// use curation_core::{split_of, Split};
/// // id_unit_hash("abc") is 0.7284...
/// assert_eq!(split_of("abc", 0.5), Split::Train);
/// assert_eq!(split_of("abc", 0.75), Split::Val);
/// assert_eq!(split_of("abc", 0.0), Split::Train);
/// assert_eq!(split_of("abc", 1.0), Split::Val);
/// ```
pub fn split_of(id: &str, val_fraction: f64) -> Split {
    if id_unit_hash(id) < val_fraction {
        Split::Val
    } else {
        Split::Train
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unit_hash_matches_sha256() {
        // sha256("abc") = ba7816bf8f01cfea...; head 0xba7816bf8f01cfea.
        let expected = (0xba7816bf8f01cfeau64 >> 11) as f64 / (1u64 << 53) as f64;
        assert_eq!(id_unit_hash("abc"), expected);
        assert_eq!(split_of("abc", 0.5), Split::Train); // 0.728... >= 0.5
        assert_eq!(split_of("abc", 0.75), Split::Val);
    }

    #[test]
    fn split_serialises_snake_case() {
        assert_eq!(serde_json::to_string(&Split::Val).unwrap(), "\"val\"");
        assert_eq!(
            serde_json::from_str::<Split>("\"train\"").unwrap(),
            Split::Train
        );
    }

    proptest! {
        #[test]
        fn split_is_stable_under_insertion(
            ids in proptest::collection::vec("[a-zA-Z0-9_-]{1,12}", 1..50),
            added in proptest::collection::vec("[a-zA-Z0-9_-]{1,12}", 0..50),
            frac in 0.0f64..1.0,
        ) {
            let before: Vec<Split> = ids.iter().map(|i| split_of(i, frac)).collect();
            let mut all = added.clone();
            all.extend(ids.iter().cloned());
            let after: std::collections::HashMap<&String, Split> =
                all.iter().map(|i| (i, split_of(i, frac))).collect();
            for (id, s) in ids.iter().zip(before) {
                prop_assert_eq!(after[id], s);
            }
        }

        #[test]
        fn val_share_tracks_fraction(frac in 0.05f64..0.95) {
            let n = 4000;
            let val = (0..n).filter(|i| split_of(&format!("id{i}"), frac) == Split::Val).count();
            let share = val as f64 / n as f64;
            // Binomial std at n=4000 is <= 0.008; 5 sigma.
            prop_assert!((share - frac).abs() < 0.04, "share {share} vs {frac}");
        }

        #[test]
        fn unit_hash_in_unit_interval(id in ".{0,40}") {
            let h = id_unit_hash(&id);
            prop_assert!((0.0..1.0).contains(&h));
        }
    }
}
