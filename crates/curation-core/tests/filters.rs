//! Filter checks on hand-made records, and the property that tightening a
//! filter never keeps more records.

use std::collections::BTreeSet;

use curation_core::{Filter, FilterConfig, FilterReport, Hashtag, Range, Reason, VideoRecord};
use proptest::prelude::*;

fn record(id: &str) -> VideoRecord {
    VideoRecord {
        id: id.into(),
        duration: Some(20.0),
        width: Some(720),
        height: Some(1280),
        fps: Some(30.0),
        views: Some(1_000_000),
        likes: Some(5_000),
        language: Some("en-US".into()),
        region: Some("US".into()),
        hashtags: vec![Hashtag::new("Salsa").unwrap()],
        ..VideoRecord::default()
    }
}

fn strict() -> FilterConfig {
    FilterConfig {
        duration: Some(Range {
            min: Some(3.0),
            max: Some(60.0),
        }),
        min_short_side: Some(480),
        aspect_ratio: Some(Range {
            min: None,
            max: Some(1.0),
        }),
        fps: Some(Range {
            min: Some(15.0),
            max: None,
        }),
        languages: vec!["en".into(), "es".into()],
        regions: vec!["us".into()],
        min_views: Some(10_000),
        min_likes: Some(100),
        hashtags_allow: vec!["#SALSA".into(), "tango".into()],
        hashtags_deny: vec!["#Ad".into()],
        ..FilterConfig::default()
    }
}

#[test]
fn each_check_fails_on_its_own_field() {
    let f = Filter::new(strict());
    assert!(f.check(&record("ok")).is_empty());
    type Edit = Box<dyn Fn(&mut VideoRecord)>;
    let cases: Vec<(Edit, Vec<Reason>)> = vec![
        (
            Box::new(|r| r.duration = Some(61.0)),
            vec![Reason::Duration],
        ),
        (
            Box::new(|r| r.duration = None),
            vec![Reason::DurationMissing],
        ),
        (Box::new(|r| r.width = Some(360)), vec![Reason::ShortSide]),
        (
            Box::new(|r| (r.width, r.height) = (Some(1280), Some(720))),
            vec![Reason::AspectRatio],
        ),
        (Box::new(|r| r.height = None), vec![Reason::SizeMissing]),
        (Box::new(|r| r.fps = Some(12.0)), vec![Reason::Fps]),
        (
            Box::new(|r| r.language = Some("eng".into())),
            vec![Reason::Language],
        ),
        (Box::new(|r| r.language = Some("es_MX".into())), vec![]),
        (Box::new(|r| r.language = Some("EN".into())), vec![]),
        (
            Box::new(|r| r.region = Some("MX".into())),
            vec![Reason::Region],
        ),
        (Box::new(|r| r.views = Some(9_999)), vec![Reason::Views]),
        (Box::new(|r| r.views = Some(10_000)), vec![]),
        (Box::new(|r| r.likes = None), vec![Reason::LikesMissing]),
        (
            Box::new(|r| r.hashtags.push(Hashtag::new("AD").unwrap())),
            vec![Reason::HashtagDenied],
        ),
        (
            Box::new(|r| r.hashtags = vec![Hashtag::new("waltz").unwrap()]),
            vec![Reason::HashtagNotAllowed],
        ),
        (
            Box::new(|r| {
                r.duration = Some(1.0);
                r.views = None;
            }),
            vec![Reason::Duration, Reason::ViewsMissing],
        ),
    ];
    for (i, (edit, expected)) in cases.into_iter().enumerate() {
        let mut r = record("x");
        edit(&mut r);
        assert_eq!(f.check(&r), expected, "case {i}");
    }
}

#[test]
fn keep_missing_lets_unknown_values_pass() {
    let f = Filter::new(FilterConfig {
        keep_missing: true,
        ..strict()
    });
    let mut r = record("x");
    (r.duration, r.views, r.language, r.width) = (None, None, None, None);
    assert!(f.check(&r).is_empty());
}

