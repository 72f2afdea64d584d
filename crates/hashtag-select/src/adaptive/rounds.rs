//! The loop between crawl rounds, as files: a state file that `init`
//! creates and `plan` / `observe` read and replace (atomically), and a plan
//! file that `plan` writes and `observe` reads back, so the loop can run as
//! separate commands around a crawler (the `hashtag_loop` example).
//!
//! Every input is checked before anything is written: a missing input, an
//! output that is an input, a plan from another round or a bad line is an
//! error and leaves every file as it was.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use curation_core::ingest::{RecordBatches, discover_inputs};
use curation_core::{CurationError, VideoRecord};
use serde::{Deserialize, Serialize};

use super::{AdaptiveConfig, AdaptiveLoop, Event, Outcomes, Reserve, TagStatus};
use crate::error::HashtagError;
use crate::groups::Selection;
use crate::stats::TagViews;

/// Plan file format written by this build.
pub const PLAN_VERSION: u32 = 1;

/// One planned crawl request with the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRequest {
    /// Tag to crawl.
    pub tag: String,
    /// Its group's id.
    pub group: usize,
    /// Its group's name.
    pub group_name: String,
    /// Posts to fetch.
    pub posts: u64,
    /// Posts of it crawled so far.
    pub crawled: u64,
    /// Posterior mean of its yield (kept clips per crawled post).
    pub yield_mean: f64,
    /// Upper bound (mean + 2 sd) of its yield, the one the drop rule uses.
    pub yield_upper: f64,
}

/// A round's plan, as written by [`plan_round`] and read by
/// [`observe_round`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundPlan {
    /// Format version ([`PLAN_VERSION`]).
    pub version: u32,
    /// The loop's round this plan belongs to.
    pub round: u64,
    /// Posts the plan could spend.
    pub budget: u64,
    /// The requests, in the order planned.
    pub requests: Vec<PlannedRequest>,
}

/// What [`observe_round`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ObserveReport {
    /// The observations given to the loop, one per planned tag.
    pub observations: Vec<super::TagObservation>,
    /// Planned tags with no crawled record, left out (still open).
    pub not_crawled: Vec<String>,
    /// Crawled records that carry none of the planned tags (not counted).
    pub unmatched_records: u64,
    /// Records whose id appeared earlier in the crawl (counted once).
    pub duplicate_records: u64,
    /// Events (drops, promotions, merges, finished groups) of this round.
    pub events: Vec<Event>,
}

/// `path` with its folder made absolute and symlinks resolved, so two
/// spellings of one file compare equal (the file itself may not exist).
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => path.to_owned(),
    }
}

