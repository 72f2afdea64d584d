//! From an analysed video to a decision: which frames become the clip, and
//! whether that clip passes the person and quality checks.

use super::analyze::VideoAnalysis;
use super::{Reason, SelectionConfig};
use crate::quality::QualitySummary;
use crate::scene::{Scene, longest_scene};
use crate::video::ClipMethod;

/// The frames chosen for the clip.
///
/// ```
/// # use frame_select::quality::{FrameQuality, QualityThresholds};
/// # use frame_select::scene::Scene;
/// # use frame_select::select::analyze::{SampleRecord, VideoAnalysis};
/// # use frame_select::video::{Damage, VideoInfo};
/// # // A hand-made analysis of a 10 fps, 100-frame video: scenes 0..30 and
/// # // 30..100, keyframes at 0 and 40, sharp samples at frames 10, 50, 60, 70.
/// # let info = VideoInfo { path: "v.mp4".into(), width: 64, height: 64, fps: 10.0,
/// #     frame_count: Some(100), duration_s: Some(10.0), codec: "h264".into(),
/// #     pixel_format: "yuv420p".into(), rotation_degrees: 0, stream_index: 0 };
/// # let checker = frame_select::ndarray::Array2::from_shape_fn((8, 8), |(y, x)| if (x + y) % 2 == 0 { 60u8 } else { 190 });
/// # let quality = FrameQuality::measure(checker.view(), &QualityThresholds::default());
/// # let sample = |index: u64, persons: usize| SampleRecord { index, time_s: index as f64 / 10.0,
/// #     quality, phash: 0, dhash: 0, motion: Some(5.0), persons: Some(persons) };
/// # let analysis = VideoAnalysis { info, decoded: 100, frames: 100, cuts: vec![30],
/// #     scenes: vec![Scene { start: 0, end: 30 }, Scene { start: 30, end: 100 }],
/// #     keyframes: vec![0, 40],
/// #     samples: vec![sample(10, 0), sample(50, 1), sample(60, 0), sample(70, 1)],
/// #     sample_pixels: vec![], decode_error: None, failed_packets: 0, damage: Damage::default() };
/// use frame_select::select::{SelectionConfig, plan::plan_clip};
/// let plan = plan_clip(&analysis, &SelectionConfig::default()).unwrap();
/// // The longest scene, 30..100, from its first keyframe on.
/// assert_eq!(plan.scene, Scene { start: 30, end: 100 });
/// assert_eq!((plan.start_frame, plan.end_frame), (40, 100));
/// assert!(plan.starts_on_keyframe);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipPlan {
    /// The scene the clip comes from (the longest).
    pub scene: Scene,
    /// First frame (inclusive).
    pub start_frame: u64,
    /// End frame (exclusive).
    pub end_frame: u64,
    /// Whether the clip starts on a keyframe (stream copy possible).
    pub starts_on_keyframe: bool,
}

