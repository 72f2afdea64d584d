//! Running the selection over many videos: parallel analysis, ordered
//! near-duplicate judgement, parallel clip writing, report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::analyze::{VideoAnalysis, analyze_video};
use super::plan::{ClipPlan, ClipScores, check_clip, method_for, plan_clip, samples_in};
use super::{Reason, SelectionConfig, VideoInput};
use crate::detect::PersonDetector;
use crate::hash::{HammingIndex, VideoSignature};
use crate::scene::Scene;
use crate::video::{ClipMethod, ClipRequest, Damage, write_clip};
use curation_core::ReasonStats;

/// Why a selection run could not run (per-video problems are reasons in the
/// report, not errors).
///
/// ```
/// use frame_select::select::{SelectError, SelectionConfig, VideoInput, select_videos};
/// let out = std::env::temp_dir().join("frame-select-doc-unused-out");
/// let bad = SelectionConfig { sample_every_s: -1.0, ..Default::default() };
/// let err = select_videos(&[], &bad, None, &out, &|_| {}).unwrap_err();
/// assert!(matches!(err, SelectError::Config(ref m) if m.starts_with("sample_every_s")));
/// // Ids must be safe file stems: fix them with assign_unique_ids first.
/// let inputs = [VideoInput { id: "../x".into(), path: "x.mp4".into() }];
/// let err = select_videos(&inputs, &SelectionConfig::default(), None, &out, &|_| {}).unwrap_err();
/// assert!(matches!(err, SelectError::InputIds { count: 1, .. }));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The configuration is inconsistent.
    #[error("invalid selection config: {0}")]
    Config(String),
    /// An input folder or manifest could not be read.
    #[error("{path}: {reason}")]
    Input {
        /// The folder or manifest.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Input ids that cannot name clip files: not [`super::is_safe_id`],
    /// or held (ignoring ASCII case) by two inputs, whose clips would
    /// overwrite each other. [`super::assign_unique_ids`] fixes them.
    #[error(
        "{count} input id problem(s), e.g. {}; fix them with assign_unique_ids",
        problems.join("; ")
    )]
    InputIds {
        /// The first few problems, each naming the id and its video.
        problems: Vec<String>,
        /// How many problems there are.
        count: usize,
    },
    /// The output folder or a report file could not be written.
    #[error("cannot write output: {0}")]
    Output(#[from] curation_core::CurationError),
}

/// A clip that was kept and written.
///
/// ```no_run
/// use frame_select::select::{SelectionConfig, inputs_from_dir, select_videos};
/// let inputs = inputs_from_dir("videos".as_ref())?;
/// let run = select_videos(&inputs, &SelectionConfig::default(), None, "selected".as_ref(), &|_| {})?;
/// for kept in run.selections.iter().filter_map(|s| s.kept.as_ref()) {
///     assert!(kept.path.starts_with("selected/clips"));
///     println!("{} ({:?}), sidecar {}", kept.path.display(), kept.method, kept.sidecar.display());
/// }
/// # Ok::<(), frame_select::select::SelectError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeptClip {
    /// The MP4 file.
    pub path: PathBuf,
    /// Its JSON sidecar.
    pub sidecar: PathBuf,
    /// Stream copy or re-encode.
    pub method: ClipMethod,
}

/// The decision on one video (one line of `selections.jsonl`; the sidecar
/// of a kept clip holds the same).
///
/// ```
/// # let out = std::env::temp_dir().join(format!("frame-select-doc-selection-{}", std::process::id()));
/// use frame_select::select::{Reason, SelectionConfig, VideoInput, select_videos};
/// let inputs = [VideoInput { id: "gone".into(), path: out.join("no-such-video.mp4") }];
/// let run = select_videos(&inputs, &SelectionConfig::default(), None, &out, &|_| {})?;
/// let selection = &run.selections[0];
/// assert_eq!(selection.id, "gone");
/// assert_eq!(selection.reasons, vec![Reason::DecodeFailed]);
/// assert!(selection.kept.is_none() && selection.plan.is_none());
/// # std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VideoSelection {
    /// Input id.
    pub id: String,
    /// Source video.
    pub source: PathBuf,
    /// Frame rate used for times.
    pub fps: f64,
    /// Frames decoded.
    pub frames: u64,
    /// Scenes found.
    pub scenes: Vec<Scene>,
    /// The planned clip, if one could be planned.
    pub plan: Option<ClipPlan>,
    /// Clip start and end in seconds.
    pub clip_seconds: Option<(f64, f64)>,
    /// Scores of the planned clip.
    pub scores: Option<ClipScores>,
    /// Near-duplicate signature of the whole video.
    pub signature: VideoSignature,
    /// Person detector used (`None` when disabled).
    pub person_detector: Option<String>,
    /// Failed checks, first one first (empty = kept).
    pub reasons: Vec<Reason>,
    /// A human-readable line per failed check.
    pub details: Vec<String>,
    /// Decode problems that did not stop the selection (a stream that broke
    /// part way, skipped packets, a truncated file).
    pub warnings: Vec<String>,
    /// What decoding saw wrong: frames decoded vs announced by the
    /// container, FFmpeg's errors. `damage.damaged` marks a video whose
    /// decision rests on part of it only.
    #[serde(default)]
    pub damage: Damage,
    /// The written clip.
    pub kept: Option<KeptClip>,
}

