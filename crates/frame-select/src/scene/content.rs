//! Content-aware cut detection, equivalent to PySceneDetect 0.7's
//! `ContentDetector` (and its `FlashFilter`).
//!
//! Each frame is scored against the previous one by the mean absolute
//! difference of its hue, saturation and value planes, weighted; a score at
//! or above `threshold` is a cut candidate, and the flash filter enforces the
//! minimum scene length.

use super::hsv::{HsvPlanes, mean_pixel_distance};

/// Weights of the score components (PySceneDetect's `Components`, without
/// the edge component, whose default weight is 0).
///
/// ```
/// use frame_select::scene::ComponentWeights;
/// assert_eq!(ComponentWeights::default(), ComponentWeights::DEFAULT);
/// let hue_heavy = ComponentWeights { delta_hue: 2.0, ..ComponentWeights::DEFAULT };
/// assert!(hue_heavy.validate().is_ok());
/// let none = ComponentWeights { delta_hue: 0.0, delta_sat: 0.0, delta_lum: 0.0 };
/// assert!(none.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComponentWeights {
    /// Weight of the hue difference.
    pub delta_hue: f64,
    /// Weight of the saturation difference.
    pub delta_sat: f64,
    /// Weight of the value ("luma") difference.
    pub delta_lum: f64,
}

impl ComponentWeights {
    /// PySceneDetect's defaults: 1, 1, 1.
    pub const DEFAULT: Self = Self {
        delta_hue: 1.0,
        delta_sat: 1.0,
        delta_lum: 1.0,
    };
    /// `luma_only=True`: 0, 0, 1.
    pub const LUMA_ONLY: Self = Self {
        delta_hue: 0.0,
        delta_sat: 0.0,
        delta_lum: 1.0,
    };
}

impl Default for ComponentWeights {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How the minimum scene length is enforced (PySceneDetect's
/// `FlashFilter.Mode`).
///
/// ```
/// use frame_select::scene::FilterMode;
/// use frame_select::scene::content::FlashFilter;
/// assert_eq!(serde_json::to_string(&FilterMode::Suppress).unwrap(), r#""suppress""#);
/// // Suppress: score spikes closer than 3 frames to the last cut are dropped.
/// let mut filter = FlashFilter::new(FilterMode::Suppress, 3);
/// let above = [false, true, false, true, true, false, true];
/// let cuts: Vec<u64> = (0..7u64).filter_map(|f| filter.filter(f, above[f as usize])).collect();
/// assert_eq!(cuts, vec![3, 6]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterMode {
    /// Merge runs of cuts closer than the minimum length into one cut at
    /// the end of the run (the default).
    #[default]
    Merge,
    /// Drop cuts until the minimum length has passed since the last one.
    Suppress,
}

/// Settings of [`ContentDetector`]; defaults are PySceneDetect's.
///
/// ```
/// use frame_select::scene::{ComponentWeights, ContentConfig};
/// let config = ContentConfig { threshold: 20.0, luma_only: true, ..ContentConfig::default() };
/// assert!(config.validate().is_ok());
/// assert_eq!(config.effective_weights(), ComponentWeights::LUMA_ONLY);
/// let bad = ContentConfig { threshold: f64::NAN, ..ContentConfig::default() };
/// assert!(bad.validate().unwrap_err().starts_with("threshold"));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentConfig {
    /// Score at or above which a frame starts a new scene (27).
    pub threshold: f64,
    /// Minimum scene length in frames (15).
    pub min_scene_len: u64,
    /// Component weights.
    pub weights: ComponentWeights,
    /// Score luma only (overrides `weights`).
    pub luma_only: bool,
    /// Flash filter mode.
    pub filter_mode: FilterMode,
}

impl Default for ContentConfig {
    fn default() -> Self {
        Self {
            threshold: 27.0,
            min_scene_len: 15,
            weights: ComponentWeights::DEFAULT,
            luma_only: false,
            filter_mode: FilterMode::Merge,
        }
    }
}

/// Highest content score a frame can get (a full-range change of every
/// component); thresholds above it could never fire.
pub const MAX_SCORE: f64 = 255.0;

/// `Ok` when `v` is finite and in `[lo, hi]` (`lo` excluded when
/// `lo_open`); else a message naming `name`.
pub(crate) fn check_range(
    name: &str,
    v: f64,
    lo: f64,
    lo_open: bool,
    hi: f64,
) -> Result<(), String> {
    let low_ok = if lo_open { v > lo } else { v >= lo };
    if v.is_finite() && low_ok && v <= hi {
        Ok(())
    } else {
        let open = if lo_open { "(" } else { "[" };
        Err(format!(
            "{name} must be a finite number in {open}{lo}, {hi}], got {v}"
        ))
    }
}

impl ComponentWeights {
    /// Checks each weight is finite and >= 0 and that one is > 0.
    pub fn validate(&self) -> Result<(), String> {
        check_range("weights.delta_hue", self.delta_hue, 0.0, false, f64::MAX)?;
        check_range("weights.delta_sat", self.delta_sat, 0.0, false, f64::MAX)?;
        check_range("weights.delta_lum", self.delta_lum, 0.0, false, f64::MAX)?;
        if self.delta_hue + self.delta_sat + self.delta_lum <= 0.0 {
            return Err("weights must not all be 0".into());
        }
        Ok(())
    }
}

