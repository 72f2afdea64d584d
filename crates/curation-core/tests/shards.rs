//! WebDataset shards: write/read round trip, limits, resume, unsafe names.

use std::collections::BTreeMap;

use curation_core::shard::{
    MemberData, ShardWriter, for_each_sample, list_shards, read_samples, shard_key,
};
use curation_core::{ShardError, ShardLimits};
use proptest::prelude::*;

type Samples = Vec<(String, BTreeMap<String, Vec<u8>>)>;

fn arb_samples() -> impl Strategy<Value = Samples> {
    prop::collection::btree_map(
        "[a-z0-9_-]{1,10}",
        prop::collection::btree_map(
            prop::sample::select(vec!["mp4", "json", "webm", "cls.txt"]).prop_map(str::to_owned),
            prop::collection::vec(any::<u8>(), 0..1500),
            1..4,
        ),
        0..12,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn write_all(w: &mut ShardWriter, samples: &Samples) -> usize {
    let mut written = 0;
    for (key, members) in samples {
        let m: Vec<(&str, MemberData)> = members
            .iter()
            .map(|(e, d)| (e.as_str(), MemberData::Bytes(d.clone())))
            .collect();
        written += usize::from(w.write(key, &m).unwrap());
    }
    written
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn shards_round_trip_every_sample_within_limits(
        samples in arb_samples(),
        max_samples in 1usize..5,
        max_bytes in 1024u64..8192,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let limits = ShardLimits { max_samples, max_bytes };
        let mut w = ShardWriter::open(dir.path(), limits).unwrap();
        prop_assert_eq!(write_all(&mut w, &samples), samples.len());
        let summary = w.finish().unwrap();
        let shards = list_shards(dir.path()).unwrap();
        prop_assert_eq!(&summary.shards_written, &shards);

        let mut back: Samples = Vec::new();
        for shard in &shards {
            let got = read_samples(shard).unwrap();
            prop_assert!(!got.is_empty() && got.len() <= max_samples);
            let size = std::fs::metadata(shard).unwrap().len();
            // 1024 bytes of end-of-archive blocks; one oversized sample may stand alone.
            prop_assert!(size <= max_bytes + 1024 || got.len() == 1, "{} bytes", size);
            back.extend(got.into_iter().map(|s| (s.key, s.members)));
        }
        prop_assert_eq!(&back, &samples);

        // Reopening skips every sample already in a complete shard.
        let mut again = ShardWriter::open(dir.path(), limits).unwrap();
        prop_assert_eq!(write_all(&mut again, &samples), 0);
        let s = again.finish().unwrap();
        prop_assert_eq!(s.samples_skipped as usize, samples.len());
        prop_assert_eq!(list_shards(dir.path()).unwrap(), shards);
    }
}

#[test]
fn media_files_are_streamed_under_their_extension() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("clip.webm");
    std::fs::write(&media, vec![7u8; 3000]).unwrap();
    let out = dir.path().join("shards");
    let mut w = ShardWriter::open(&out, ShardLimits::default()).unwrap();
    let members = [
        ("webm", MemberData::File(media.clone())),
        ("json", MemberData::Bytes(b"{}".to_vec())),
    ];
    w.write("k1", &members).unwrap();
    w.finish().unwrap();
    let got = read_samples(&out.join("shard-000000.tar")).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].members["webm"], vec![7u8; 3000]);
    assert_eq!(got[0].members["json"], b"{}");
}

#[test]
fn keys_are_safe_and_distinct() {
    assert_eq!(shard_key("7301"), "7301");
    assert_eq!(shard_key("dQw-7_x"), "dQw-7_x");
    let a = shard_key("a.b/c");
    let b = shard_key("a_b_c");
    assert!(
        a.starts_with("a_b_c-") && a.len() == "a_b_c-".len() + 16,
        "{a}"
    );
    assert_ne!(a, b);
    assert!(!shard_key("../../etc/passwd").contains(['.', '/']));
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::open(dir.path(), ShardLimits::default()).unwrap();
    assert!(matches!(
        w.write("a.b", &[]),
        Err(ShardError::BadName { .. })
    ));
}