/// Counts of a selection run, in curation-core's report style: each video
/// is counted under its first reason (`first`) and every reason (`any`).
///
/// ```
/// # let out = std::env::temp_dir().join(format!("frame-select-doc-report-{}", std::process::id()));
/// use frame_select::select::{Reason, SelectionConfig, SelectionReport, VideoInput, select_videos};
/// let inputs = [VideoInput { id: "gone".into(), path: out.join("no-such-video.mp4") }];
/// let run = select_videos(&inputs, &SelectionConfig::default(), None, &out, &|_| {})?;
/// assert_eq!((run.report.videos_read, run.report.kept, run.report.rejected), (1, 0, 1));
/// assert!(run.report.reasons.contains_key(&Reason::DecodeFailed));
/// // The same counts are written to `report.json`.
/// let saved: SelectionReport = serde_json::from_slice(&std::fs::read(out.join("report.json"))?)?;
/// assert_eq!(saved, run.report);
/// # std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SelectionReport {
    /// Videos given.
    pub videos_read: u64,
    /// Clips kept.
    pub kept: u64,
    /// Videos rejected.
    pub rejected: u64,
    /// Per reason, in check order (keys are [`Reason::name`]s in JSON).
    pub reasons: BTreeMap<Reason, ReasonStats>,
    /// Videos whose decoding stopped early, skipped packets, met FFmpeg
    /// errors or gave fewer frames than the container announces (kept or
    /// not).
    pub damaged: u64,
    /// Up to [`curation_core::EXAMPLES_PER_REASON`] ids of damaged videos.
    #[serde(default)]
    pub damaged_examples: Vec<String>,
    /// Frames the containers of damaged videos announce but that could not
    /// be decoded.
    #[serde(default)]
    pub frames_missing: u64,
    /// Frames decoded over all videos.
    pub frames_decoded: u64,
}

impl SelectionReport {
    fn count(&mut self, s: &VideoSelection) {
        self.videos_read += 1;
        self.frames_decoded += s.frames;
        if s.damage.damaged || !s.warnings.is_empty() {
            self.damaged += 1;
            if self.damaged_examples.len() < curation_core::EXAMPLES_PER_REASON {
                self.damaged_examples.push(s.id.clone());
            }
        }
        self.frames_missing += s.damage.missing_frames();
        if s.reasons.is_empty() {
            self.kept += 1;
            return;
        }
        self.rejected += 1;
        for (i, r) in s.reasons.iter().enumerate() {
            self.reasons.entry(*r).or_default().record(&s.id, i == 0);
        }
    }
}

/// What [`select_videos`] produced.
///
/// ```
/// # let out = std::env::temp_dir().join(format!("frame-select-doc-run-{}", std::process::id()));
/// use frame_select::select::{SelectionConfig, VideoInput, select_videos};
/// let inputs: Vec<VideoInput> = ["a", "b"]
///     .map(|id| VideoInput { id: id.into(), path: out.join(format!("{id}.mp4")) })
///     .into();
/// let run = select_videos(&inputs, &SelectionConfig::default(), None, &out, &|_| {})?;
/// // One decision per input, in input order.
/// let ids: Vec<&str> = run.selections.iter().map(|s| s.id.as_str()).collect();
/// assert_eq!(ids, ["a", "b"]);
/// assert_eq!(run.report.videos_read, 2);
/// # std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SelectionRun {
    /// One decision per input, in input order.
    pub selections: Vec<VideoSelection>,
    /// The counts.
    pub report: SelectionReport,
}

fn rejected(input: &VideoInput, reason: Reason, detail: String) -> VideoSelection {
    VideoSelection {
        id: input.id.clone(),
        source: input.path.clone(),
        reasons: vec![reason],
        details: vec![detail],
        ..VideoSelection::default()
    }
}

