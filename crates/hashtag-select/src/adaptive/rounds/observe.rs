//! [`observe_round`]: one crawl round's records, filter manifest and frame
//! selections, counted per planned tag and fed to the loop once.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use curation_core::ingest::{RecordBatches, discover_inputs};
use curation_core::{CurationError, VideoRecord};

use super::{read_plan, refuse_collision, require};
use crate::adaptive::{AdaptiveLoop, Event, Outcomes, TagObservation};
use crate::error::HashtagError;

/// What [`observe_round`] did.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "report", std::process::id()));
/// # std::fs::remove_dir_all(&dir).ok();
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// # sel.write(&dir.join("groups.json"))?;
/// use hashtag_select::AdaptiveConfig;
/// use hashtag_select::adaptive::rounds::{init_state, observe_round, plan_round, read_plan, tag_counts};
/// // `groups.json`: a selection with one group, `piano`.
/// let (groups, state, plan) = (dir.join("groups.json"), dir.join("state.json"), dir.join("plan.json"));
/// let config = AdaptiveConfig { probe_posts: 2, target_clips: 1, ..AdaptiveConfig::default() };
/// let l = init_state(&groups, None, &state, config, false)?;
/// # let _ = (l, read_plan, tag_counts);
/// plan_round(&state, 10, Some(&plan))?;
/// let (crawled, manifest) = (dir.join("crawl.jsonl"), dir.join("manifest.jsonl"));
/// std::fs::write(&crawled, "{\"id\": \"a\", \"hashtags\": [\"piano\"]}\n{\"id\": \"b\", \"hashtags\": [\"piano\"]}\n").unwrap();
/// std::fs::write(&manifest, "{\"id\": \"a\"}\n").unwrap(); // only "a" passed the filters
/// let (l, report) = observe_round(&state, &plan, &[crawled], &manifest, None, &[])?;
/// let o = &report.observations[0];
/// assert_eq!((o.crawled, o.passed_filters, o.accepted_clips), (2, 1, 1));
/// assert!(report.not_crawled.is_empty());
/// assert_eq!((report.unmatched_records, report.duplicate_records), (0, 0));
/// assert_eq!(report.events.len(), 1); // the group reached its 1-clip target
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ObserveReport {
    /// The observations given to the loop, one per planned tag.
    pub observations: Vec<TagObservation>,
    /// Planned tags with no crawled record, left out (still open).
    pub not_crawled: Vec<String>,
    /// Crawled records that carry none of the planned tags (not counted).
    pub unmatched_records: u64,
    /// Records whose id appeared earlier in the crawl (counted once).
    pub duplicate_records: u64,
    /// Events (drops, promotions, merges, finished groups) of this round.
    pub events: Vec<Event>,
}

/// Reads every crawled record; any unreadable file or line is an error
/// (a miscounted crawl would bias every yield after it).
fn read_crawl(crawled: &[PathBuf]) -> Result<Vec<VideoRecord>, HashtagError> {
    let (files, mut errors) = discover_inputs(crawled);
    let mut records = Vec::new();
    for batch in RecordBatches::new(files) {
        records.extend(batch.records);
        errors.extend(batch.errors);
    }
    if !errors.is_empty() {
        return Err(CurationError::Inputs { errors }.into());
    }
    Ok(records)
}

