//! One-shot selection: candidates -> views gate -> one preferred tag per
//! label (plus its variants and styles) -> consolidation -> action groups,
//! with provenance, counts, and the label map curation-core's fine-tuning
//! lists use.

use std::path::Path;

use curation_core::{LabelClass, LabelMap};
use serde::{Deserialize, Serialize};

use crate::consolidate::{ConsolidationConfig, Merge};
use crate::error::HashtagError;
use crate::output::OutputPlan;
use crate::rules::{LabelRef, Provenance, UngroupedLabel};
use crate::stats::{GateDecision, ViewsGate};

mod select;

pub use select::select_groups;

/// Knobs of [`select_groups`].
///
/// ```
/// use hashtag_select::{HashtagError, SelectConfig};
/// let mut c = SelectConfig::default();
/// c.gate.min_views = 1_000_000;
/// assert!(c.validate().is_ok());
/// c.style_min_share = f64::NAN;
/// assert!(matches!(c.validate(), Err(HashtagError::Config(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectConfig {
    /// The views gate.
    pub gate: ViewsGate,
    /// Consolidation thresholds.
    pub consolidation: ConsolidationConfig,
    /// Specification from co-occurrence: a neighbour `n` of a selected tag
    /// `p` becomes a style of `p` when at least this share of `n`'s posts
    /// carry `p` ...
    pub style_min_share: f64,
    /// ... `n` has at least this many posts ...
    pub style_min_posts: u64,
    /// ... and at most this many styles are taken per tag (most posts first).
    pub max_styles: usize,
    /// A label none of whose own tags passes the gate joins the group of the
    /// umbrella verb it shares with other labels (`skiing` for `skiing
    /// slalom`), when that umbrella passes ([`Rule::UmbrellaFallback`](crate::Rule::UmbrellaFallback)).
    /// `false` leaves such labels without a group (the behaviour before
    /// issue 11).
    #[serde(default = "yes")]
    pub umbrella_fallback: bool,
}

fn yes() -> bool {
    true
}

impl Default for SelectConfig {
    fn default() -> Self {
        SelectConfig {
            gate: ViewsGate::default(),
            consolidation: ConsolidationConfig::default(),
            style_min_share: 0.6,
            style_min_posts: 50,
            max_styles: 8,
            umbrella_fallback: true,
        }
    }
}

impl SelectConfig {
    /// Checks every threshold: shares lie in [0, 1] (NaN and infinities
    /// refused), each error naming the field.
    pub fn validate(&self) -> Result<(), HashtagError> {
        HashtagError::check_in(
            0.0..=1.0,
            &[("style_min_share", self.style_min_share)],
            "must be a share in [0, 1]",
        )?;
        self.consolidation.validate()
    }
}

/// A member tag of a group.
///
/// ```
/// # use hashtag_select::{OneShot, TagViews, Vocabulary};
/// # let vocab = Vocabulary::from_names("demo", &["playing piano", "juggling"]);
/// # let mut run = OneShot::new(vec![vocab], Default::default(), Default::default(), Default::default())?;
/// # run.add_post(["piano"], Some(1_000));
/// # let mut views = TagViews::default();
/// # views.insert("piano", 9_000_000);
/// // One label "playing piano" (#piano: 9M platform views), one "juggling" (no views).
/// let sel = run.finish(&views)?.selection;
/// let m = &sel.groups[0].tags[0];
/// assert_eq!((m.tag.as_str(), m.posts), ("piano", 1));
/// assert_eq!(m.gate.views(), 9_000_000);
/// assert_eq!(m.provenance[0].rule, hashtag_select::Rule::NounSubstitution);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMember {
    /// Normal form.
    pub tag: String,
    /// Rules that proposed it and their sources.
    pub provenance: Vec<Provenance>,
    /// Crawled posts carrying it.
    pub posts: u64,
    /// The gate's decision (views used and their source).
    pub gate: GateDecision,
}

/// One action group: one selected hashtag, or a consolidated set.
///
/// ```
/// # use hashtag_select::{OneShot, TagViews, Vocabulary};
/// # let vocab = Vocabulary::from_names("demo", &["playing piano", "juggling"]);
/// # let mut run = OneShot::new(vec![vocab], Default::default(), Default::default(), Default::default())?;
/// # run.add_post(["piano"], Some(1_000));
/// # let mut views = TagViews::default();
/// # views.insert("piano", 9_000_000);
/// // One label "playing piano" (#piano: 9M platform views), one "juggling" (no views).
/// let sel = run.finish(&views)?.selection;
/// let g = &sel.groups[0];
/// assert_eq!((g.id, g.name.as_str(), g.views, g.posts), (0, "piano", 9_000_000, 1));
/// assert_eq!(g.seed_labels[0].to_string(), "demo:playing piano");
/// assert!(g.merges.is_empty());
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionGroup {
    /// 0-based id (= class index in the label map).
    pub id: usize,
    /// The most-viewed member.
    pub name: String,
    /// Members, most views first.
    pub tags: Vec<GroupMember>,
    /// Vocabulary labels the members stand for.
    pub seed_labels: Vec<LabelRef>,
    /// Why members were merged.
    pub merges: Vec<Merge>,
    /// Sum of the members' crawled posts (an upper bound of the group's
    /// distinct posts: one post can carry several members).
    pub posts: u64,
    /// Views of the name tag, as the gate saw them.
    pub views: u64,
}

