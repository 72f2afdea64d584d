//! Crafted hostile and broken inputs (issue 10): each case asserts the typed
//! error or reason a user gets, and that earlier outputs survive.

use std::path::{Path, PathBuf};

use curation_core::ingest::{RecordBatches, discover_inputs};
use curation_core::{
    CurateOptions, CurationError, FilterConfig, IngestError, LabelMap, MAX_CONFIG_BYTES,
    MAX_NESTING, Range, Reason, ShardLimits, VideoRecord, curate,
};

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// Every record and error of one input file.
fn ingest(path: &Path) -> (Vec<VideoRecord>, Vec<IngestError>) {
    let (files, errors) = discover_inputs(&[path]);
    assert!(errors.is_empty(), "{errors:?}");
    let (mut recs, mut errs) = (Vec::new(), Vec::new());
    for r in RecordBatches::new(files).records() {
        match r {
            Ok(r) => recs.push(r),
            Err(e) => errs.push(e),
        }
    }
    (recs, errs)
}

fn err_of(path: &Path) -> String {
    let (recs, errs) = ingest(path);
    assert!(recs.is_empty(), "{recs:?}");
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs[0].to_string()
}

/// Files in `dir` (recursively) whose name ends in `.tmp`.
fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- item 3

#[test]
fn filter_ranges_that_reject_everything_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "a.toml",
            "duration = { min = 60.0, max = 3.0 }",
            "`duration`",
        ),
        ("b.toml", "fps = { min = nan }", "`fps.min`"),
        (
            "c.toml",
            "aspect_ratio = { max = inf }",
            "`aspect_ratio.max`",
        ),
        ("d.toml", "duration = { min = -5.0 }", "`duration.min`"),
        ("e.toml", "hashtags_allow = [\"#\"]", "`hashtags_allow[0]`"),
        ("f.toml", "languages = [\" \"]", "`languages[0]`"),
        ("g.json", r#"{"fps": {"min": 30, "max": 24}}"#, "`fps`"),
        // serde_json names no field for an out-of-range number.
        (
            "h.json",
            r#"{"min_views": 5, "min_short_side": -1}"#,
            "`min_short_side`",
        ),
    ];
    for (name, text, field) in cases {
        let p = write(dir.path(), name, text);
        let e = FilterConfig::from_file(&p).unwrap_err();
        assert!(matches!(e, CurationError::Config { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains(field) && msg.contains(name), "{name}: {msg}");
    }
    let bad = FilterConfig {
        fps: Some(Range {
            min: Some(30.0),
            max: Some(24.0),
        }),
        ..FilterConfig::default()
    };
    let Err(e) = curation_core::Filter::try_new(bad) else {
        panic!("accepted min > max");
    };
    assert_eq!(e.field, "fps");
    // A config built in code is checked by curate before anything is written.
    let out = dir.path().join("out");
    let mut opts = CurateOptions::new(vec![dir.path().into()], &out);
    opts.config.duration = Some(Range {
        min: Some(f64::NAN),
        max: None,
    });
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("`duration.min`"), "{e}");
    assert!(!out.exists());
}

#[test]
fn val_fraction_and_shard_limits_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in/a.jsonl", "{\"id\":\"a\"}\n");
    for bad in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
        let mut opts = CurateOptions::new(vec![input.clone()], dir.path().join("out"));
        opts.val_fraction = bad;
        let e = curate(&opts, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("`val_fraction`"), "{e}");
    }
    let mut opts = CurateOptions::new(vec![input], dir.path().join("out"));
    opts.shards = Some(ShardLimits {
        max_samples: 0,
        max_bytes: 1,
    });
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("max_samples"), "{e}");
    assert!(!dir.path().join("out").exists());
}

// ---------------------------------------------------------------- item 8

