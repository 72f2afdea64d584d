//! Ultralytics' pre- and post-processing: letterboxing, confidence and
//! class filtering, class-aware NMS, and mapping boxes back to the frame.

use ndarray::{Array3, ArrayView3};

use super::YoloConfig;
use crate::detect::Detection;
use crate::scene::resize::LinearResizer;

/// A letterboxed frame: resized to fit `size x size` keeping its aspect,
/// centred on grey (114) padding.
///
/// ```
/// use frame_select::detect::yolo::{RawBox, letterbox};
/// use frame_select::ndarray::Array3;
/// // A 32x64 (h x w) frame into a 64x64 input: no scaling, 16 rows of padding above.
/// let lb = letterbox(Array3::from_elem((32, 64, 3), 7u8).view(), 64);
/// assert_eq!((lb.gain, lb.pad), (1.0, (0.0, 16.0)));
/// assert_eq!(lb.chw_unit().len(), 3 * 64 * 64);
/// // A box in input pixels maps back to the frame, clipped to it.
/// let b = RawBox { x0: 10.0, y0: 10.0, x1: 30.0, y1: 40.0, score: 0.9, class: 0 };
/// let d = lb.to_frame(b, 64, 32);
/// assert_eq!((d.x0, d.y0, d.x1, d.y1), (10.0, 0.0, 30.0, 24.0));
/// ```
#[derive(Debug, Clone)]
pub struct Letterbox {
    /// The padded image, `size x size x 3`, RGB.
    pub image: Array3<u8>,
    /// Resize gain (input pixels per frame pixel).
    pub gain: f64,
    /// Per-axis gains of the rounded resized size, `(new_w / w, new_h / h)`,
    /// which Ultralytics' `scale_boxes` divides by.
    pub axis_gain: (f64, f64),
    /// Left and top padding in input pixels.
    pub pad: (f64, f64),
}

/// Ultralytics' `LetterBox(new_shape=size, auto=False)`: gain
/// `min(size/h, size/w)`, new size rounded half-to-even, bilinear resize
/// (OpenCV's arithmetic), padding split as `round(d -+ 0.1)`.
///
/// ```
/// use frame_select::detect::yolo::letterbox;
/// use frame_select::ndarray::Array3;
/// // 32x64 (h x w) halved into a 32x32 input: 16 rows of picture between
/// // 8 rows of grey (114) padding above and below.
/// let lb = letterbox(Array3::from_elem((32, 64, 3), 7u8).view(), 32);
/// assert_eq!((lb.gain, lb.pad), (0.5, (0.0, 8.0)));
/// assert_eq!(lb.image.dim(), (32, 32, 3));
/// assert_eq!((lb.image[[7, 0, 0]], lb.image[[8, 0, 0]], lb.image[[24, 0, 0]]), (114, 7, 114));
/// ```
pub fn letterbox(frame: ArrayView3<'_, u8>, size: usize) -> Letterbox {
    let (h, w, _) = frame.dim();
    let r = (size as f64 / h as f64).min(size as f64 / w as f64);
    let (nw, nh) = (
        (w as f64 * r).round_ties_even() as usize,
        (h as f64 * r).round_ties_even() as usize,
    );
    let (nw, nh) = (nw.clamp(1, size), nh.clamp(1, size));
    let resized = if (nw, nh) == (w, h) {
        frame.to_owned()
    } else {
        LinearResizer::new(w, h, nw, nh).resize(frame)
    };
    let (dw, dh) = ((size - nw) as f64 / 2.0, (size - nh) as f64 / 2.0);
    let (top, left) = (
        (dh - 0.1).round_ties_even() as usize,
        (dw - 0.1).round_ties_even() as usize,
    );
    let mut image = Array3::from_elem((size, size, 3), 114u8);
    image
        .slice_mut(ndarray::s![top..top + nh, left..left + nw, ..])
        .assign(&resized);
    Letterbox {
        image,
        gain: r,
        axis_gain: (nw as f64 / w as f64, nh as f64 / h as f64),
        pad: (left as f64, top as f64),
    }
}

impl Letterbox {
    /// The image as `3 x size x size` floats in [0, 1] (channel-major RGB).
    pub fn chw_unit(&self) -> Vec<f32> {
        let (h, w, _) = self.image.dim();
        let mut out = vec![0f32; 3 * h * w];
        for ((y, x, c), &v) in self.image.indexed_iter() {
            out[c * h * w + y * w + x] = f32::from(v) / 255.0;
        }
        out
    }

    /// Maps a box in letterboxed pixels to the `w x h` frame (Ultralytics'
    /// `scale_boxes`: remove padding, divide by the per-axis gain, clip).
    pub fn to_frame(&self, b: RawBox, w: usize, h: usize) -> Detection {
        let (px, py) = self.pad;
        let (gx, gy) = self.axis_gain;
        let fx = |v: f32| (((f64::from(v) - px) / gx).clamp(0.0, w as f64)) as f32;
        let fy = |v: f32| (((f64::from(v) - py) / gy).clamp(0.0, h as f64)) as f32;
        Detection {
            x0: fx(b.x0),
            y0: fy(b.y0),
            x1: fx(b.x1),
            y1: fy(b.y1),
            score: b.score,
        }
    }
}