/// A candidate that did not make it into a group, and why.
///
/// ```
/// # use hashtag_select::{OneShot, TagViews, Vocabulary};
/// # let vocab = Vocabulary::from_names("demo", &["playing piano", "juggling"]);
/// # let mut run = OneShot::new(vec![vocab], Default::default(), Default::default(), Default::default())?;
/// # run.add_post(["piano"], Some(1_000));
/// # let mut views = TagViews::default();
/// # views.insert("piano", 9_000_000);
/// // One label "playing piano" (#piano: 9M platform views), one "juggling" (no views).
/// let sel = run.finish(&views)?.selection;
/// let r = sel.rejected.iter().find(|r| r.tag == "playingpiano").unwrap();
/// assert_eq!(r.reason, "below_views_gate");
/// assert_eq!(r.gate.views(), 0);
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    /// Normal form.
    pub tag: String,
    /// The gate's decision.
    pub gate: GateDecision,
    /// `below_views_gate`; `not_preferred` (passed, but its label had a
    /// better tag: a reserve for the adaptive loop); or `not_a_label_tag`
    /// (passed, but proposed only as an umbrella or a bare object, such as
    /// `dancing` over salsa and tango dancing whose own tags passed, or
    /// `teeth` of brushing teeth).
    pub reason: String,
}

/// What a selection produced.
///
/// ```
/// # use hashtag_select::{OneShot, TagViews, Vocabulary};
/// # let vocab = Vocabulary::from_names("demo", &["playing piano", "juggling"]);
/// # let mut run = OneShot::new(vec![vocab], Default::default(), Default::default(), Default::default())?;
/// # run.add_post(["piano"], Some(1_000));
/// # let mut views = TagViews::default();
/// # views.insert("piano", 9_000_000);
/// // One label "playing piano" (#piano: 9M platform views), one "juggling" (no views).
/// let sel = run.finish(&views)?.selection;
/// assert_eq!(sel.groups.len(), 1);
/// assert_eq!(sel.posts_seen, 1);
/// let u = &sel.labels_without_group[0];
/// assert_eq!((u.label.name.as_str(), u.reason), ("juggling", hashtag_select::UngroupedReason::NoTagPassedGate));
/// assert_eq!(sel.label_map().classes[0].tags, ["piano"]);
/// let path = std::env::temp_dir().join(format!("hs_doc_sel_{}", std::process::id())).join("groups.json");
/// sel.write(&path)?;
/// assert!(path.with_file_name("label_map.json").exists());
/// # std::fs::remove_dir_all(path.parent().unwrap()).ok();
/// # Ok::<(), hashtag_select::HashtagError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Groups, by id.
    pub groups: Vec<ActionGroup>,
    /// Candidates left out.
    pub rejected: Vec<Rejected>,
    /// Labels without a group, and why (no content words, a repeat, no
    /// candidate, or no candidate passed the gate), sorted by label.
    pub labels_without_group: Vec<UngroupedLabel>,
    /// Posts the statistics saw.
    pub posts_seen: u64,
    /// The configuration used.
    pub config: SelectConfig,
}

impl Selection {
    /// The label map: one class per group (its name and member tags).
    pub fn label_map(&self) -> LabelMap {
        LabelMap {
            classes: self
                .groups
                .iter()
                .map(|g| LabelClass {
                    name: g.name.clone(),
                    tags: g.tags.iter().map(|m| m.tag.clone()).collect(),
                })
                .collect(),
        }
    }

    /// Writes the groups JSON to `path` and `label_map.json` + `labels.txt`
    /// next to it (see [`OutputPlan`]): parent folders are created, and the
    /// three files are replaced together or not at all. A `path` that is
    /// one of the side outputs is refused. Callers with input files should
    /// use [`OutputPlan::check_inputs`] first.
    pub fn write(&self, path: &Path) -> Result<(), HashtagError> {
        OutputPlan::new(path)?.write(self)
    }
}