fn good_run(dir: &Path) -> (CurateOptions, String) {
    let input = write(
        dir,
        "crawl/a.jsonl",
        "{\"id\":\"a\",\"duration\":5}\n{\"id\":\"b\"}\n",
    );
    let mut opts = CurateOptions::new(vec![input], dir.join("out"));
    opts.label_map = Some(LabelMap::from_names(&["salsa"]));
    opts.shards = Some(ShardLimits::default());
    curate(&opts, &mut |_| {}).unwrap();
    let manifest = std::fs::read_to_string(dir.join("out/manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 2);
    (opts, manifest)
}

#[test]
fn a_missing_input_is_an_error_and_earlier_outputs_survive() {
    let dir = tempfile::tempdir().unwrap();
    let (mut opts, manifest) = good_run(dir.path());
    let before: Vec<_> = walk(&dir.path().join("out"));
    opts.inputs = vec![dir.path().join("typo")];
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    assert!(matches!(e, CurationError::Inputs { .. }), "{e:?}");
    assert!(
        e.to_string().contains("typo: no such file or folder"),
        "{e}"
    );
    let out = dir.path().join("out");
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.jsonl")).unwrap(),
        manifest
    );
    assert_eq!(walk(&out), before);
}

#[test]
fn a_run_that_reads_no_record_keeps_earlier_outputs_and_no_tmp() {
    let dir = tempfile::tempdir().unwrap();
    let (mut opts, manifest) = good_run(dir.path());
    // An existing input with nothing readable in it.
    let bad = write(
        dir.path(),
        "crawl2/bad.jsonl",
        "{not json\n{\"title\":\"no id\"}\n",
    );
    opts.inputs = vec![bad];
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    let CurationError::NothingRead { report, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(report.ingest_error_count, 2);
    assert!(e.to_string().contains("left as they were"), "{e}");
    let out = dir.path().join("out");
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.jsonl")).unwrap(),
        manifest
    );
    assert!(std::fs::read_to_string(out.join("train.csv")).is_ok());
    assert_eq!(tmp_files(&out), Vec::<PathBuf>::new());
}

#[test]
fn a_failed_run_leaves_no_tmp_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "crawl/a.jsonl", "{\"id\":\"a\"}\n");
    let out = dir.path().join("out");
    // `shards` is a file: the shard writer fails after the lists were opened.
    write(&out, "shards", "not a folder");
    let mut opts = CurateOptions::new(vec![input], &out);
    opts.shards = Some(ShardLimits::default());
    opts.label_map = Some(LabelMap::from_names(&["x"]));
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("shards"), "{e}");
    assert_eq!(tmp_files(&out), Vec::<PathBuf>::new());
}

#[test]
fn out_that_is_a_file_or_holds_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "crawl/a.jsonl", "{\"id\":\"a\"}\n");
    let file = write(dir.path(), "file", "x");
    let e = curate(&CurateOptions::new(vec![input.clone()], &file), &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("exists and is not a folder"), "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    // Re-curating a manifest into its own folder would replace the input
    // while reading it.
    let crawl = dir.path().join("crawl");
    let e = curate(
        &CurateOptions::new(vec![input.clone()], &crawl),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, CurationError::InputInOutput { .. }), "{e:?}");
    assert_eq!(walk(&crawl), [input]);
}

// ---------------------------------------------------------------- item 9