/// Picks the clip inside the longest scene: the whole scene if it is no
/// longer than `clip_max_s`, else a `clip_max_s` window. Windows prefer to
/// start on a keyframe (so the clip can be stream-copied); without one in
/// reach the window is centred in the scene.
///
/// ```
/// # use frame_select::quality::{FrameQuality, QualityThresholds};
/// # use frame_select::scene::Scene;
/// # use frame_select::select::analyze::{SampleRecord, VideoAnalysis};
/// # use frame_select::video::{Damage, VideoInfo};
/// # // A hand-made analysis of a 10 fps, 100-frame video: scenes 0..30 and
/// # // 30..100, keyframes at 0 and 40, sharp samples at frames 10, 50, 60, 70.
/// # let info = VideoInfo { path: "v.mp4".into(), width: 64, height: 64, fps: 10.0,
/// #     frame_count: Some(100), duration_s: Some(10.0), codec: "h264".into(),
/// #     pixel_format: "yuv420p".into(), rotation_degrees: 0, stream_index: 0 };
/// # let checker = frame_select::ndarray::Array2::from_shape_fn((8, 8), |(y, x)| if (x + y) % 2 == 0 { 60u8 } else { 190 });
/// # let quality = FrameQuality::measure(checker.view(), &QualityThresholds::default());
/// # let sample = |index: u64, persons: usize| SampleRecord { index, time_s: index as f64 / 10.0,
/// #     quality, phash: 0, dhash: 0, motion: Some(5.0), persons: Some(persons) };
/// # let analysis = VideoAnalysis { info, decoded: 100, frames: 100, cuts: vec![30],
/// #     scenes: vec![Scene { start: 0, end: 30 }, Scene { start: 30, end: 100 }],
/// #     keyframes: vec![0, 40],
/// #     samples: vec![sample(10, 0), sample(50, 1), sample(60, 0), sample(70, 1)],
/// #     sample_pixels: vec![], decode_error: None, failed_packets: 0, damage: Damage::default() };
/// use frame_select::select::{Reason, SelectionConfig, plan::plan_clip};
/// // 3 s at most (30 frames): a window starting on the keyframe at 40.
/// let short = SelectionConfig { clip_max_s: 3.0, ..Default::default() };
/// let plan = plan_clip(&analysis, &short).unwrap();
/// assert_eq!((plan.start_frame, plan.end_frame), (40, 70));
/// // Clips of 8 s at least: the 7 s scene is too short.
/// let long = SelectionConfig { clip_min_s: 8.0, ..Default::default() };
/// let (reason, _detail) = plan_clip(&analysis, &long).unwrap_err();
/// assert_eq!(reason, Reason::SceneTooShort);
/// ```
pub fn plan_clip(
    analysis: &VideoAnalysis,
    config: &SelectionConfig,
) -> Result<ClipPlan, (Reason, String)> {
    let fps = if analysis.info.fps > 0.0 {
        analysis.info.fps
    } else {
        25.0
    };
    let Some(scene) = longest_scene(&analysis.scenes) else {
        return Err((Reason::NoFrames, "no frame could be decoded".into()));
    };
    let min_frames = (config.clip_min_s * fps).ceil() as u64;
    let max_frames = ((config.clip_max_s * fps).floor() as u64).max(min_frames);
    if scene.len() < min_frames {
        return Err((
            Reason::SceneTooShort,
            format!(
                "longest scene {}..{} is {:.2} s < {:.2} s",
                scene.start,
                scene.end,
                scene.len() as f64 / fps,
                config.clip_min_s
            ),
        ));
    }
    let is_key = |f: u64| analysis.keyframes.binary_search(&f).is_ok();
    if scene.len() <= max_frames {
        if is_key(scene.start) {
            return Ok(ClipPlan {
                scene,
                start_frame: scene.start,
                end_frame: scene.end,
                starts_on_keyframe: true,
            });
        }
        // A later keyframe that still leaves a long enough clip.
        if let Some(&k) = analysis
            .keyframes
            .iter()
            .find(|&&k| k > scene.start && k + min_frames <= scene.end)
        {
            return Ok(ClipPlan {
                scene,
                start_frame: k,
                end_frame: scene.end,
                starts_on_keyframe: true,
            });
        }
        return Ok(ClipPlan {
            scene,
            start_frame: scene.start,
            end_frame: scene.end,
            starts_on_keyframe: false,
        });
    }
    // Longer than allowed: a max-length window.
    let latest_start = scene.end - max_frames;
    let centre = scene.start + (scene.len() - max_frames) / 2;
    let key = analysis
        .keyframes
        .iter()
        .copied()
        .filter(|&k| k >= scene.start && k <= latest_start)
        .min_by_key(|&k| k.abs_diff(centre));
    let start = key.unwrap_or(centre);
    Ok(ClipPlan {
        scene,
        start_frame: start,
        end_frame: start + max_frames,
        starts_on_keyframe: key.is_some(),
    })
}

/// Measures of the planned clip, from the samples inside it.
///
/// ```
/// # use frame_select::quality::{FrameQuality, QualityThresholds};
/// # use frame_select::scene::Scene;
/// # use frame_select::select::analyze::{SampleRecord, VideoAnalysis};
/// # use frame_select::video::{Damage, VideoInfo};
/// # // A hand-made analysis of a 10 fps, 100-frame video: scenes 0..30 and
/// # // 30..100, keyframes at 0 and 40, sharp samples at frames 10, 50, 60, 70.
/// # let info = VideoInfo { path: "v.mp4".into(), width: 64, height: 64, fps: 10.0,
/// #     frame_count: Some(100), duration_s: Some(10.0), codec: "h264".into(),
/// #     pixel_format: "yuv420p".into(), rotation_degrees: 0, stream_index: 0 };
/// # let checker = frame_select::ndarray::Array2::from_shape_fn((8, 8), |(y, x)| if (x + y) % 2 == 0 { 60u8 } else { 190 });
/// # let quality = FrameQuality::measure(checker.view(), &QualityThresholds::default());
/// # let sample = |index: u64, persons: usize| SampleRecord { index, time_s: index as f64 / 10.0,
/// #     quality, phash: 0, dhash: 0, motion: Some(5.0), persons: Some(persons) };
/// # let analysis = VideoAnalysis { info, decoded: 100, frames: 100, cuts: vec![30],
/// #     scenes: vec![Scene { start: 0, end: 30 }, Scene { start: 30, end: 100 }],
/// #     keyframes: vec![0, 40],
/// #     samples: vec![sample(10, 0), sample(50, 1), sample(60, 0), sample(70, 1)],
/// #     sample_pixels: vec![], decode_error: None, failed_packets: 0, damage: Damage::default() };
/// use frame_select::select::{SelectionConfig, plan::{check_clip, plan_clip}};
/// let config = SelectionConfig::default();
/// let plan = plan_clip(&analysis, &config).unwrap();
/// let (scores, _failed) = check_clip(&analysis, &plan, &config);
/// // Samples 50, 60 and 70 fall in the clip 40..100; two show a person.
/// assert_eq!(scores.samples, 3);
/// assert_eq!(scores.person_share, Some(2.0 / 3.0));
/// assert_eq!(scores.quality.motion, Some(5.0));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipScores {
    /// Quality over the clip's samples.
    pub quality: QualitySummary,
    /// Share of the clip's samples with a person (`None` when no detector
    /// ran).
    pub person_share: Option<f64>,
    /// Samples inside the clip.
    pub samples: usize,
}

