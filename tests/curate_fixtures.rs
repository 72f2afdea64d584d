//! End-to-end curation of the committed crawl fixture (tests/data/crawl):
//! hand-written yt-dlp `.info.json` files with invalid JSON, an empty file, a
//! missing duration, null counts, non-Latin and accented hashtags, a duplicate
//! id, a re-upload (same media bytes), and a JSON Lines file with bad lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tubelet::curation::shard::{list_shards, read_samples};
use tubelet::curation::{
    CurateOptions, CurationError, FilterConfig, LabelMap, Reason, ShardLimits, VideoRecord, curate,
};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn options(out: &Path) -> CurateOptions {
    let mut opts = CurateOptions::new(vec![data("crawl")], out);
    opts.config = FilterConfig::from_file(&data("filters.toml")).unwrap();
    opts.label_map = Some(LabelMap::from_file(&data("label_map.json")).unwrap());
    opts.shards = Some(ShardLimits {
        max_samples: 4,
        max_bytes: 1 << 20,
    });
    opts
}

fn manifest(out: &Path) -> Vec<VideoRecord> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn fixture_crawl_is_curated_with_every_problem_reported() {
    let dir = tempfile::tempdir().unwrap();
    let summary = curate(&options(dir.path()), &mut |_| {}).unwrap();
    let r = &summary.report;
    assert_eq!((r.records_read, r.kept, r.rejected), (11, 6, 5));

    // Each rejected record under its reason, with its id as the example.
    let first: BTreeMap<Reason, Vec<&str>> = r
        .reasons
        .iter()
        .map(|(k, s)| (*k, s.examples.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        first,
        BTreeMap::from([
            (Reason::DurationMissing, vec!["7305"]),
            (Reason::ShortSide, vec!["7309"]),
            (Reason::ViewsMissing, vec!["7306"]),
            (Reason::DuplicateId, vec!["7301"]),
            (Reason::DuplicateContent, vec!["7310"]),
        ])
    );

    // Every broken file or line, with its path and line.
    let errors: Vec<(String, Option<u64>)> = r
        .ingest_errors
        .iter()
        .map(|e| {
            let name = Path::new(&e.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, e.line)
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("7304-truncated.info.json".into(), Some(7)),
            ("7311-empty.info.json".into(), Some(1)),
            ("posts.jsonl".into(), Some(3)),
            ("posts.jsonl".into(), Some(5)),
        ]
    );
    assert!(r.ingest_errors[2].message.contains("field `view_count`"));
    assert_eq!(r.ingest_error_count, 4);

    // The good ones are kept, in input order, with normalised hashtags.
    let kept = manifest(dir.path());
    let ids: Vec<&str> = kept.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, ["7301", "7302", "7303", "7312", "7314", "dQw7308abc"]);
    let tags = |i: usize| {
        kept[i]
            .hashtags
            .iter()
            .map(|h| h.tag.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tags(0),
        ["salsa", "latin dance", "salsadance", "café", "baile"]
    );
    assert_eq!(tags(1), ["舞蹈", "广场舞"]);
    assert_eq!(tags(2), ["übung", "fitness"]);
    assert_eq!(kept[2].hashtags[0].original, "ÜBUNG");
    assert_eq!(tags(3), ["yoga", "ヨガ"]);
    assert_eq!(kept[3].views, Some(6_400_000)); // digit string in the input
    assert_eq!(kept[5].platform.as_deref(), Some("youtube"));
    // Unknown yt-dlp fields survive verbatim.
    assert_eq!(
        kept[0].extra.get("uploader").unwrap().get(),
        "\"dancer.ana\""
    );
    assert!(kept[0].extra.get("formats").is_some());
    assert_eq!(kept[0].ingest_source.as_ref().unwrap().line, 1);

    // Lists: only records whose media exists; labels from the label map.
    let pretrain = std::fs::read_to_string(dir.path().join("pretrain_list.txt")).unwrap();
    let lines: Vec<&str> = pretrain.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].ends_with("7301-salsa.mp4 0 -1")
            && Path::new(lines[0].split(' ').next().unwrap()).is_absolute()
    );
    assert!(lines[1].ends_with("7302-wudao.mp4 0 -1"));
    let mut finetune: Vec<String> = ["train.csv", "val.csv"]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(dir.path().join(f))
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    finetune.sort();
    assert!(finetune[0].ends_with("7301-salsa.mp4 0"), "{finetune:?}"); // salsa = class 0
    assert!(finetune[1].ends_with("7302-wudao.mp4 4"), "{finetune:?}"); // 舞蹈 -> dance = class 4
    let labels = std::fs::read_to_string(dir.path().join("labels.txt")).unwrap();
    assert_eq!(labels.lines().nth(4), Some("dance"));

    // Provenance names the config and its hash.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("filter_report.json")).unwrap(),
    )
    .unwrap();
    let prov = &report["provenance"];
    assert_eq!(prov["config_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(prov["config"]["min_short_side"], 360);
    assert_eq!(prov["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["kept"], 6);
}

#[test]
fn shards_hold_every_kept_sample_and_resume_without_rewriting() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path());
    let first = curate(&opts, &mut |_| {}).unwrap();
    let s = first.outputs.shards.as_ref().unwrap();
    assert_eq!(
        (s.samples_written, s.samples_skipped, s.shards_written.len()),
        (6, 0, 2)
    );

    let shards = list_shards(&dir.path().join("shards")).unwrap();
    let samples: Vec<_> = shards
        .iter()
        .flat_map(|p| read_samples(p).unwrap())
        .collect();
    let kept = manifest(dir.path());
    assert_eq!(samples.len(), kept.len());
    for (sample, rec) in samples.iter().zip(&kept) {
        let json: VideoRecord = serde_json::from_slice(&sample.members["json"]).unwrap();
        assert_eq!(&json, rec);
        if let Some(media) = rec.media_path.as_deref().filter(|m| m.is_file()) {
            assert_eq!(sample.members["mp4"], std::fs::read(media).unwrap());
        } else {
            assert_eq!(sample.members.len(), 1);
        }
    }

    // A crash left a half-written shard behind: it is discarded and nothing
    // already complete is written again.
    std::fs::write(dir.path().join("shards/shard-000002.tar.tmp"), b"partial").unwrap();
    let again = curate(&opts, &mut |_| {}).unwrap();
    let s = again.outputs.shards.as_ref().unwrap();
    assert_eq!((s.samples_written, s.samples_skipped), (0, 6));
    assert_eq!(list_shards(&dir.path().join("shards")).unwrap(), shards);
    assert!(!dir.path().join("shards/shard-000002.tar.tmp").exists());
}

#[test]
fn manifest_reads_back_as_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    curate(&options(dir.path()), &mut |_| {}).unwrap();
    let first = manifest(dir.path());

    let out2 = dir.path().join("again");
    let mut opts = CurateOptions::new(vec![dir.path().join("manifest.jsonl")], &out2);
    opts.config = FilterConfig::from_file(&data("filters.toml")).unwrap();
    // The manifest's media paths point into the crawl, outside the folder of
    // this run's input: refused unless allowed explicitly.
    let refused = curate(&opts, &mut |_| {}).unwrap();
    assert_eq!(refused.report.kept, 4);
    assert_eq!(
        refused.report.reasons[&Reason::MediaOutsideRoots].examples,
        ["7301", "7302"]
    );
    opts.media_roots = vec![data("crawl")];
    let summary = curate(&opts, &mut |_| {}).unwrap();
    assert_eq!(summary.report.kept, 6);
    assert_eq!(manifest(&out2), first);
}

