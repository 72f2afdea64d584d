//! Adaptive cut detection, equivalent to PySceneDetect 0.7's
//! `AdaptiveDetector`: a frame is a cut when its content score stands out
//! from the average of its `window_width` neighbours on each side by
//! `adaptive_threshold` times, and is at least `min_content_val`. Robust to
//! fast camera motion, where every frame scores high.

use std::collections::VecDeque;

use super::content::{ComponentWeights, FrameScore, FrameScorer, MAX_SCORE, check_range};
use super::hsv::HsvPlanes;

/// Settings of [`AdaptiveDetector`]; defaults are PySceneDetect's.
///
/// ```
/// use frame_select::scene::AdaptiveConfig;
/// let mut config = AdaptiveConfig { min_scene_len: 30, ..AdaptiveConfig::default() };
/// assert_eq!(config.adaptive_threshold, 3.0);
/// assert!(config.validate().is_ok());
/// config.window_width = 0;
/// assert!(config.validate().unwrap_err().starts_with("window_width"));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptiveConfig {
    /// Ratio of a frame's score to its neighbourhood average that makes a
    /// cut (3.0).
    pub adaptive_threshold: f64,
    /// Minimum scene length in frames (15).
    pub min_scene_len: u64,
    /// Neighbours on each side averaged (2; at least 1).
    pub window_width: usize,
    /// Minimum content score of a cut frame (15.0).
    pub min_content_val: f64,
    /// Component weights of the content score.
    pub weights: ComponentWeights,
    /// Score luma only (overrides `weights`).
    pub luma_only: bool,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            adaptive_threshold: 3.0,
            min_scene_len: 15,
            window_width: 2,
            min_content_val: 15.0,
            weights: ComponentWeights::DEFAULT,
            luma_only: false,
        }
    }
}

/// Largest `window_width` accepted: the detector buffers `2 w + 1` scores
/// and lags `w` frames; wider windows are surely typos.
pub const MAX_WINDOW_WIDTH: usize = 10_000;

impl AdaptiveConfig {
    /// Checks every field; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        check_range(
            "adaptive_threshold",
            self.adaptive_threshold,
            0.0,
            true,
            MAX_SCORE,
        )?;
        check_range(
            "min_content_val",
            self.min_content_val,
            0.0,
            false,
            MAX_SCORE,
        )?;
        if self.window_width == 0 || self.window_width > MAX_WINDOW_WIDTH {
            return Err(format!(
                "window_width must be in [1, {MAX_WINDOW_WIDTH}], got {}",
                self.window_width
            ));
        }
        if !self.luma_only {
            self.weights.validate()?;
        }
        Ok(())
    }
}

/// Streaming adaptive detector. Its decisions lag `window_width` frames
/// behind the frame fed.
///
/// ```
/// use frame_select::scene::{AdaptiveConfig, AdaptiveDetector, HsvPlanes};
/// // Uniform grey frames of a given brightness.
/// let grey = |v: u8| HsvPlanes { width: 2, height: 1, hue: vec![0; 2], sat: vec![0; 2], lum: vec![v; 2] };
/// let mut detector = AdaptiveDetector::new(&AdaptiveConfig { luma_only: true, ..Default::default() });
/// let mut cuts = Vec::new();
/// // Slow brightening (one step per frame), then one jump of 100 at frame 30.
/// for frame in 0..50u64 {
///     let level = frame as u8 + if frame >= 30 { 100 } else { 0 };
///     cuts.extend(detector.process(frame, grey(level)).cut);
/// }
/// assert_eq!(cuts, vec![30]);
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveDetector {
    config: AdaptiveConfig,
    scorer: FrameScorer,
    buffer: VecDeque<(u64, f64)>,
    last_cut: Option<u64>,
}

