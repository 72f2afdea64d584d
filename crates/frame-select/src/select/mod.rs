//! The selection stage: from a folder or manifest of videos to clips,
//! sidecars and a report, decoding each video once.
//!
//! Per video: one decoding pass ([`analyze::analyze_video`]) runs the shot
//! detector on every frame and measures quality, hashes and motion on
//! sampled frames; the longest scene is trimmed to a clip
//! ([`plan::plan_clip`]); the person detector runs on the samples inside the
//! clip; the checks ([`plan::check_clip`]) and a near-duplicate test against
//! the clips already kept decide; kept clips are written by stream copy when
//! they start on a keyframe, else re-encoded. Videos run in parallel (rayon);
//! duplicates are judged in input order, so results do not depend on
//! scheduling.

pub mod analyze;
mod config;
mod inputs;
pub mod plan;
mod run;

pub use config::{PersonDetectorKind, SelectionConfig};
pub use inputs::{
    MAX_ID_CHARS, VideoInput, assign_unique_ids, inputs_from_dir, inputs_from_manifest, is_safe_id,
    safe_id,
};
pub use run::{
    KeptClip, SelectError, SelectionReport, SelectionRun, VideoSelection, select_videos,
};

/// Why a video yields no clip, in check order. Serialised (in
/// `selections.jsonl`, sidecars and as `report.json`'s keys) as its
/// [`Reason::name`], e.g. `"no_person"`.
///
/// ```
/// use frame_select::select::Reason;
/// assert_eq!(serde_json::to_string(&Reason::NoPerson).unwrap(), r#""no_person""#);
/// assert_eq!("scene_too_short".parse::<Reason>(), Ok(Reason::SceneTooShort));
/// assert_eq!(Reason::NearDuplicate.to_string(), "near_duplicate");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The file could not be opened or decoded at all.
    DecodeFailed,
    /// No frame decoded.
    NoFrames,
    /// The longest scene is shorter than the minimum clip length.
    SceneTooShort,
    /// Too few sampled frames show a person.
    NoPerson,
    /// Too many blank frames.
    Blank,
    /// Too blurry.
    Blurry,
    /// Too many clipped pixels.
    BadExposure,
    /// Frozen picture.
    Static,
    /// A near-duplicate of a clip kept earlier in the run.
    NearDuplicate,
    /// The clip could not be written.
    WriteFailed,
}

impl Reason {
    /// Every reason, in check order.
    pub const ALL: [Reason; 10] = [
        Reason::DecodeFailed,
        Reason::NoFrames,
        Reason::SceneTooShort,
        Reason::NoPerson,
        Reason::Blank,
        Reason::Blurry,
        Reason::BadExposure,
        Reason::Static,
        Reason::NearDuplicate,
        Reason::WriteFailed,
    ];

    /// The snake_case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Reason::DecodeFailed => "decode_failed",
            Reason::NoFrames => "no_frames",
            Reason::SceneTooShort => "scene_too_short",
            Reason::NoPerson => "no_person",
            Reason::Blank => "blank",
            Reason::Blurry => "blurry",
            Reason::BadExposure => "bad_exposure",
            Reason::Static => "static",
            Reason::NearDuplicate => "near_duplicate",
            Reason::WriteFailed => "write_failed",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`Reason`]'s.
///
/// ```
/// use frame_select::select::{Reason, UnknownReason};
/// let err = "too_dark".parse::<Reason>().unwrap_err();
/// assert_eq!(err, UnknownReason("too_dark".into()));
/// assert_eq!(err.to_string(), r#"unknown selection reason "too_dark""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown selection reason {0:?}")]
pub struct UnknownReason(pub String);

impl std::str::FromStr for Reason {
    type Err = UnknownReason;

    /// The reason named `s` ([`Reason::name`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownReason(s.chars().take(40).collect()))
    }
}