#[test]
fn csv_with_header_is_ingested_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let opts = CurateOptions::new(vec![data("posts.csv")], dir.path());
    let summary = curate(&opts, &mut |_| {}).unwrap();
    let r = &summary.report;
    assert_eq!((r.records_read, r.kept, r.ingest_error_count), (3, 3, 2));
    assert_eq!(r.ingest_errors[0].line, Some(4));
    let msg = |i: usize| r.ingest_errors[i].message.as_str();
    assert!(msg(0).contains("field `duration`"), "{}", msg(0));
    assert_eq!(r.ingest_errors[1].line, Some(6));
    assert!(
        msg(1).contains("missing field `id`") && msg(1).contains(":6:0:"),
        "{}",
        msg(1)
    );
    let kept = manifest(dir.path());
    assert_eq!(
        kept[0]
            .hashtags
            .iter()
            .map(|h| h.tag.as_str())
            .collect::<Vec<_>>(),
        ["salsa", "bachata"]
    );
    assert_eq!(kept[0].views, Some(5_200_000));
    assert_eq!(kept[1].likes, None); // empty cell = unknown
    assert_eq!(kept[1].extra.get("creator").unwrap().get(), "\"bo\"");
    assert_eq!(kept[1].extra.get("source").unwrap().get(), "\"crawl-7\"");
    assert_eq!(
        kept[2].source_url.as_deref(),
        Some("https://example.org/v/c3")
    );
}