impl ContentConfig {
    /// Checks every field; the message names the field. `threshold` must be
    /// in `(0, 255]` (a score of 0 or less would cut at every frame, above
    /// 255 never).
    pub fn validate(&self) -> Result<(), String> {
        check_range("threshold", self.threshold, 0.0, true, MAX_SCORE)?;
        if !self.luma_only {
            self.weights.validate()?;
        }
        Ok(())
    }

    /// The weights in force (`luma_only` wins).
    pub fn effective_weights(&self) -> ComponentWeights {
        if self.luma_only {
            ComponentWeights::LUMA_ONLY
        } else {
            self.weights
        }
    }
}

/// Per-frame score components (PySceneDetect's stats file columns).
///
/// ```
/// use frame_select::scene::content::FrameScorer;
/// use frame_select::scene::{ComponentWeights, HsvPlanes};
/// let grey = |v: u8| HsvPlanes { width: 2, height: 1, hue: vec![0; 2], sat: vec![0; 2], lum: vec![v; 2] };
/// let mut scorer = FrameScorer::new(ComponentWeights::DEFAULT);
/// assert!(scorer.score(grey(0)).is_none());
/// let score = scorer.score(grey(90)).unwrap();
/// assert_eq!((score.delta_hue, score.delta_sat, score.delta_lum), (0.0, 0.0, 90.0));
/// assert_eq!(score.content_val, 30.0); // (0 + 0 + 90) / 3 weights
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameScore {
    /// Weighted score compared with the threshold.
    pub content_val: f64,
    /// Mean absolute hue difference to the previous frame.
    pub delta_hue: f64,
    /// Mean absolute saturation difference.
    pub delta_sat: f64,
    /// Mean absolute value difference.
    pub delta_lum: f64,
}

/// Scores frames against their predecessor.
///
/// ```
/// use frame_select::scene::content::FrameScorer;
/// use frame_select::scene::{ComponentWeights, HsvPlanes};
/// let grey = |w: usize, v: u8| HsvPlanes { width: w, height: 1, hue: vec![0; w], sat: vec![0; w], lum: vec![v; w] };
/// let mut scorer = FrameScorer::new(ComponentWeights::LUMA_ONLY);
/// assert_eq!(scorer.score(grey(2, 10)), None);
/// assert_eq!(scorer.score(grey(2, 50)).map(|s| s.content_val), Some(40.0));
/// // A frame of another size starts over.
/// assert_eq!(scorer.score(grey(4, 50)), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FrameScorer {
    weights: ComponentWeights,
    last: Option<HsvPlanes>,
}

impl FrameScorer {
    /// A scorer with these weights.
    pub fn new(weights: ComponentWeights) -> Self {
        Self {
            weights,
            last: None,
        }
    }

    /// Score of `frame` against the previous frame given; `None` for the
    /// first frame (PySceneDetect records no metrics for it and scores it 0).
    /// A frame whose size differs from the previous one is compared with
    /// nothing and starts over.
    pub fn score(&mut self, frame: HsvPlanes) -> Option<FrameScore> {
        let w = self.weights;
        let out = match &self.last {
            Some(last) if last.width == frame.width && last.height == frame.height => {
                let dh = if w.delta_hue != 0.0 {
                    mean_pixel_distance(&frame.hue, &last.hue)
                } else {
                    0.0
                };
                let ds = if w.delta_sat != 0.0 {
                    mean_pixel_distance(&frame.sat, &last.sat)
                } else {
                    0.0
                };
                let dl = if w.delta_lum != 0.0 {
                    mean_pixel_distance(&frame.lum, &last.lum)
                } else {
                    0.0
                };
                let norm = w.delta_hue.abs() + w.delta_sat.abs() + w.delta_lum.abs();
                // Same summation order as PySceneDetect (hue, sat, lum, edges=0).
                let total = dh * w.delta_hue + ds * w.delta_sat + dl * w.delta_lum + 0.0;
                Some(FrameScore {
                    content_val: if norm > 0.0 { total / norm } else { 0.0 },
                    delta_hue: dh,
                    delta_sat: ds,
                    delta_lum: dl,
                })
            }
            _ => None,
        };
        self.last = Some(frame);
        out
    }
}

/// PySceneDetect's `FlashFilter`: turns "score above threshold" events into
/// cuts that respect the minimum scene length.
///
/// ```
/// use frame_select::scene::FilterMode;
/// use frame_select::scene::content::FlashFilter;
/// let mut filter = FlashFilter::new(FilterMode::Suppress, 10);
/// assert_eq!(filter.filter(0, false), None);
/// assert_eq!(filter.filter(4, true), None); // 4 frames after the start: too soon
/// assert_eq!(filter.filter(12, true), Some(12));
/// // Length 0 disables the filter: every frame above the threshold is a cut.
/// assert_eq!(FlashFilter::new(FilterMode::Merge, 0).filter(1, true), Some(1));
/// ```
#[derive(Debug, Clone)]
pub struct FlashFilter {
    mode: FilterMode,
    length: u64,
    last_above: Option<u64>,
    merge_enabled: bool,
    merge_triggered: bool,
    merge_start: Option<u64>,
}

