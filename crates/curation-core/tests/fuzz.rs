//! Byte-level fuzzing on stable Rust (proptest): valid info.json, JSON Lines,
//! CSV and WebDataset shards are mutated (bytes flipped, cut, spliced,
//! inserted, or replaced by arbitrary bytes) and read through the public API.
//! No input may panic; every bad line is a typed error with path and line;
//! the report's counts add up; a shard never yields a path that escapes.
//!
//! A short run is the default (`cargo test -p curation-core --test fuzz`);
//! a longer one: `PROPTEST_CASES=100000 cargo test -p curation-core --release --test fuzz`.

use std::path::Path;

use curation_core::ingest::{RecordBatches, discover_inputs};
use curation_core::shard::{MemberData, ShardWriter, read_keys, read_samples};
use curation_core::{
    Filter, FilterConfig, FilterReport, IngestError, Range, ShardLimits, VideoRecord,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per property: `PROPTEST_CASES` when set, else a count that runs in
/// a few seconds in a debug build.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const INFO_JSON: &str = r##"{"id": "7301", "title": "Salsa night #salsa #Café", "description": "\u00e9 \"quoted\" #舞蹈",
 "tags": ["Salsa", "latin dance", null], "duration": 14.2, "width": 720, "height": 1280, "fps": 30,
 "view_count": 2500000, "like_count": null, "upload_date": "20240131", "uploader": "ana",
 "formats": [{"format_id": "h264", "tbr": 1.5e3, "nested": {"a": [1, [2, [3]]]}}],
 "webpage_url": "https://www.tiktok.com/@a/video/7301", "extractor_key": "TikTok", "_filename": "7301.mp4"}"##;

const JSONL: &str = concat!(
    "\u{feff}{\"id\":\"a\",\"hashtags\":[\"salsa\",{\"tag\":\"Tango\",\"original\":\"TANGO\"}],\"duration\":12.5,\"views\":10}\r\n",
    "{\"id\":\"b\",\"view_count\":\"7\",\"tags\":[\"#Yoga\"],\"ingest_source\":{\"path\":\"x.jsonl\",\"line\":3}}\n",
    "\n",
    "{\"id\":7,\"media_path\":\"v/b.mp4\",\"extra\":{\"k\":[1,2,{\"z\":null}]},\"width\":1080,\"height\":1920}\n",
    "{\"id\":\"c\",\"title\":\"#舞蹈 \\u00e9\",\"duration\":null,\"fps\":29.97}\n",
);

const CSV: &str = concat!(
    "\u{feff}id,webpage_url,title,tags,duration,view_count,like_count,creator\r\n",
    "c1,https://e.org/c1,\"Social night, #SALSA\",salsa|bachata,12.5,5200000,1000,ana\r\n",
    "c2,,Tango #tango,,20,1000,,bo\n",
    "c3,https://e.org/c3,\"quoted \"\"title\"\"\r\nsecond line\",#yoga #flow,33,77,7,di\n",
);

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Cut(Index, usize),
    Insert(Index, Vec<u8>),
    /// Copies a stretch of the input to another place (splices the input
    /// with itself: repeated keys, nested braces, broken quotes).
    Splice(Index, Index, usize),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<Index>(), 1usize..40).prop_map(|(i, n)| Edit::Cut(i, n)),
        (
            any::<Index>(),
            prop::collection::vec(
                prop_oneof![
                    any::<u8>(),
                    prop::sample::select(b"{}[]\",:\\\r\n#0-e.".to_vec())
                ],
                1..12
            )
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), any::<Index>(), 1usize..80).prop_map(|(a, b, n)| Edit::Splice(a, b, n)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        if len == 0 {
            if let Edit::Insert(_, b) = e {
                bytes.extend_from_slice(b);
            }
            continue;
        }
        match e {
            Edit::Flip(i, b) => bytes[i.index(len)] ^= b.max(&1),
            Edit::Cut(i, n) => {
                let a = i.index(len);
                bytes.drain(a..(a + n).min(len));
            }
            Edit::Insert(i, b) => {
                let a = i.index(len + 1);
                bytes.splice(a..a, b.iter().copied());
            }
            Edit::Splice(from, to, n) => {
                let a = from.index(len);
                let piece = bytes[a..(a + n).min(len)].to_vec();
                let t = to.index(len + 1);
                bytes.splice(t..t, piece);
            }
            Edit::Truncate(i) => bytes.truncate(i.index(len + 1)),
        }
    }
    bytes
}