/// Feeds one crawl round to the loop in `state`: `plan` is the file
/// [`plan_round`](super::plan_round) wrote for the state's current round, `crawled` the
/// crawler's records (folders or files curation-core reads), `manifest`
/// curation-core's `manifest.jsonl` of the records that passed the filters
/// and `selections` frame-select's `selections.jsonl` when it ran.
///
/// A crawled record counts for every planned tag it carries (crawls of
/// two tags may return one post). A tag that returned some posts but fewer
/// than requested is taken as exhausted; one that returned none is left
/// out (a failed or skipped crawl must not close it) unless it is in
/// `exhausted`, which marks tags the crawler found empty. Nothing is
/// written unless every input reads cleanly; then the state is replaced
/// atomically. A plan is observed at most once
/// ([`HashtagError::RoundAlreadyObserved`] the second time): its crawl
/// would otherwise be counted again.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "observe", std::process::id()));
/// # std::fs::remove_dir_all(&dir).ok();
/// # let mut views = hashtag_select::TagViews::default();
/// # views.insert("piano", 9_000_000);
/// # let vocab = hashtag_select::Vocabulary::from_names("demo", &["playing piano"]);
/// # let sel = hashtag_select::select_from_records(vec![vocab], std::iter::empty(), &views,
/// #     Default::default(), Default::default(), Default::default())?;
/// # sel.write(&dir.join("groups.json"))?;
/// use hashtag_select::AdaptiveConfig;
/// use hashtag_select::adaptive::rounds::{init_state, observe_round, plan_round, read_plan, tag_counts};
/// // `groups.json`: a selection with one group, `piano`.
/// let (groups, state, plan) = (dir.join("groups.json"), dir.join("state.json"), dir.join("plan.json"));
/// let config = AdaptiveConfig { probe_posts: 2, target_clips: 1, ..AdaptiveConfig::default() };
/// let l = init_state(&groups, None, &state, config, false)?;
/// # let _ = (l, read_plan, tag_counts);
/// plan_round(&state, 10, Some(&plan))?;
/// let (crawled, manifest) = (dir.join("crawl.jsonl"), dir.join("manifest.jsonl"));
/// std::fs::write(&crawled, "{\"id\": \"a\", \"hashtags\": [\"piano\"]}\n{\"id\": \"b\", \"hashtags\": [\"piano\"]}\n").unwrap();
/// std::fs::write(&manifest, "{\"id\": \"a\"}\n").unwrap(); // only "a" passed the filters
/// let (l, report) = observe_round(&state, &plan, &[crawled.clone()], &manifest, None, &[])?;
/// assert_eq!((l.groups()[0].crawled, l.groups()[0].clips), (2, 1));
/// assert!(l.is_finished());
/// assert_eq!(report.observations.len(), 1);
/// // The same plan again would count its crawl twice: refused, nothing written.
/// let again = observe_round(&state, &plan, &[crawled], &manifest, None, &[]).unwrap_err();
/// assert!(matches!(again, hashtag_select::HashtagError::RoundAlreadyObserved { round: 1, .. }));
/// assert!(again.to_string().ends_with("round 1 was already observed; plan the next round first"));
/// assert_eq!(hashtag_select::AdaptiveLoop::load(&state)?.groups()[0].crawled, 2);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
pub fn observe_round(
    state: &Path,
    plan: &Path,
    crawled: &[PathBuf],
    manifest: &Path,
    selections: Option<&Path>,
    exhausted: &[String],
) -> Result<(AdaptiveLoop, ObserveReport), HashtagError> {
    require("--state", state)?;
    require("--plan", plan)?;
    require("--manifest", manifest)?;
    if let Some(s) = selections {
        require("--selections", s)?;
    }
    if crawled.is_empty() {
        return Err(HashtagError::NothingRead("no --crawled input".to_owned()));
    }
    for c in crawled {
        require("--crawled", c)?;
    }
    let mut inputs = vec![("--plan", plan), ("--manifest", manifest)];
    inputs.extend(selections.map(|s| ("--selections", s)));
    inputs.extend(crawled.iter().map(|c| ("--crawled", c.as_path())));
    refuse_collision(state, &inputs)?;

    let mut l = AdaptiveLoop::load(state)?;
    let round_plan = read_plan(plan)?;
    if round_plan.round != l.round() {
        return Err(HashtagError::malformed(
            plan,
            None,
            format!(
                "plan of round {}, but {} is at round {}: plan again",
                round_plan.round,
                state.display(),
                l.round()
            ),
        ));
    }
    // A second observe of one plan would add its crawl to every count again.
    if l.observed_rounds().contains(&round_plan.round) {
        return Err(HashtagError::RoundAlreadyObserved {
            state: state.to_owned(),
            round: round_plan.round,
        });
    }
    if let Some(r) = round_plan
        .requests
        .iter()
        .find(|r| !l.tags().contains_key(&r.tag))
    {
        return Err(HashtagError::malformed(
            plan,
            None,
            format!("tag {:?} is not in {}", r.tag, state.display()),
        ));
    }
    if let Some(t) = exhausted
        .iter()
        .find(|t| !round_plan.requests.iter().any(|r| &r.tag == *t))
    {
        return Err(HashtagError::malformed(
            plan,
            None,
            format!("--exhausted {t:?} is not planned in this round"),
        ));
    }
    let outcomes = Outcomes::read(manifest, selections)?;
    let records = read_crawl(crawled)?;

    let planned: HashSet<&str> = round_plan.requests.iter().map(|r| r.tag.as_str()).collect();
    let mut per_tag: BTreeMap<&str, Vec<VideoRecord>> = BTreeMap::new();
    let mut ids = HashSet::new();
    let (mut unmatched, mut duplicates) = (0u64, 0u64);
    for r in records {
        if !ids.insert(r.id.clone()) {
            duplicates += 1;
            continue;
        }
        let mut tags: Vec<&str> = r
            .hashtags
            .iter()
            .map(|h| h.tag.as_str())
            .filter_map(|t| planned.get(t).copied())
            .collect();
        tags.sort_unstable();
        tags.dedup();
        if tags.is_empty() {
            unmatched += 1;
        }
        for t in tags {
            per_tag.entry(t).or_default().push(r.clone());
        }
    }
    let mut observations = Vec::new();
    let mut not_crawled = Vec::new();
    for req in &round_plan.requests {
        let recs = per_tag.get(req.tag.as_str()).map_or(&[][..], Vec::as_slice);
        let empty = exhausted.contains(&req.tag);
        if recs.is_empty() && !empty {
            not_crawled.push(req.tag.clone());
            continue;
        }
        let short = (recs.len() as u64) < req.posts;
        observations.push(outcomes.observe(&req.tag, recs, empty || short));
    }
    let before = l.events().len();
    l.observe(&observations)?;
    l.save(state)?;
    let events = l.events()[before..].to_vec();
    Ok((
        l,
        ObserveReport {
            observations,
            not_crawled,
            unmatched_records: unmatched,
            duplicate_records: duplicates,
            events,
        },
    ))
}