/// Analyses, plans, detects and checks one video (no writing).
fn judge(
    input: &VideoInput,
    config: &SelectionConfig,
    detector: Option<&dyn PersonDetector>,
    threads: usize,
) -> VideoSelection {
    let mut analysis: VideoAnalysis = match analyze_video(&input.path, config, threads) {
        Ok(a) => a,
        Err(e) => return rejected(input, Reason::DecodeFailed, format!("{} ({})", e, e.kind())),
    };
    let mut warnings = Vec::new();
    if let Some(e) = &analysis.decode_error {
        warnings.push(format!(
            "decoding stopped after {} frames: {e}",
            analysis.decoded
        ));
    }
    if analysis.failed_packets > 0 {
        warnings.push(format!(
            "{} packets could not be decoded and were skipped",
            analysis.failed_packets
        ));
    }
    let missing = analysis.damage.missing_frames();
    if missing > 0 {
        warnings.push(format!(
            "damaged: {missing} frames missing: {}",
            analysis.damage.summary()
        ));
    } else if analysis.damage.error_count > 0 && analysis.decode_error.is_none() {
        warnings.push(format!("damaged: {}", analysis.damage.summary()));
    }
    let hashes: Vec<(u64, u64)> = analysis
        .samples
        .iter()
        .filter(|s| !s.quality.blank)
        .map(|s| (s.phash, s.dhash))
        .collect();
    let fps = if analysis.info.fps > 0.0 {
        analysis.info.fps
    } else {
        25.0
    };
    let mut selection = VideoSelection {
        id: input.id.clone(),
        source: input.path.clone(),
        fps,
        frames: analysis.decoded,
        scenes: analysis.scenes.clone(),
        signature: VideoSignature::from_frame_hashes(&hashes, config.signature_frames),
        person_detector: detector.map(|d| d.name().to_string()),
        warnings,
        damage: analysis.damage.clone(),
        ..VideoSelection::default()
    };
    let plan = match plan_clip(&analysis, config) {
        Ok(p) => p,
        Err((reason, detail)) => {
            let reason = if analysis.decoded == 0 && analysis.decode_error.is_some() {
                Reason::DecodeFailed
            } else {
                reason
            };
            selection.reasons.push(reason);
            selection.details.push(detail);
            return selection;
        }
    };
    if let Some(detector) = detector {
        let inside = samples_in(&analysis, &plan);
        let picks: Vec<usize> = match config.person_samples {
            k if k == 0 || inside.len() <= k => inside,
            k => (0..k)
                .map(|j| inside[(j * inside.len() + inside.len() / 2) / k])
                .collect(),
        };
        for i in picks {
            // A detector failure on one frame counts as "no person there"
            // and is reported, rather than losing the whole video.
            match detector.detect(analysis.sample_pixels[i].view()) {
                Ok(found) => analysis.samples[i].persons = Some(found.len()),
                Err(e) => {
                    analysis.samples[i].persons = Some(0);
                    selection.warnings.push(format!(
                        "person detector failed on frame {}: {e}",
                        analysis.samples[i].index
                    ));
                }
            }
        }
    }
    let (scores, failures) = check_clip(&analysis, &plan, config);
    for (r, d) in failures {
        selection.reasons.push(r);
        selection.details.push(d);
    }
    selection.clip_seconds = Some((plan.start_frame as f64 / fps, plan.end_frame as f64 / fps));
    selection.plan = Some(plan);
    selection.scores = Some(scores);
    selection
}