/// A mutated seed, or (one case in eight) arbitrary bytes.
fn mutated(seed: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        7 => prop::collection::vec(edit(), 1..8)
            .prop_map(move |e| apply(seed.as_bytes().to_vec(), &e)),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

struct Outcome {
    records: Vec<VideoRecord>,
    errors: Vec<IngestError>,
    report: FilterReport,
}

/// Reads `bytes` as file `name` through the public API, with a filter whose
/// prefilter rejects some records before they are built.
fn read_as(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, Outcome) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let (files, errors) = discover_inputs(&[&path]);
    assert!(errors.is_empty(), "{errors:?}");
    let mut filter = Filter::new(FilterConfig {
        duration: Some(Range {
            min: Some(13.0),
            max: None,
        }),
        keep_missing: true,
        ..FilterConfig::default()
    });
    let mut report = FilterReport::default();
    let mut out = Outcome {
        records: Vec::new(),
        errors: Vec::new(),
        report: FilterReport::default(),
    };
    for batch in RecordBatches::new(files).with_prefilter(filter.rules()) {
        let errors: Vec<String> = batch.errors.iter().map(ToString::to_string).collect();
        let n_err = batch.errors.len();
        let kept = filter.apply_batch(batch, &mut report);
        out.records.extend(kept);
        assert_eq!(report.ingest_errors.len() as u64, report.ingest_error_count);
        let _ = (errors, n_err);
    }
    // Errors again, typed, from a plain read (the report holds summaries).
    let (files, _) = discover_inputs(&[&path]);
    out.errors = RecordBatches::new(files)
        .records()
        .filter_map(Result::err)
        .collect();
    out.report = report;
    (dir, path, out)
}