impl FlashFilter {
    /// A filter with `length` frames minimum (0 disables it).
    pub fn new(mode: FilterMode, length: u64) -> Self {
        Self {
            mode,
            length,
            last_above: None,
            merge_enabled: false,
            merge_triggered: false,
            merge_start: None,
        }
    }

    fn met(&self, from: u64, to: u64) -> bool {
        to.saturating_sub(from) >= self.length && to >= from
    }

    /// Feeds frame `frame`; returns the cut frames it confirms.
    pub fn filter(&mut self, frame: u64, above: bool) -> Option<u64> {
        if self.length == 0 {
            return above.then_some(frame);
        }
        let last_above = *self.last_above.get_or_insert(frame);
        let min_length_met = self.met(last_above, frame);
        match self.mode {
            FilterMode::Suppress => {
                if !(above && min_length_met) {
                    return None;
                }
                self.last_above = Some(frame);
                Some(frame)
            }
            FilterMode::Merge => {
                if above {
                    self.last_above = Some(frame);
                }
                if self.merge_triggered {
                    let last = self.last_above.expect("set above");
                    let start = self.merge_start.expect("set when triggered");
                    if min_length_met && !above && self.met(start, last) {
                        self.merge_triggered = false;
                        return Some(last);
                    }
                    return None;
                }
                if !above {
                    return None;
                }
                if min_length_met {
                    self.merge_enabled = true;
                    return Some(frame);
                }
                if self.merge_enabled {
                    self.merge_triggered = true;
                    self.merge_start = Some(frame);
                }
                None
            }
        }
    }
}

/// Streaming content detector: feed frames in order, collect cuts.
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::scene::{ContentConfig, ContentDetector, HsvPlanes};
/// let mut detector = ContentDetector::new(&ContentConfig::default());
/// let mut cuts = Vec::new();
/// for frame in 0..40u64 {
///     // Black until frame 20, white after: one hard cut.
///     let value = if frame < 20 { 0 } else { 255 };
///     let rgb = Array3::from_elem((8, 8, 3), value);
///     let (_score, cut) = detector.process(frame, HsvPlanes::from_rgb(rgb.view()));
///     cuts.extend(cut);
/// }
/// assert_eq!(cuts, vec![20]);
/// ```
#[derive(Debug, Clone)]
pub struct ContentDetector {
    threshold: f64,
    scorer: FrameScorer,
    filter: FlashFilter,
}

impl ContentDetector {
    /// A detector with `config`.
    pub fn new(config: &ContentConfig) -> Self {
        Self {
            threshold: config.threshold,
            scorer: FrameScorer::new(config.effective_weights()),
            filter: FlashFilter::new(config.filter_mode, config.min_scene_len),
        }
    }

    /// Processes frame number `frame` (sequential); returns its score (if
    /// there was a previous frame) and the cut it confirms, if any (the cut
    /// may name an earlier frame in merge mode).
    pub fn process(&mut self, frame: u64, planes: HsvPlanes) -> (Option<FrameScore>, Option<u64>) {
        let score = self.scorer.score(planes);
        // PySceneDetect scores the first frame 0.0 and still runs the filter.
        let value = score.map_or(0.0, |s| s.content_val);
        let cut = self.filter.filter(frame, value >= self.threshold);
        (score, cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_filter_follows_pyscenedetect() {
        // Length 15. First above-threshold event at 20 is a cut (>= 15 after
        // frame 0); a burst at 25..27 triggers merging, released at the first
        // quiet frame once 15 frames have passed since the last event and
        // the burst spans 15 frames... here it never spans, so no cut.
        let mut f = FlashFilter::new(FilterMode::Merge, 15);
        let mut cuts = Vec::new();
        for frame in 0..100 {
            let above = matches!(frame, 20 | 25 | 26 | 27 | 60 | 64 | 80);
            cuts.extend(f.filter(frame, above));
        }
        // 20: cut. 25: within 15 of 20 -> merge starts at 25. 60: 33 after
        // 27 and above: in merge mode, above frames never release; 61 is
        // quiet, 61-60 < 15; ... 79: quiet, 79 - 64 >= 15 and 64 - 25 >= 15
        // -> cut at 64. 80: 80 - 64 = 16 -> cut.
        assert_eq!(cuts, vec![20, 64, 80]);
    }

    #[test]
    fn suppress_filter_drops_close_cuts() {
        let mut f = FlashFilter::new(FilterMode::Suppress, 15);
        let cuts: Vec<u64> = (0..60)
            .filter_map(|i| f.filter(i, matches!(i, 5 | 20 | 30 | 40)))
            .collect();
        assert_eq!(cuts, vec![20, 40]);
    }
}