/// Selects clips from `inputs`, writing `out/clips/<id>.mp4` and
/// `<id>.json` sidecars for kept clips, and `out/selections.jsonl`,
/// `out/report.json` and `out/selection_config.json`. `progress` is called
/// once per analysed video (from worker threads).
///
/// Runs without any video decodable too: each input gets a decision, and the
/// report files are written.
///
/// ```
/// # let out = std::env::temp_dir().join(format!("frame-select-doc-select-{}", std::process::id()));
/// use frame_select::select::{SelectionConfig, VideoInput, VideoSelection, select_videos};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let inputs = [VideoInput { id: "gone".into(), path: out.join("no-such-video.mp4") }];
/// let done = AtomicUsize::new(0);
/// let progress = |_: &VideoSelection| { done.fetch_add(1, Ordering::Relaxed); };
/// let run = select_videos(&inputs, &SelectionConfig::default(), None, &out, &progress)?;
/// assert_eq!(done.load(Ordering::Relaxed), 1);
/// assert_eq!(run.report.rejected, 1);
/// for name in ["selections.jsonl", "report.json", "selection_config.json"] {
///     assert!(out.join(name).is_file());
/// }
/// # std::fs::remove_dir_all(&out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn select_videos(
    inputs: &[VideoInput],
    config: &SelectionConfig,
    detector: Option<&dyn PersonDetector>,
    out: &Path,
    progress: &(dyn Fn(&VideoSelection) + Sync),
) -> Result<SelectionRun, SelectError> {
    config.validate().map_err(SelectError::Config)?;
    let (problems, count) = super::inputs::id_problems(inputs);
    if count > 0 {
        return Err(SelectError::InputIds { problems, count });
    }
    // Never write over an input: the report files, and each clip and
    // sidecar (an input folder inside `out/clips` would otherwise have its
    // videos replaced by their clips).
    let inputs_canon: std::collections::HashSet<PathBuf> = inputs
        .iter()
        .filter_map(|i| std::fs::canonicalize(&i.path).ok())
        .collect();
    let is_input = |p: &Path| std::fs::canonicalize(p).is_ok_and(|c| inputs_canon.contains(&c));
    for name in ["selections.jsonl", "report.json", "selection_config.json"] {
        let p = out.join(name);
        if is_input(&p) {
            return Err(SelectError::Input {
                path: p,
                reason: "this output file is one of the input videos; choose another --out".into(),
            });
        }
    }
    let clips_dir = out.join("clips");
    // "File exists" alone would not say which part of the path is a file.
    for dir in [out, clips_dir.as_path()] {
        if let Ok(meta) = std::fs::metadata(dir)
            && !meta.is_dir()
        {
            return Err(SelectError::Input {
                path: dir.to_path_buf(),
                reason: "the output folder is an existing file, not a folder".into(),
            });
        }
    }
    std::fs::create_dir_all(&clips_dir).map_err(|e| SelectError::Input {
        path: clips_dir.clone(),
        reason: format!("cannot create the output folder: {e}"),
    })?;
    // One FFmpeg thread per video when videos run side by side; all cores
    // for a single video.
    let threads = if inputs.len() > 1 && rayon::current_num_threads() > 1 {
        1
    } else {
        0
    };
    let mut selections: Vec<VideoSelection> = inputs
        .par_iter()
        .map(|input| {
            let s = judge(input, config, detector, threads);
            progress(&s);
            s
        })
        .collect();

    // Near-duplicates, in input order, among clips that passed the checks.
    let mut index = HammingIndex::new();
    for s in selections.iter_mut().filter(|s| s.reasons.is_empty()) {
        let dups = index.find_duplicates(
            &s.signature,
            config.duplicate_radius,
            config.duplicate_min_share,
        );
        if let Some(first) = dups.first() {
            s.reasons.push(Reason::NearDuplicate);
            s.details.push(format!(
                "near-duplicate of {} ({:.0}% of frames match)",
                first.video,
                first.matched_fraction * 100.0
            ));
        } else {
            index.insert(&s.id, &s.signature);
        }
    }

    selections
        .par_iter_mut()
        .filter(|s| config.write_clips && s.reasons.is_empty())
        .for_each(|s| {
            let plan = s.plan.expect("kept selections have a plan");
            let clip_path = clips_dir.join(format!("{}.mp4", s.id));
            let sidecar = clips_dir.join(format!("{}.json", s.id));
            if let Some(p) = [&clip_path, &sidecar].into_iter().find(|p| is_input(p)) {
                s.reasons.push(Reason::WriteFailed);
                s.details.push(format!(
                    "{}: output would overwrite an input video; not written",
                    p.display()
                ));
                return;
            }
            let request = ClipRequest {
                start_frame: plan.start_frame,
                end_frame: plan.end_frame,
                method: method_for(&plan, config),
            };
            match write_clip(&s.source, &request, &clip_path) {
                Ok(written) => {
                    s.kept = Some(KeptClip {
                        path: written.path,
                        sidecar: sidecar.clone(),
                        method: written.method,
                    });
                    if let Err(e) = curation_core::atomic::write_json(&sidecar, &*s) {
                        s.kept = None;
                        let _ = std::fs::remove_file(&clip_path);
                        s.reasons.push(Reason::WriteFailed);
                        s.details.push(format!("sidecar: {e}"));
                    }
                }
                Err(e) => {
                    s.reasons.push(Reason::WriteFailed);
                    s.details.push(e.to_string());
                }
            }
        });

    let mut report = SelectionReport::default();
    let mut lines = curation_core::atomic::AtomicFile::create(out.join("selections.jsonl"))?;
    for s in &selections {
        report.count(s);
        lines.line(serde_json::to_string(s).expect("selections serialise"))?;
    }
    lines.commit()?;
    curation_core::atomic::write_json(&out.join("report.json"), &report)?;
    curation_core::atomic::write_json(&out.join("selection_config.json"), config)?;
    Ok(SelectionRun { selections, report })
}