/// What every ingest outcome must satisfy.
fn check_common(path: &Path, bytes: &[u8], o: &Outcome) -> Result<(), TestCaseError> {
    // Upper bound on line numbers: every `\n` and `\r` may end a line.
    let lines = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    for e in &o.errors {
        prop_assert_eq!(e.path(), path);
        match e {
            IngestError::Parse { line, .. }
            | IngestError::TooDeep { line, .. }
            | IngestError::TooLarge { line, .. } => {
                prop_assert!(
                    (1..=lines).contains(line),
                    "line {} of {}: {}",
                    line,
                    lines,
                    e
                );
            }
            IngestError::Io { .. } => {}
            other => prop_assert!(false, "unexpected error kind: {other}"),
        }
        prop_assert!(
            e.to_string().len() < 2000,
            "long message: {} bytes",
            e.to_string().len()
        );
    }
    let r = &o.report;
    prop_assert_eq!(r.records_read, r.kept + r.rejected);
    prop_assert_eq!(r.reasons.values().map(|s| s.first).sum::<u64>(), r.rejected);
    prop_assert_eq!(r.kept, o.records.len() as u64);
    prop_assert_eq!(r.ingest_error_count, o.errors.len() as u64);
    for rec in &o.records {
        prop_assert!(!rec.id.trim().is_empty());
        prop_assert!(rec.duration.is_none_or(|d| d.is_finite() && d >= 13.0));
        prop_assert!(rec.fps.is_none_or(|f| f.is_finite() && f >= 0.0));
        prop_assert!(rec.width != Some(0) && rec.height != Some(0));
        // The manifest line reads back, as the same record.
        let json = serde_json::to_string(rec).unwrap();
        let back: VideoRecord =
            serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
        prop_assert_eq!(&back, rec);
        let src = rec.ingest_source.as_ref().unwrap();
        if *src.path == *path.to_string_lossy() {
            prop_assert!((1..=lines).contains(&src.line));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn mutated_info_json_never_panics(bytes in mutated(INFO_JSON)) {
        let (_d, path, o) = read_as("x.info.json", &bytes);
        check_common(&path, &bytes, &o)?;
        // One file, one record: read, or one error.
        prop_assert_eq!(o.report.records_read + o.errors.len() as u64, 1);
    }

    #[test]
    fn mutated_json_lines_never_panic(bytes in mutated(JSONL)) {
        let (_d, path, o) = read_as("x.jsonl", &bytes);
        check_common(&path, &bytes, &o)?;
        // Every line holding more than whitespace is a record or an error.
        let nonblank = bytes
            .split(|&b| b == b'\n')
            .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
            .count() as u64;
        prop_assert_eq!(o.report.records_read + o.errors.len() as u64, nonblank);
        let mut lines: Vec<u64> = o.errors.iter().filter_map(IngestError::line).collect();
        let sorted = { let mut s = lines.clone(); s.sort(); s.dedup(); s };
        lines.dedup();
        prop_assert_eq!(lines, sorted);
    }

    #[test]
    fn mutated_csv_never_panics(bytes in mutated(CSV)) {
        let (_d, path, o) = read_as("x.csv", &bytes);
        check_common(&path, &bytes, &o)?;
        // Lines as an editor counts them: `\r\n`, `\n` and a lone `\r` end one.
        let data_lines = bytes.iter().enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
            .count() as u64 + 1;
        prop_assert!(o.report.records_read + o.errors.len() as u64 <= data_lines);
        let lines: Vec<u64> = o.records.iter()
            .filter_map(|r| r.ingest_source.as_ref().map(|s| s.line)).collect();
        prop_assert!(lines.windows(2).all(|w| w[0] < w[1]), "{:?}", lines);
    }
}

/// A valid shard with a few samples (written by the writer).
fn valid_shard() -> &'static [u8] {
    static SHARD: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SHARD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ShardWriter::open(dir.path(), ShardLimits::default()).unwrap();
        for (key, len) in [("a", 10usize), ("clip-b_2", 700), ("c", 0)] {
            let media = MemberData::Bytes((0..len).map(|i| i as u8).collect());
            let json = MemberData::Bytes(format!("{{\"id\":\"{key}\"}}").into_bytes());
            w.write(key, &[("mp4", media), ("json", json)]).unwrap();
        }
        let s = w.finish().unwrap();
        std::fs::read(&s.shards_written[0]).unwrap()
    })
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn mutated_shards_never_panic_or_escape(
        edits in prop::collection::vec(edit(), 1..8),
        arbitrary in prop::option::weighted(0.1, prop::collection::vec(any::<u8>(), 0..3000)),
    ) {
        let bytes = arbitrary.unwrap_or_else(|| apply(valid_shard().to_vec(), &edits));
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("shard-000000.tar");
        std::fs::write(&shard, &bytes).unwrap();
        if let Ok(samples) = read_samples(&shard) {
            let total: usize = samples.iter().flat_map(|s| s.members.values()).map(Vec::len).sum();
            prop_assert!(total <= bytes.len());
            for s in &samples {
                let p = Path::new(&s.key);
                prop_assert!(!p.is_absolute() && !s.key.starts_with(['/', '\\']), "{}", s.key);
                prop_assert!(!s.key.split(['/', '\\']).any(|c| c == ".."), "{}", s.key);
                prop_assert!(s.members.keys().all(|e| !e.is_empty()));
            }
        }
        let _ = read_keys(&shard);
        // Resuming over a damaged shard is an error or a writer, never a panic.
        let _ = ShardWriter::open(dir.path(), ShardLimits::default());
    }
}