#[test]
fn media_outside_the_input_folders_is_rejected_with_its_own_reason() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "secret/key.mp4", "SECRET");
    let crawl = dir.path().join("crawl");
    write(&crawl, "ok.mp4", "VIDEO");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, crawl.join("link.mp4")).unwrap();
    let lines = [
        r#"{"id":"abs","media_path":"/etc/passwd"}"#.to_owned(),
        r#"{"id":"proc","media_path":"/proc/self/environ"}"#.to_owned(),
        r#"{"id":"dotdot","media_path":"../secret/key.mp4"}"#.to_owned(),
        format!(
            r#"{{"id":"full","media_path":{:?}}}"#,
            secret.to_str().unwrap()
        ),
        r#"{"id":"link","media_path":"link.mp4"}"#.to_owned(),
        r#"{"id":"ok","media_path":"ok.mp4"}"#.to_owned(),
        r#"{"id":"gone","media_path":"/nonexistent/x.mp4"}"#.to_owned(),
    ];
    write(&crawl, "posts.jsonl", lines.join("\n"));
    let out = dir.path().join("out");
    let mut opts = CurateOptions::new(vec![crawl.clone()], &out);
    opts.shards = Some(ShardLimits::default());
    let s = curate(&opts, &mut |_| {}).unwrap();
    let outside = &s.report.reasons[&Reason::MediaOutsideRoots];
    let mut expected = vec!["abs", "proc", "dotdot", "full"];
    if cfg!(unix) {
        expected.push("link");
    }
    assert_eq!(outside.examples, expected[..expected.len().min(5)]);
    assert_eq!(outside.first as usize, expected.len());
    // Nothing from outside reached the lists or the shards.
    let list = std::fs::read_to_string(out.join("pretrain_list.txt")).unwrap();
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("ok.mp4"));
    for shard in curation_core::shard::list_shards(&out.join("shards")).unwrap() {
        let bytes = std::fs::read(shard).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"SECRET"));
        assert!(!bytes.windows(5).any(|w| w == b"root:"));
    }
    // Allowed explicitly, the secret folder's file is packed.
    opts.media_roots = vec![dir.path().join("secret")];
    std::fs::remove_dir_all(&out).unwrap();
    let s = curate(&opts, &mut |_| {}).unwrap();
    let outside = &s.report.reasons[&Reason::MediaOutsideRoots];
    assert_eq!(outside.examples, ["abs", "proc"]);
    // A media root that does not exist is an error naming it.
    opts.media_roots = vec![dir.path().join("nope")];
    let e = curate(&opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("media_roots[0]"), "{e}");
}

// ---------------------------------------------------------------- item 10

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deeply_nested_unknown_fields_are_refused_with_their_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{{\"id\":\"deep\",\"junk\":{}}}", nested(100_000));
    // At the limit (record object + 63) is fine; one more is not.
    let at_limit = format!("{{\"id\":\"edge\",\"x\":{}}}", nested(MAX_NESTING - 1));
    let over = format!("{{\"id\":\"over\",\"x\":{}}}", nested(MAX_NESTING));
    let text = format!("{deep}\n{at_limit}\n{over}\n{{\"id\":\"fine\"}}\n");
    let p = write(dir.path(), "crawl/deep.jsonl", &text);
    write(dir.path(), "crawl/deep.info.json", &deep);
    let out = dir.path().join("out");
    let s = curate(
        &CurateOptions::new(vec![dir.path().join("crawl")], &out),
        &mut |_| {},
    )
    .unwrap();
    let errs: Vec<(&str, Option<u64>)> = s
        .report
        .ingest_errors
        .iter()
        .map(|e| (e.kind.as_str(), e.line))
        .collect();
    assert_eq!(
        errs,
        [
            ("nesting_too_deep", Some(1)),
            ("nesting_too_deep", Some(1)),
            ("nesting_too_deep", Some(3))
        ]
    );
    assert!(s.report.ingest_errors[0].message.contains("field `junk`"));
    assert_eq!(s.report.kept, 2);
    // Every manifest line reads back with serde_json's default limit.
    for line in std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
    {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    // The public Deserialize refuses it too.
    let e = serde_json::from_str::<VideoRecord>(&over).unwrap_err();
    assert!(e.to_string().contains("nested deeper"), "{e}");
    let _ = p;
}

// ---------------------------------------------------------------- item 11

#[test]
fn csv_with_crlf_reports_the_right_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.csv",
        "id,duration\r\nc1,5\r\nc2,long\r\n\"c3\r\nx\",7\r\nc4,1\r\n,3\r\n",
    );
    let (recs, errs) = ingest(&p);
    let lines: Vec<u64> = recs
        .iter()
        .map(|r| r.ingest_source.as_ref().unwrap().line)
        .collect();
    // c1 on line 2, c3 starts on line 4 (its quoted id spans two), c4 on 6.
    assert_eq!(lines, [2, 4, 6]);
    let err_lines: Vec<Option<u64>> = errs.iter().map(IngestError::line).collect();
    assert_eq!(err_lines, [Some(3), Some(7)], "{errs:?}");
    assert!(
        errs[0].to_string().contains(":3:2: field `duration`"),
        "{}",
        errs[0]
    );
    // Old Mac line ends (a lone CR) end a line too.
    let p = write(dir.path(), "b.csv", "id,duration\rc1,5\rc2,long\rc3,1\r");
    let (recs, errs) = ingest(&p);
    let lines: Vec<u64> = recs
        .iter()
        .map(|r| r.ingest_source.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [2, 4]);
    assert_eq!(errs[0].line(), Some(3));
}