/// A tar whose member names are written raw, bypassing the `tar` crate's own
/// refusal to create `..` paths.
fn raw_tar(names: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for name in names {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(2);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        let mut block = [0u8; 512];
        block[..2].copy_from_slice(b"{}");
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn unsafe_or_malformed_member_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, unsafe_name) in [
        ("../evil.json", true),
        ("/abs.json", true),
        ("a/../../b.json", true),
        ("noext", false),
    ] {
        let shard = dir.path().join("shard-000000.tar");
        std::fs::write(&shard, raw_tar(&["ok.json", name])).unwrap();
        let mut seen = Vec::new();
        let err = for_each_sample(&shard, |s| {
            seen.push(s.key);
            Ok(())
        })
        .unwrap_err();
        match err {
            ShardError::UnsafeMember { name: n, .. } => assert!(unsafe_name && n == name),
            ShardError::BadName { name: n, .. } => assert!(!unsafe_name && n == name),
            e => panic!("unexpected {e}"),
        }
        // A resumed writer refuses such a folder rather than trusting it.
        assert!(ShardWriter::open(dir.path(), ShardLimits::default()).is_err());
    }
    // Subfolders inside a key are fine (WebDataset keys may contain `/`).
    let shard = dir.path().join("shard-000000.tar");
    std::fs::write(&shard, raw_tar(&["sub/x.json", "sub/x.mp4"])).unwrap();
    let got = read_samples(&shard).unwrap();
    assert_eq!(got[0].key, "sub/x");
    assert_eq!(got[0].members.len(), 2);
}

#[test]
fn truncated_shard_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::open(dir.path(), ShardLimits::default()).unwrap();
    w.write("a", &[("bin", MemberData::Bytes(vec![1; 5000]))])
        .unwrap();
    w.finish().unwrap();
    let shard = dir.path().join("shard-000000.tar");
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..2000]).unwrap();
    assert!(matches!(read_samples(&shard), Err(ShardError::Io { .. })));
}

#[test]
fn long_member_names_are_counted_in_the_byte_limit() {
    let dir = tempfile::tempdir().unwrap();
    let key = "k".repeat(120); // `<key>.json` needs a GNU long-name entry
    let mut w = ShardWriter::open(
        dir.path(),
        ShardLimits {
            max_samples: 10,
            max_bytes: 1 << 20,
        },
    )
    .unwrap();
    w.write(&key, &[("json", MemberData::Bytes(vec![b'x'; 700]))])
        .unwrap();
    w.finish().unwrap();
    let size = std::fs::metadata(dir.path().join("shard-000000.tar"))
        .unwrap()
        .len();
    // long-name header + 125-byte name padded to 512, header + 700 bytes
    // padded to 1024, and the 1024-byte end of archive.
    assert_eq!(size, 512 + 512 + 512 + 1024 + 1024);
    let mut w = ShardWriter::open(
        dir.path(),
        ShardLimits {
            max_samples: 10,
            max_bytes: 2048,
        },
    )
    .unwrap();
    w.write("a", &[("json", MemberData::Bytes(vec![1; 1000]))])
        .unwrap();
    // 1536 + 2560 > 2048: the second sample starts a new shard.
    w.write(
        &"b".repeat(120),
        &[("json", MemberData::Bytes(vec![1; 1000]))],
    )
    .unwrap();
    assert_eq!(w.finish().unwrap().shards_written.len(), 2);
}

#[test]
fn resume_reads_shard_indices_of_any_width() {
    let dir = tempfile::tempdir().unwrap();
    let limits = ShardLimits {
        max_samples: 1,
        max_bytes: 1 << 20,
    };
    let mut w = ShardWriter::open(dir.path(), limits).unwrap();
    w.write("a", &[("json", MemberData::Bytes(b"{}".to_vec()))])
        .unwrap();
    w.finish().unwrap();
    // Foreign names that still parse as shard indices.
    std::fs::rename(
        dir.path().join("shard-000000.tar"),
        dir.path().join("shard-1234567.tar"),
    )
    .unwrap();
    let mut w = ShardWriter::open(dir.path(), limits).unwrap();
    assert!(
        !w.write("a", &[("json", MemberData::Bytes(b"{}".to_vec()))])
            .unwrap()
    );
    w.write("b", &[("json", MemberData::Bytes(b"{}".to_vec()))])
        .unwrap();
    let s = w.finish().unwrap();
    assert_eq!(s.shards_written, vec![dir.path().join("shard-1234568.tar")]);
    assert!(matches!(
        ShardWriter::open(dir.path(), limits)
            .unwrap()
            .write("c", &[("a/b", MemberData::Bytes(vec![]))]),
        Err(ShardError::BadName { .. })
    ));
}