#[test]
fn unusable_input_paths_are_an_error_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let opts = CurateOptions::new(vec![data("does-not-exist"), data("filters.toml")], &out);
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    let CurationError::Inputs { errors } = &e else {
        panic!("{e:?}");
    };
    let kinds: Vec<String> = errors.iter().map(|e| e.to_failure().kind).collect();
    assert_eq!(kinds, ["not_found", "unsupported"]);
    assert!(
        e.to_string()
            .contains("does-not-exist: no such file or folder"),
        "{e}"
    );
    assert!(!out.exists());
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn a_run_that_reads_nothing_keeps_the_earlier_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut opts = options(&out);
    curate(&opts, &mut |_| {}).unwrap();
    let before = snapshot(&out);
    assert!(before.len() >= 9, "{:?}", before.keys());

    // A typo in the input path.
    opts.inputs = vec![data("crawl-typo")];
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    assert!(matches!(e, CurationError::Inputs { .. }), "{e:?}");
    assert_eq!(snapshot(&out), before);

    // An input folder with nothing readable in it.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("broken.info.json"), "{").unwrap();
    opts.inputs = vec![empty];
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    let CurationError::NothingRead { report, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(report.ingest_error_count, 1);
    assert_eq!(snapshot(&out), before);
}

#[test]
fn lists_skip_unlistable_paths_and_outputs_are_not_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let crawl = dir.path().join("crawl");
    std::fs::create_dir_all(&crawl).unwrap();
    let clip = std::fs::read(data("crawl/7301-salsa.mp4")).unwrap();
    std::fs::write(crawl.join("Salsa night [a1].mp4"), &clip).unwrap();
    std::fs::write(crawl.join("b2.mp4"), &clip).unwrap();
    std::fs::write(
        crawl.join("posts.jsonl"),
        concat!(
            r#"{"id":"a1","_filename":"Salsa night [a1].mp4"}"#,
            "\n",
            r#"{"id":"b2","_filename":"b2.mp4"}"#,
            "\n",
            r#"{"id":"c3","_filename":"not-downloaded.mp4"}"#,
            "\n",
        ),
    )
    .unwrap();
    // The output folder sits inside the input folder.
    let out = crawl.join("out");
    let mut opts = CurateOptions::new(vec![crawl.clone()], &out);
    // Same bytes as b2: a duplicate; c3 has no file, so it is not hashed.
    opts.config.dedup_content = true;
    let first = curate(&opts, &mut |_| {}).unwrap();
    assert_eq!(first.report.kept, 2, "{}", first.report);
    assert_eq!(
        first.report.reasons[&Reason::DuplicateContent].examples,
        ["b2"]
    );
    assert_eq!(
        (first.outputs.unlistable_path, first.outputs.without_media),
        (1, 1)
    );
    let pretrain = std::fs::read_to_string(out.join("pretrain_list.txt")).unwrap();
    assert_eq!(pretrain.lines().count(), 0);
    // A second run does not ingest the first run's manifest or lists.
    let again = curate(&opts, &mut |_| {}).unwrap();
    assert_eq!(again.report.records_read, 3);
    assert_eq!(again.report.ingest_error_count, 0);
}