/// A box after NMS, in network input pixels.
///
/// ```
/// use frame_select::detect::yolo::{YoloConfig, non_max_suppression};
/// // One anchor, one class: centre (50, 40), size 20 x 10, confidence 0.9.
/// let raw = [50.0, 40.0, 20.0, 10.0, 0.9];
/// let boxes = non_max_suppression(&raw, 5, &YoloConfig::default());
/// let b = boxes[0];
/// assert_eq!((b.x0, b.y0, b.x1, b.y1), (40.0, 35.0, 60.0, 45.0));
/// assert_eq!((b.score, b.class), (0.9, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawBox {
    /// Left.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
    /// Class confidence.
    pub score: f32,
    /// Class index.
    pub class: usize,
}

impl RawBox {
    fn as_detection(&self) -> Detection {
        Detection {
            x0: self.x0,
            y0: self.y0,
            x1: self.x1,
            y1: self.y1,
            score: self.score,
        }
    }
}

fn iou(a: &RawBox, b: &RawBox) -> f32 {
    a.as_detection().iou(&b.as_detection())
}

/// Ultralytics' `non_max_suppression` for one image with
/// `multi_label=False`: each anchor keeps its best class; anchors above
/// `confidence` whose best class is in `classes` (all when empty) are
/// sorted by score and greedily suppressed within their class at IoU above
/// `iou`; at most `max_detections` remain. `raw` is the `(channels,
/// anchors)` output, row-major.
///
/// ```
/// use frame_select::detect::yolo::{YoloConfig, non_max_suppression};
/// // Three anchors (columns) of a one-class output: rows cx, cy, w, h, score.
/// let raw = [
///     50.0, 52.0, 10.0, // cx
///     50.0, 50.0, 10.0, // cy
///     20.0, 20.0, 4.0, // w
///     20.0, 20.0, 4.0, // h
///     0.9, 0.8, 0.1, // person confidence
/// ];
/// let boxes = non_max_suppression(&raw, 5, &YoloConfig::default());
/// // The second box overlaps the first at IoU 0.82 > 0.7 and is suppressed;
/// // the third is below the 0.25 confidence.
/// assert_eq!(boxes.len(), 1);
/// assert_eq!(boxes[0].score, 0.9);
/// ```
pub fn non_max_suppression(raw: &[f32], channels: usize, config: &YoloConfig) -> Vec<RawBox> {
    let anchors = raw.len() / channels.max(1);
    let at = |c: usize, a: usize| raw[c * anchors + a];
    let mut cands: Vec<RawBox> = (0..anchors)
        .filter_map(|a| {
            let (mut best, mut class) = (f32::MIN, 0);
            for c in 4..channels {
                let s = at(c, a);
                if s > best {
                    (best, class) = (s, c - 4);
                }
            }
            if best <= config.confidence
                || !(config.classes.is_empty() || config.classes.contains(&class))
            {
                return None;
            }
            let (cx, cy, w, h) = (at(0, a), at(1, a), at(2, a), at(3, a));
            Some(RawBox {
                x0: cx - w / 2.0,
                y0: cy - h / 2.0,
                x1: cx + w / 2.0,
                y1: cy + h / 2.0,
                score: best,
                class,
            })
        })
        .collect();
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    cands.truncate(30_000);
    let mut keep: Vec<RawBox> = Vec::new();
    for c in cands {
        if keep.len() >= config.max_detections {
            break;
        }
        if keep
            .iter()
            .all(|k| k.class != c.class || iou(k, &c) <= config.iou)
        {
            keep.push(c);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_geometry() {
        // 300 x 410 (h x w) into 640: gain 640/410, new 468 x 640,
        // dh = 86 -> top round(85.9) = 86.
        let frame = Array3::from_elem((300, 410, 3), 7u8);
        let lb = letterbox(frame.view(), 640);
        assert!((lb.gain - 640.0 / 410.0).abs() < 1e-12);
        assert_eq!(lb.pad, (0.0, 86.0));
        assert_eq!(lb.image[[85, 0, 0]], 114);
        assert_eq!(lb.image[[86, 0, 0]], 7);
        assert_eq!(lb.image[[86 + 468 - 1, 639, 2]], 7);
        assert_eq!(lb.image[[86 + 468, 0, 0]], 114);
        // Back to the frame: the padded band maps outside and is clipped.
        let d = lb.to_frame(
            RawBox {
                x0: 64.0,
                y0: 86.0,
                x1: 640.0,
                y1: 700.0,
                score: 1.0,
                class: 0,
            },
            410,
            300,
        );
        assert!((d.x0 - 41.0).abs() < 1e-4 && d.y0 == 0.0 && d.x1 == 410.0 && d.y1 == 300.0);
        assert_eq!(lb.axis_gain, (640.0 / 410.0, 468.0 / 300.0));
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_per_class() {
        // 4 anchors, 2 classes: channels cx, cy, w, h, p0, p1.
        let cols = [
            [50.0, 50.0, 20.0, 20.0, 0.9, 0.1],   // kept
            [52.0, 50.0, 20.0, 20.0, 0.8, 0.1],   // IoU 0.82 with the first: suppressed
            [52.0, 50.0, 20.0, 20.0, 0.1, 0.7],   // best class 1: filtered by classes=[0]
            [200.0, 200.0, 10.0, 10.0, 0.3, 0.0], // kept
        ];
        let raw: Vec<f32> = (0..6)
            .flat_map(|c| cols.iter().map(move |a| a[c]))
            .collect();
        let got = non_max_suppression(&raw, 6, &YoloConfig::default());
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].x0, got[0].score), (40.0, 0.9));
        assert_eq!(got[1].score, 0.3);
        let all = YoloConfig {
            classes: vec![],
            ..YoloConfig::default()
        };
        assert_eq!(non_max_suppression(&raw, 6, &all).len(), 3);
    }
}