// ---------------------------------------------------------------- item 12

#[test]
fn field_errors_name_the_field_and_no_internal_type() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (r#"{"id":"a","hashtags":[5]}"#, "field `hashtags`"),
        (
            r#"{"id":"a","hashtags":[{"original":"x"}]}"#,
            "field `hashtags`",
        ),
        (r#"{"id":"a","hashtags":"salsa"}"#, "field `hashtags`"),
        (r#"{"id":"a","tags":[1]}"#, "field `tags`"),
        (r#"{"id":"a","tags":{}}"#, "field `tags`"),
        (
            r#"{"id":"a","ingest_source":{"path":"x","line":-1}}"#,
            "field `ingest_source`",
        ),
        (r#"{"id":"a","ingest_source":5}"#, "field `ingest_source`"),
        (r#"{"id":"a","width":5000000000}"#, "field `width`"),
    ];
    for (i, (line, field)) in cases.iter().enumerate() {
        let p = write(dir.path(), &format!("{i}.jsonl"), line);
        let msg = err_of(&p);
        assert!(msg.contains(field), "{line}: {msg}");
        assert!(!msg.contains("untagged") && !msg.contains("Repr"), "{msg}");
        assert!(msg.contains(&format!("{i}.jsonl:1:")), "{msg}");
    }
    // Empty and null hashtag entries are dropped, as before.
    let p = write(
        dir.path(),
        "ok.jsonl",
        r##"{"id":"a","hashtags":["#",null,{"tag":"X"}]}"##,
    );
    let (recs, errs) = ingest(&p);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(recs[0].hashtags.len(), 1);
    assert_eq!(recs[0].hashtags[0].tag, "x");
}

// ---------------------------------------------------------------- item 13

#[test]
fn impossible_numbers_in_records_are_errors_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"id":"a","duration":-3}"#,
            "field `duration`: -3 is negative",
        ),
        (r#"{"id":"a","fps":-1}"#, "field `fps`: -1 is negative"),
        (
            r#"{"id":"a","fps":"-1.5"}"#,
            "field `fps`: -1.5 is negative",
        ),
        (
            r#"{"id":"a","width":0,"height":5}"#,
            "field `width`: 0 is not a pixel size",
        ),
        (r#"{"id":"a","height":-2}"#, "field `height`"),
        (r#"{"id":"a","likes":-1}"#, "field `likes`"),
        (r#"{"id":"a","duration":"NaN"}"#, "field `duration`"),
    ];
    for (i, (line, want)) in cases.iter().enumerate() {
        let p = write(dir.path(), &format!("{i}.jsonl"), line);
        let msg = err_of(&p);
        assert!(msg.contains(want), "{line}: {msg}");
    }
    let p = write(
        dir.path(),
        "a.csv",
        "id,duration,fps,height\nx,-3,,\ny,,inf,\nz,,,0\n",
    );
    let (recs, errs) = ingest(&p);
    assert!(recs.is_empty());
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(msgs[0].contains(":2:2: field `duration`"), "{msgs:?}");
    assert!(msgs[1].contains(":3:3: field `fps`"), "{msgs:?}");
    assert!(msgs[2].contains(":4:4: field `height`"), "{msgs:?}");
}

#[test]
fn label_maps_of_the_wrong_kind_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("a.jsonl", "{\"id\":\"x\"}\n{\"id\":\"y\"}\n", "JSON Lines"),
        (
            "labels.txt",
            "salsa\n{\"id\":\"y\"}\n",
            "line 2 is a JSON object",
        ),
        (
            "b.txt",
            "[\"salsa\", \"tango\"]\n",
            "line 1 is a JSON array",
        ),
        (
            "c.json",
            r#"{"classes":[{"name":5}]}"#,
            "classes[0].name: expected a string",
        ),
        ("d.json", r#"{"foo":[]}"#, "`classes`"),
        ("e.json", r#"["a", 3]"#, "entry[1]: expected a string"),
        ("f.json", r#""salsa""#, "found a string"),
        ("g.json", r#"{"classes":[]}"#, "no class names"),
        ("h.json", r#"["a\nb"]"#, "control character"),
        ("i.json", r#"["a", " "]"#, "`classes[1]`: empty class name"),
        ("j.txt", "\n\n", "no class names"),
        (
            "k.json",
            r#"{"classes":[{"name":"a","tags":"b"}]}"#,
            "classes[0].tags",
        ),
    ];
    for (name, text, want) in cases {
        let p = write(dir.path(), name, text);
        let msg = LabelMap::from_file(&p).unwrap_err().to_string();
        assert!(msg.contains(want) && msg.contains(name), "{name}: {msg}");
        assert!(!msg.contains("untagged") && !msg.contains("Repr"), "{msg}");
    }
    // The documented forms still read.
    let p = write(dir.path(), "ok.txt", "salsa\n\ntango [fast]\n");
    assert_eq!(LabelMap::from_file(&p).unwrap().classes.len(), 2);
    let p = write(
        dir.path(),
        "ok.json",
        r#"{"classes":[{"name":"a"},{"name":"b","tags":["c"]}]}"#,
    );
    assert_eq!(LabelMap::from_file(&p).unwrap().classes[1].tags, ["c"]);
}

// ------------------------------------------------- same classes elsewhere

#[test]
fn over_long_lines_and_files_are_skipped_with_their_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let limit = curation_core::ingest::MAX_RECORD_BYTES;
    let mut text = b"{\"id\":\"a\"}\n{\"id\":\"b\",\"pad\":\"".to_vec();
    text.resize(text.len() + limit + 10, b'x');
    text.extend_from_slice(b"\"}\n{\"id\":\"c\"}\n");
    let p = write(dir.path(), "long.jsonl", &text);
    let (recs, errs) = ingest(&p);
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "c"]);
    assert_eq!(recs[1].ingest_source.as_ref().unwrap().line, 3);
    assert!(
        matches!(errs[..], [IngestError::TooLarge { line: 2, .. }]),
        "{errs:?}"
    );
    assert_eq!(errs[0].to_failure().kind, "too_large");
    // CSV: an unclosed quote makes the rest of the file one record.
    let mut csv = b"id,title\na,ok\nb,\"open".to_vec();
    csv.resize(csv.len() + limit + 10, b'x');
    csv.extend_from_slice(b"\nc,fine\n");
    let p = write(dir.path(), "long.csv", &csv);
    let (recs, errs) = ingest(&p);
    assert_eq!(recs.len(), 1);
    assert!(
        matches!(errs[..], [IngestError::TooLarge { line: 3, .. }]),
        "{errs:?}"
    );
    let p = write(dir.path(), "big.info.json", &text[12..]);
    let (recs, errs) = ingest(&p);
    assert!(recs.is_empty());
    assert!(
        matches!(errs[..], [IngestError::TooLarge { line: 1, .. }]),
        "{errs:?}"
    );
}

#[test]
fn odd_media_file_names_do_not_stop_a_shard_run() {
    let dir = tempfile::tempdir().unwrap();
    let crawl = dir.path().join("crawl");
    write(&crawl, "clip.", "A");
    write(&crawl, "b.mp\\4", "B");
    write(
        &crawl,
        "p.jsonl",
        "{\"id\":\"a\",\"media_path\":\"clip.\"}\n{\"id\":\"b\",\"media_path\":\"b.mp\\\\4\"}\n",
    );
    let out = dir.path().join("out");
    let mut opts = CurateOptions::new(vec![crawl], &out);
    opts.shards = Some(ShardLimits::default());
    let s = curate(&opts, &mut |_| {}).unwrap();
    assert_eq!(s.outputs.shards.unwrap().samples_written, 2);
    let shard = curation_core::shard::list_shards(&out.join("shards")).unwrap();
    let samples = curation_core::shard::read_samples(&shard[0]).unwrap();
    assert_eq!(samples[0].members["bin"], b"A");
    assert_eq!(samples[1].members["bin"], b"B");
}

#[test]
fn messages_quoting_huge_values_stay_short() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(1 << 20);
    let text = format!(
        "{{\"id\":\"a\",\"duration\":\"{huge}\"}}\n\"{huge}\"\n{{\"id\":\"b\",\"ingest_source\":\"{huge}\"}}\n"
    );
    let p = write(dir.path(), "a.jsonl", &text);
    let (_, errs) = ingest(&p);
    assert_eq!(errs.len(), 3);
    let p = write(dir.path(), "a.csv", format!("id,fps\nz,{huge}\n"));
    let (_, csv_errs) = ingest(&p);
    for e in errs.iter().chain(&csv_errs) {
        let msg = e.to_string();
        assert!(
            msg.len() < 1000 && msg.contains("bytes in all"),
            "{}",
            msg.chars().take(1000).collect::<String>()
        );
    }
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_an_input_folder_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    write(&elsewhere, "private.jsonl", "{\"id\":\"private\"}\n");
    let crawl = dir.path().join("crawl");
    write(&crawl, "own.jsonl", "{\"id\":\"own\"}\n");
    write(&crawl, "sub/deep.jsonl", "{\"id\":\"deep\"}\n");
    std::os::unix::fs::symlink(&elsewhere, crawl.join("dirlink")).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.join("private.jsonl"),
        crawl.join("filelink.jsonl"),
    )
    .unwrap();
    // A link that stays inside is followed.
    std::os::unix::fs::symlink(crawl.join("sub"), crawl.join("inner")).unwrap();
    let s = curate(
        &CurateOptions::new(vec![crawl], dir.path().join("out")),
        &mut |_| {},
    )
    .unwrap();
    let kinds: Vec<&str> = s
        .report
        .ingest_errors
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["outside_input", "outside_input"]);
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.jsonl")).unwrap();
    assert!(!manifest.contains("private"));
    // own, deep (via sub) and deep again via the inner link (a duplicate id).
    assert_eq!(s.report.records_read, 3);
}

/// A config or label map that never ends (`/dev/zero`, an endless FIFO) or
/// is absurdly long is refused after a bounded read, not read until memory
/// runs out. A sparse file one byte over the limit stands in for both.
#[test]
fn config_and_label_map_reads_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "filters.toml",
        "filters.json",
        "label_map.json",
        "labels.txt",
    ] {
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .set_len(MAX_CONFIG_BYTES + 1)
            .unwrap();
        let e = if name.starts_with("filters") {
            FilterConfig::from_file(&p).unwrap_err()
        } else {
            LabelMap::from_file(&p).unwrap_err()
        };
        let CurationError::Config { path, message } = &e else {
            panic!("{name}: {e:?}");
        };
        assert_eq!(path, &p);
        assert_eq!(message, "longer than 16 MiB, not a configuration file");
    }
    // Invalid UTF-8 names the offset instead of a bare I/O error.
    let p = write(dir.path(), "bad.toml", b"min_duration = 1\n\xff");
    let e = FilterConfig::from_file(&p).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("not UTF-8 text (invalid byte at offset 17)"),
        "{e}"
    );
}