/// Indices into `analysis.samples` that fall inside the plan.
///
/// ```
/// # use frame_select::quality::{FrameQuality, QualityThresholds};
/// # use frame_select::scene::Scene;
/// # use frame_select::select::analyze::{SampleRecord, VideoAnalysis};
/// # use frame_select::video::{Damage, VideoInfo};
/// # // A hand-made analysis of a 10 fps, 100-frame video: scenes 0..30 and
/// # // 30..100, keyframes at 0 and 40, sharp samples at frames 10, 50, 60, 70.
/// # let info = VideoInfo { path: "v.mp4".into(), width: 64, height: 64, fps: 10.0,
/// #     frame_count: Some(100), duration_s: Some(10.0), codec: "h264".into(),
/// #     pixel_format: "yuv420p".into(), rotation_degrees: 0, stream_index: 0 };
/// # let checker = frame_select::ndarray::Array2::from_shape_fn((8, 8), |(y, x)| if (x + y) % 2 == 0 { 60u8 } else { 190 });
/// # let quality = FrameQuality::measure(checker.view(), &QualityThresholds::default());
/// # let sample = |index: u64, persons: usize| SampleRecord { index, time_s: index as f64 / 10.0,
/// #     quality, phash: 0, dhash: 0, motion: Some(5.0), persons: Some(persons) };
/// # let analysis = VideoAnalysis { info, decoded: 100, frames: 100, cuts: vec![30],
/// #     scenes: vec![Scene { start: 0, end: 30 }, Scene { start: 30, end: 100 }],
/// #     keyframes: vec![0, 40],
/// #     samples: vec![sample(10, 0), sample(50, 1), sample(60, 0), sample(70, 1)],
/// #     sample_pixels: vec![], decode_error: None, failed_packets: 0, damage: Damage::default() };
/// use frame_select::select::{SelectionConfig, plan::{plan_clip, samples_in}};
/// let plan = plan_clip(&analysis, &SelectionConfig::default()).unwrap(); // frames 40..100
/// assert_eq!(samples_in(&analysis, &plan), vec![1, 2, 3]); // not the sample at frame 10
/// ```
pub fn samples_in(analysis: &VideoAnalysis, plan: &ClipPlan) -> Vec<usize> {
    (0..analysis.samples.len())
        .filter(|&i| (plan.start_frame..plan.end_frame).contains(&analysis.samples[i].index))
        .collect()
}

