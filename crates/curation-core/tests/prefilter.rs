//! Filtering during ingest (on the unbuilt record) must give exactly what
//! building every record and filtering afterwards gives: same kept records,
//! same report, same errors.

use curation_core::ingest::{RecordBatches, discover_inputs};
use curation_core::{Filter, FilterConfig, FilterReport, Range, VideoRecord};
use proptest::prelude::*;

/// One JSON Lines record mixing tubelet and yt-dlp names, nulls, strings
/// where numbers belong, and now and then a broken value.
fn arb_line() -> impl Strategy<Value = String> {
    let num = prop_oneof![
        Just("null".to_owned()),
        (0u64..3_000_000).prop_map(|v| v.to_string()),
        (0u64..3_000_000).prop_map(|v| format!("\"{v}\"")),
        (0u64..3000).prop_map(|v| format!("{v}.0")),
        Just("-1".to_owned()),
    ];
    let tag = prop::sample::select(vec![
        "Salsa", "tango", "AD", "#fyp", "Café", "舞蹈", "ad", "yoga",
    ]);
    (
        0u8..25,
        prop::option::of(num.clone()),
        prop::option::of(num.clone()),
        prop::option::of(num),
        prop::option::of(prop::sample::select(vec!["en", "en_US", "ES", "de", "eng"])),
        prop::collection::vec(tag.clone(), 0..3),
        prop::collection::vec(tag, 0..3),
        prop::option::of((100u32..2000, 100u32..2000)),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(
            |(id, a, b, dur, lang, tags, title_tags, size, own_names, extra)| {
                let mut f = vec![format!("\"id\": \"v{id}\"")];
                let (views, likes) = if own_names {
                    ("views", "likes")
                } else {
                    ("view_count", "like_count")
                };
                if let Some(a) = a {
                    f.push(format!("\"{views}\": {a}"));
                }
                if let Some(b) = b {
                    f.push(format!("\"{likes}\": {b}"));
                }
                if let Some(d) = dur {
                    f.push(format!("\"duration\": {d}"));
                }
                if let Some(l) = lang {
                    f.push(format!("\"language\": \"{l}\""));
                }
                if let Some((w, h)) = size {
                    f.push(format!("\"width\": {w}, \"height\": {h}"));
                }
                let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
                f.push(format!("\"tags\": [{}]", tags.join(", ")));
                let title: Vec<String> = title_tags
                    .iter()
                    .map(|t| format!("#{}", t.trim_start_matches('#')))
                    .collect();
                f.push(format!("\"title\": \"clip {}\"", title.join(" ")));
                match extra {
                    0 => f.push("\"uploader\": {\"n\": [1, 2]}".into()),
                    1 => f.push("\"views\": 5, \"view_count\": 7".into()),
                    2 => f.push("\"comments\": \"many\"".into()),
                    _ => {}
                }
                format!("{{{}}}", f.join(", "))
            },
        )
}

fn arb_config() -> impl Strategy<Value = FilterConfig> {
    (
        prop::option::of(0u64..2_000_000),
        prop::option::of(0u64..2000),
        prop::option::of(100u32..900),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(views, dur, side, langs, allow, deny, keep_missing)| FilterConfig {
                min_views: views,
                duration: dur.map(|d| Range {
                    min: Some(d as f64),
                    max: None,
                }),
                min_short_side: side,
                languages: if langs { vec!["en".into()] } else { vec![] },
                hashtags_allow: if allow {
                    vec!["salsa".into(), "舞蹈".into()]
                } else {
                    vec![]
                },
                hashtags_deny: if deny { vec!["#AD".into()] } else { vec![] },
                keep_missing,
                ..FilterConfig::default()
            },
        )
}

fn run(
    path: &std::path::Path,
    config: &FilterConfig,
    prefilter: bool,
) -> (Vec<VideoRecord>, FilterReport) {
    let (files, _) = discover_inputs(&[path]);
    let mut filter = Filter::new(config.clone());
    let mut batches = RecordBatches::new(files);
    if prefilter {
        batches = batches.with_prefilter(filter.rules());
    }
    let mut report = FilterReport::default();
    let mut kept = Vec::new();
    for batch in batches {
        kept.extend(filter.apply_batch(batch, &mut report));
    }
    (kept, report)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn prefiltering_changes_nothing_but_the_cost(
        lines in prop::collection::vec(arb_line(), 0..40),
        config in arb_config(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("posts.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let (kept_a, report_a) = run(&path, &config, false);
        let (kept_b, report_b) = run(&path, &config, true);
        prop_assert_eq!(kept_a, kept_b);
        prop_assert_eq!(report_a, report_b);
    }
}