#[test]
fn report_counts_first_and_every_reason_and_dedups_in_order() {
    let mut f = Filter::new(strict());
    let mut bad = record("b");
    bad.duration = Some(100.0);
    bad.views = Some(1);
    let batch = vec![record("a"), bad, record("a"), record("c")];
    let mut report = FilterReport::default();
    let kept = f.apply(batch, &mut report);
    assert_eq!(
        kept.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(
        (report.records_read, report.kept, report.rejected),
        (4, 2, 2)
    );
    let d = &report.reasons[&Reason::Duration];
    assert_eq!(
        (d.first, d.any, d.examples.clone()),
        (1, 1, vec!["b".to_owned()])
    );
    let v = &report.reasons[&Reason::Views];
    assert_eq!((v.first, v.any), (0, 1));
    assert_eq!(report.reasons[&Reason::DuplicateId].first, 1);
    // The dedup state carries over to the next batch.
    let kept = f.apply(vec![record("c"), record("d")], &mut report);
    assert_eq!(kept.len(), 1);
}

#[test]
fn config_reads_toml_and_json_and_rejects_typos() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("f.toml");
    std::fs::write(&toml, "min_views = 5\nduration = { min = 1.5 }\n").unwrap();
    let c = FilterConfig::from_file(&toml).unwrap();
    assert_eq!(
        (c.min_views, c.duration.unwrap().min, c.dedup_ids),
        (Some(5), Some(1.5), true)
    );
    let json = dir.path().join("f.json");
    std::fs::write(&json, r#"{"min_views": 5, "duration": {"min": 1.5}}"#).unwrap();
    assert_eq!(FilterConfig::from_file(&json).unwrap(), c);
    std::fs::write(&toml, "min_view = 5\n").unwrap();
    let e = FilterConfig::from_file(&toml).unwrap_err().to_string();
    assert!(e.contains("min_view") && e.contains("f.toml"), "{e}");
    assert_ne!(c.sha256(), FilterConfig::default().sha256());
}

fn arb_record() -> impl Strategy<Value = VideoRecord> {
    (
        0u8..30,
        proptest::option::of(0.0f64..120.0),
        proptest::option::of((100u32..2000, 100u32..2000)),
        proptest::option::of(0u64..2_000_000),
        proptest::option::of(prop::sample::select(vec!["en", "en-GB", "es", "de", "zh"])),
        prop::collection::vec(
            prop::sample::select(vec!["salsa", "tango", "ad", "fyp", "yoga"]),
            0..4,
        ),
    )
        .prop_map(|(id, duration, size, views, lang, tags)| VideoRecord {
            id: format!("v{id}"),
            duration,
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
            views,
            language: lang.map(str::to_owned),
            hashtags: tags.iter().filter_map(|t| Hashtag::new(t)).collect(),
            ..VideoRecord::default()
        })
}

fn arb_config() -> impl Strategy<Value = FilterConfig> {
    (
        proptest::option::of((0.0f64..30.0, 30.0f64..120.0)),
        proptest::option::of(100u32..800),
        proptest::option::of(0u64..1_000_000),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(dur, side, views, deny_ad, keep_missing)| FilterConfig {
            duration: dur.map(|(a, b)| Range {
                min: Some(a),
                max: Some(b),
            }),
            min_short_side: side,
            min_views: views,
            hashtags_deny: if deny_ad { vec!["ad".into()] } else { vec![] },
            keep_missing,
            ..FilterConfig::default()
        })
}

/// A config at least as strict as `c`.
fn tighten(c: &FilterConfig, step: (f64, u32, u64, bool, bool)) -> FilterConfig {
    let mut t = c.clone();
    let (dur, side, views, deny, langs) = step;
    let d = t.duration.unwrap_or_default();
    t.duration = Some(Range {
        min: Some(d.min.unwrap_or(0.0) + dur),
        max: Some(d.max.unwrap_or(1e9) - dur),
    });
    t.min_short_side = Some(t.min_short_side.unwrap_or(0) + side);
    t.min_views = Some(t.min_views.unwrap_or(0) + views);
    if deny {
        t.hashtags_deny.push("fyp".into());
    }
    if langs {
        t.languages = vec!["en".into()];
    }
    t.keep_missing = false;
    t
}

fn kept_ids(c: &FilterConfig, records: &[VideoRecord]) -> BTreeSet<String> {
    let mut f = Filter::new(c.clone());
    let mut report = FilterReport::default();
    let (a, b) = records.split_at(records.len() / 2);
    let mut kept = f.apply(a.to_vec(), &mut report);
    kept.extend(f.apply(b.to_vec(), &mut report));
    assert_eq!(report.kept as usize, kept.len());
    kept.into_iter().map(|r| r.id).collect()
}

proptest! {
    #[test]
    fn tightening_a_filter_never_keeps_more(
        records in prop::collection::vec(arb_record(), 0..60),
        base in arb_config(),
        step in (0.0f64..20.0, 0u32..400, 0u64..500_000, any::<bool>(), any::<bool>()),
    ) {
        let loose = kept_ids(&base, &records);
        let tight = kept_ids(&tighten(&base, step), &records);
        prop_assert!(tight.is_subset(&loose), "tight {tight:?} loose {loose:?}");
    }
}