/// What [`AdaptiveDetector::process`] found.
///
/// ```
/// use frame_select::scene::{AdaptiveConfig, AdaptiveDetector, HsvPlanes};
/// let black = HsvPlanes { width: 1, height: 1, hue: vec![0], sat: vec![0], lum: vec![0] };
/// let mut detector = AdaptiveDetector::new(&AdaptiveConfig::default()); // window_width 2
/// let steps: Vec<_> = (0..5u64).map(|f| detector.process(f, black.clone())).collect();
/// assert_eq!(steps[0].score, None); // nothing to compare the first frame with
/// assert_eq!(steps[3].ratio, None); // window not full yet
/// // The fifth frame completes frame 2's window; nothing changed, ratio 0.
/// assert_eq!(steps[4].ratio, Some((2, 0.0)));
/// assert_eq!(steps[4].cut, None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AdaptiveStep {
    /// Score of the frame fed (`None` for the first frame).
    pub score: Option<FrameScore>,
    /// `(frame, adaptive_ratio)` of the frame `window_width` behind, once
    /// the window is full.
    pub ratio: Option<(u64, f64)>,
    /// A confirmed cut.
    pub cut: Option<u64>,
}

impl AdaptiveDetector {
    /// A detector with `config` (`window_width` 0 is raised to 1).
    pub fn new(config: &AdaptiveConfig) -> Self {
        let mut config = config.clone();
        config.window_width = config.window_width.clamp(1, MAX_WINDOW_WIDTH);
        let weights = if config.luma_only {
            ComponentWeights::LUMA_ONLY
        } else {
            config.weights
        };
        Self {
            config,
            scorer: FrameScorer::new(weights),
            buffer: VecDeque::new(),
            last_cut: None,
        }
    }

    /// Processes frame number `frame` (sequential).
    pub fn process(&mut self, frame: u64, planes: HsvPlanes) -> AdaptiveStep {
        let score = self.scorer.score(planes);
        let value = score.map_or(0.0, |s| s.content_val);
        let last_cut = *self.last_cut.get_or_insert(frame);
        let w = self.config.window_width;
        let required = 1 + 2 * w;
        self.buffer.push_back((frame, value));
        if self.buffer.len() < required {
            return AdaptiveStep {
                score,
                ratio: None,
                cut: None,
            };
        }
        while self.buffer.len() > required {
            self.buffer.pop_front();
        }
        let (target, target_score) = self.buffer[w];
        // Same summation order as PySceneDetect's generator.
        let mut sum = 0.0;
        for (i, (_, s)) in self.buffer.iter().enumerate() {
            if i != w {
                sum += s;
            }
        }
        let average = sum / (2.0 * w as f64);
        let ratio = if average.abs() >= 0.00001 {
            (target_score / average).min(255.0)
        } else if target_score >= self.config.min_content_val {
            255.0
        } else {
            0.0
        };
        let threshold_met =
            ratio >= self.config.adaptive_threshold && target_score >= self.config.min_content_val;
        let length_met = target.saturating_sub(last_cut) >= self.config.min_scene_len;
        let cut = (threshold_met && length_met).then(|| {
            self.last_cut = Some(target);
            target
        });
        AdaptiveStep {
            score,
            ratio: Some((target, ratio)),
            cut,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(v: u8) -> HsvPlanes {
        HsvPlanes {
            width: 2,
            height: 1,
            hue: vec![0; 2],
            sat: vec![0; 2],
            lum: vec![v; 2],
        }
    }

    #[test]
    fn an_isolated_jump_is_a_cut_steady_motion_is_not() {
        let mut d = AdaptiveDetector::new(&AdaptiveConfig {
            luma_only: true,
            ..Default::default()
        });
        // Luma steps by 10 every frame (steady motion, score 10 < 15 and
        // ratio 1), then one jump of 100 at frame 30.
        let mut cuts = Vec::new();
        let mut level = 0u8;
        for frame in 0..50u64 {
            level = if frame == 30 {
                level.wrapping_add(100)
            } else {
                level.wrapping_add(1)
            };
            cuts.extend(d.process(frame, flat(level)).cut);
        }
        assert_eq!(cuts, vec![30]);
    }
}