fn require(what: &str, path: &Path) -> Result<(), HashtagError> {
    if path.exists() {
        Ok(())
    } else {
        Err(HashtagError::MissingInput {
            what: what.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// Refuses `output` when it names one of `inputs` (`(what, path)`).
fn refuse_collision(output: &Path, inputs: &[(&str, &Path)]) -> Result<(), HashtagError> {
    let out = canonical(output);
    match inputs.iter().find(|(_, p)| canonical(p) == out) {
        Some((what, p)) => Err(HashtagError::OutputCollision {
            output: output.to_owned(),
            what: format!("the {what} input"),
            input: p.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Starts a loop from a `groups.json` written by the `hashtags` example (or
/// [`Selection::write`]) and writes its state to `state`. `views` (CSV or
/// JSON, as [`TagViews::from_file`]) gates promoted tags. An existing
/// `state` is refused unless `overwrite`: it may hold rounds of progress.
pub fn init_state(
    groups: &Path,
    views: Option<&Path>,
    state: &Path,
    config: AdaptiveConfig,
    overwrite: bool,
) -> Result<AdaptiveLoop, HashtagError> {
    require("--groups", groups)?;
    let mut inputs = vec![("--groups", groups)];
    if let Some(v) = views {
        require("--views", v)?;
        inputs.push(("--views", v));
    }
    refuse_collision(state, &inputs)?;
    if state.exists() && !overwrite {
        return Err(HashtagError::OutputCollision {
            output: state.to_owned(),
            what: "an existing loop state".to_owned(),
            input: state.to_owned(),
        });
    }
    let text = crate::input::read_text(groups)?;
    let selection: Selection =
        serde_json::from_str(&text).map_err(|e| HashtagError::json(groups, &e))?;
    if selection.groups.is_empty() {
        return Err(HashtagError::NothingRead(format!(
            "{}: no group to crawl for",
            groups.display()
        )));
    }
    let views = match views {
        Some(p) => TagViews::from_file(p)?,
        None => TagViews::default(),
    };
    let l = AdaptiveLoop::new(&selection, &Reserve::new(), views, config)?;
    l.save(state)?;
    Ok(l)
}

/// Plans the next round of the loop in `state`, spending at most `budget`
/// posts: writes the plan to `out` when given, then the advanced state
/// (its round and sampling stream moved on) back to `state`.
pub fn plan_round(
    state: &Path,
    budget: u64,
    out: Option<&Path>,
) -> Result<(AdaptiveLoop, RoundPlan), HashtagError> {
    require("--state", state)?;
    if let Some(o) = out {
        refuse_collision(o, &[("--state", state)])?;
    }
    if budget == 0 {
        return Err(HashtagError::config("budget", 0, "must be at least 1"));
    }
    let mut l = AdaptiveLoop::load(state)?;
    let prior = l.config().prior;
    let requests = l
        .plan(budget)
        .into_iter()
        .map(|r| {
            let s = &l.tags()[&r.tag];
            PlannedRequest {
                group_name: l.groups()[r.group].name.clone(),
                crawled: s.crawled,
                yield_mean: s.yield_mean(prior),
                yield_upper: s.yield_upper(prior),
                tag: r.tag,
                group: r.group,
                posts: r.posts,
            }
        })
        .collect();
    let plan = RoundPlan {
        version: PLAN_VERSION,
        round: l.round(),
        budget,
        requests,
    };
    // The plan first: if the state write then fails, the plan names a
    // round the state never reached and `observe` refuses it.
    if let Some(o) = out {
        curation_core::output::write_json(o, &plan)?;
    }
    l.save(state)?;
    Ok((l, plan))
}

/// Reads a plan written by [`plan_round`].
pub fn read_plan(path: &Path) -> Result<RoundPlan, HashtagError> {
    let text = crate::input::read_text(path)?;
    let plan: RoundPlan = serde_json::from_str(&text).map_err(|e| HashtagError::json(path, &e))?;
    if plan.version != PLAN_VERSION {
        return Err(HashtagError::malformed(
            path,
            crate::input::line_of_key(&text, "version"),
            format!(
                "plan format {}, this build reads {PLAN_VERSION}",
                plan.version
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    if let Some((i, r)) = plan
        .requests
        .iter()
        .enumerate()
        .find(|(_, r)| !seen.insert(r.tag.as_str()))
    {
        return Err(HashtagError::malformed(
            path,
            None,
            format!("request {i}: tag {:?} planned twice", r.tag),
        ));
    }
    Ok(plan)
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
/// [`plan_round`] wrote for the state's current round, `crawled` the
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
/// atomically.
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

/// Counts of tags per status: (candidate, active, exhausted, dropped).
pub fn tag_counts(l: &AdaptiveLoop, group: usize) -> (usize, usize, usize, usize) {
    let mut c = (0, 0, 0, 0);
    for s in l.tags().values().filter(|s| s.group == group) {
        match s.status {
            TagStatus::Candidate => c.0 += 1,
            TagStatus::Active => c.1 += 1,
            TagStatus::Exhausted => c.2 += 1,
            TagStatus::Dropped(_) => c.3 += 1,
        }
    }
    c
}