/// Scores the clip and lists every check it fails (empty = keep).
///
/// ```
/// # use frame_select::quality::{FrameQuality, QualityThresholds};
/// # use frame_select::scene::Scene;
/// # use frame_select::select::analyze::{SampleRecord, VideoAnalysis};
/// # use frame_select::video::{Damage, VideoInfo};
/// # // A hand-made analysis of a 10 fps, 100-frame video: scenes 0..30 and
/// # // 30..100, keyframes at 0 and 40, sharp samples at frames 10, 50, 60, 70.
/// # let info = VideoInfo { path: "v.mp4".into(), width: 64, height: 64, fps: 10.0,
/// #     frame_count: Some(100), duration_s: Some(10.0), codec: "h264".into(),
/// #     pixel_format: "yuv420p".into(), rotation_degrees: 0, stream_index: 0 };
/// # let checker = frame_select::ndarray::Array2::from_shape_fn((8, 8), |(y, x)| if (x + y) % 2 == 0 { 60u8 } else { 190 });
/// # let quality = FrameQuality::measure(checker.view(), &QualityThresholds::default());
/// # let sample = |index: u64, persons: usize| SampleRecord { index, time_s: index as f64 / 10.0,
/// #     quality, phash: 0, dhash: 0, motion: Some(5.0), persons: Some(persons) };
/// # let analysis = VideoAnalysis { info, decoded: 100, frames: 100, cuts: vec![30],
/// #     scenes: vec![Scene { start: 0, end: 30 }, Scene { start: 30, end: 100 }],
/// #     keyframes: vec![0, 40],
/// #     samples: vec![sample(10, 0), sample(50, 1), sample(60, 0), sample(70, 1)],
/// #     sample_pixels: vec![], decode_error: None, failed_packets: 0, damage: Damage::default() };
/// use frame_select::select::{Reason, SelectionConfig, plan::{check_clip, plan_clip}};
/// let config = SelectionConfig::default();
/// let plan = plan_clip(&analysis, &config).unwrap();
/// let (_scores, failed) = check_clip(&analysis, &plan, &config);
/// assert!(failed.is_empty()); // people in 2 of 3 samples, sharp, moving: kept
/// // Asking for a person in every sampled frame rejects it.
/// let strict = SelectionConfig { min_person_share: 1.0, ..config };
/// let (_scores, failed) = check_clip(&analysis, &plan, &strict);
/// assert_eq!(failed.iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![Reason::NoPerson]);
/// ```
pub fn check_clip(
    analysis: &VideoAnalysis,
    plan: &ClipPlan,
    config: &SelectionConfig,
) -> (ClipScores, Vec<(Reason, String)>) {
    let inside = samples_in(analysis, plan);
    let frames: Vec<_> = inside
        .iter()
        .map(|&i| analysis.samples[i].quality)
        .collect();
    // Motion between consecutive samples both inside the clip.
    let diffs: Vec<f64> = inside
        .iter()
        .skip(1)
        .filter_map(|&i| analysis.samples[i].motion)
        .collect();
    let quality = QualitySummary::of(&frames, &diffs);
    let detected: Vec<usize> = inside
        .iter()
        .filter_map(|&i| analysis.samples[i].persons)
        .collect();
    let person_share = (!detected.is_empty())
        .then(|| detected.iter().filter(|&&n| n > 0).count() as f64 / detected.len() as f64);
    let mut reasons = Vec::new();
    if let Some(share) = person_share
        && share < config.min_person_share
    {
        reasons.push((
            Reason::NoPerson,
            format!(
                "person in {:.0}% of sampled frames < {:.0}%",
                share * 100.0,
                config.min_person_share * 100.0
            ),
        ));
    }
    if quality.blank_fraction > config.max_blank_share {
        reasons.push((
            Reason::Blank,
            format!("{:.0}% blank frames", quality.blank_fraction * 100.0),
        ));
    }
    if quality.frames > 0 && quality.median_sharpness < config.min_sharpness {
        reasons.push((
            Reason::Blurry,
            format!(
                "median sharpness {:.1} < {:.1}",
                quality.median_sharpness, config.min_sharpness
            ),
        ));
    }
    let clipped = quality.dark_fraction.max(quality.bright_fraction);
    if clipped > config.max_clipped_share {
        reasons.push((
            Reason::BadExposure,
            format!("{:.0}% clipped pixels", clipped * 100.0),
        ));
    }
    if let Some(m) = quality.motion
        && m < config.min_motion
    {
        reasons.push((
            Reason::Static,
            format!("mean frame difference {m:.2} < {:.2}", config.min_motion),
        ));
    }
    (
        ClipScores {
            quality,
            person_share,
            samples: inside.len(),
        },
        reasons,
    )
}

/// The write method for a plan under `config`.
///
/// ```
/// use frame_select::scene::Scene;
/// use frame_select::select::{SelectionConfig, plan::{ClipPlan, method_for}};
/// use frame_select::video::ClipMethod;
/// let scene = Scene { start: 0, end: 50 };
/// let on_key = ClipPlan { scene, start_frame: 0, end_frame: 50, starts_on_keyframe: true };
/// let off_key = ClipPlan { starts_on_keyframe: false, ..on_key };
/// let config = SelectionConfig::default(); // clip_method: Auto
/// assert_eq!(method_for(&on_key, &config), ClipMethod::Auto);
/// assert_eq!(method_for(&off_key, &config), ClipMethod::Reencode);
/// ```
pub fn method_for(plan: &ClipPlan, config: &SelectionConfig) -> ClipMethod {
    match config.clip_method {
        ClipMethod::Auto if !plan.starts_on_keyframe => ClipMethod::Reencode,
        m => m,
    }
}
