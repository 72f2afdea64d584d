//! The loop between crawl rounds, as files: a state file that `init`
//! creates and `plan` / `observe` read and replace (atomically), and a plan
//! file that `plan` writes and `observe` reads back, so the loop can run as
//! separate commands around a crawler (the `hashtag_loop` example).
//!
//! Every input is checked before anything is written: a missing input, an
//! output that is an input, a plan from another round or one already
//! observed, or a bad line is an error and leaves every file as it was.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AdaptiveConfig, AdaptiveLoop, Reserve, TagStatus};
use crate::error::HashtagError;
use crate::groups::Selection;
use crate::stats::TagViews;

mod observe;

pub use observe::{ObserveReport, observe_round};

/// Plan file format written by this build.
pub const PLAN_VERSION: u32 = 1;

/// One planned crawl request with the figures behind it.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "req", std::process::id()));
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
/// # let _ = (l, read_plan, observe_round, tag_counts);
/// let (_, round) = plan_round(&state, 10, Some(&plan))?;
/// let r = &round.requests[0];
/// assert_eq!((r.tag.as_str(), r.group_name.as_str(), r.posts, r.crawled), ("piano", "piano", 2, 0));
/// assert_eq!(r.yield_mean, 0.25); // the Beta(1, 3) prior's mean
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "plan", std::process::id()));
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
/// # let _ = (l, observe_round, tag_counts);
/// let (_, round) = plan_round(&state, 10, Some(&plan))?;
/// assert_eq!((round.round, round.budget, round.requests.len()), (1, 10, 1));
/// assert_eq!(read_plan(&plan)?, round);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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
///
/// ```
/// use hashtag_select::HashtagError;
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "init", std::process::id()));
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
/// # let _ = (read_plan, observe_round, plan_round, tag_counts);
/// assert_eq!(l.groups()[0].name, "piano");
/// assert!(state.exists());
/// // A second init would discard the saved progress: refused.
/// let again = init_state(&groups, None, &state, AdaptiveConfig::default(), false);
/// assert!(matches!(again, Err(HashtagError::OutputCollision { .. })));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "planround", std::process::id()));
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
/// # let _ = (l, read_plan, observe_round, tag_counts);
/// let (l, round) = plan_round(&state, 10, Some(&plan))?;
/// assert_eq!((l.round(), round.requests[0].tag.as_str()), (1, "piano"));
/// assert_eq!(hashtag_select::AdaptiveLoop::load(&state)?.round(), 1); // state advanced
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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
        curation_core::atomic::write_json(o, &plan)?;
    }
    l.save(state)?;
    Ok((l, plan))
}

/// Reads a plan written by [`plan_round`].
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "readplan", std::process::id()));
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
/// # let _ = (l, observe_round, tag_counts);
/// plan_round(&state, 10, Some(&plan))?;
/// let round = read_plan(&plan)?;
/// assert_eq!((round.round, round.requests[0].posts), (1, 2));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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

/// Counts of tags per status: (candidate, active, exhausted, dropped).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("hs_doc_rounds_{}_{}", "counts", std::process::id()));
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
/// # let _ = read_plan;
/// assert_eq!(tag_counts(&l, 0), (1, 0, 0, 0)); // piano: not crawled yet
/// plan_round(&state, 10, Some(&plan))?;
/// let (crawled, manifest) = (dir.join("crawl.jsonl"), dir.join("manifest.jsonl"));
/// std::fs::write(&crawled, "{\"id\": \"a\", \"hashtags\": [\"piano\"]}\n{\"id\": \"b\", \"hashtags\": [\"piano\"]}\n").unwrap();
/// std::fs::write(&manifest, "{\"id\": \"a\"}\n").unwrap(); // only "a" passed the filters
/// let (l, report) = observe_round(&state, &plan, &[crawled], &manifest, None, &[])?;
/// # let _ = report;
/// assert_eq!(tag_counts(&l, 0), (0, 1, 0, 0)); // crawled, still active
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
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
