//! What a [`VideoReader`](super::VideoReader) is asked for and what it
//! gives: output size, decoding options and decoded frames.

use ndarray::Array3;

/// Output size of decoded frames; the scaling happens inside FFmpeg's
/// scaler, in the same call as the conversion to RGB, so a downscaled decode
/// costs about the same as a full-size one.
///
/// ```
/// use frame_select::video::{DecodeOptions, Resize};
/// // Decode at most 640 pixels wide, keeping the aspect ratio.
/// let options = DecodeOptions { resize: Some(Resize::MaxWidth(640)), ..Default::default() };
/// assert_eq!(serde_json::to_string(&options.resize).unwrap(), r#"{"max_width":640}"#);
/// let exact: Resize = serde_json::from_str(r#"{"exact":{"width":224,"height":224}}"#).unwrap();
/// assert_eq!(exact, Resize::Exact { width: 224, height: 224 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resize {
    /// Exactly this size.
    Exact {
        /// Output width.
        width: u32,
        /// Output height.
        height: u32,
    },
    /// Keep the aspect ratio; shrink (never enlarge) so the width is at most
    /// this many pixels. Sizes are rounded to even numbers.
    MaxWidth(u32),
}

impl Resize {
    pub(crate) fn output_size(self, width: u32, height: u32) -> Option<(u32, u32)> {
        match self {
            Resize::Exact { width, height } if width > 0 && height > 0 => Some((width, height)),
            Resize::Exact { .. } | Resize::MaxWidth(0) => None,
            Resize::MaxWidth(max) if width <= max => Some((width, height)),
            Resize::MaxWidth(max) => {
                let h = (f64::from(height) * f64::from(max) / f64::from(width)).round() as u32;
                Some((max & !1, (h & !1).max(2)))
            }
        }
    }
}

/// How to decode.
///
/// ```
/// use frame_select::video::{DecodeOptions, Resize};
/// let options = DecodeOptions { threads: 2, resize: Some(Resize::MaxWidth(320)), ..Default::default() };
/// assert_eq!(options.max_consecutive_failures, 16);
/// // Saved options leave out what they do not change.
/// let read: DecodeOptions = serde_json::from_str(r#"{"threads": 2}"#).unwrap();
/// assert_eq!((read.threads, read.resize), (2, None));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DecodeOptions {
    /// Output size; `None` keeps the coded size.
    pub resize: Option<Resize>,
    /// Decoder threads; 0 lets FFmpeg pick (one per core), as the `ffmpeg`
    /// command does.
    pub threads: usize,
    /// Packets in a row that may fail to decode before the stream counts as
    /// broken. Single bad packets are common in real uploads (FFmpeg's own
    /// command skips them too); each one is counted in
    /// [`VideoReader::failed_packets`](super::VideoReader::failed_packets).
    pub max_consecutive_failures: u32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            resize: None,
            threads: 0,
            max_consecutive_failures: 16,
        }
    }
}

/// One decoded frame.
///
/// Frames come from [`VideoReader::next_frame`](super::VideoReader::next_frame),
/// [`sample_frames`](super::sample_frames) or a [`FrameStream`](super::FrameStream);
/// here one made by hand:
///
/// ```
/// use frame_select::ndarray::Array3;
/// use frame_select::video::DecodedFrame;
/// let frame = DecodedFrame {
///     index: 0, position: 0, time_s: 0.0, key: true,
///     rgb: Array3::from_shape_fn((2, 3, 3), |(y, x, c)| if (y, x, c) == (1, 2, 0) { 255 } else { 0 }),
/// };
/// let image = frame.to_image();
/// assert_eq!(image.dimensions(), (3, 2)); // (width, height)
/// assert_eq!(image.get_pixel(2, 1).0, [255, 0, 0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFrame {
    /// Index in decoding order, from 0 (the n-th frame the decoder gave).
    pub index: u64,
    /// Frame number on the nominal timeline: presentation time x frame
    /// rate, rounded, as OpenCV's `CAP_PROP_POS_MSEC` and PySceneDetect
    /// number frames. Equals `index` for constant-rate files starting at 0;
    /// differs for files whose first timestamp is not 0 or that skip or
    /// repeat frames (variable frame rate).
    pub position: u64,
    /// Presentation time in seconds from the stream start.
    pub time_s: f64,
    /// Pixels, `height x width x 3`, RGB.
    pub rgb: Array3<u8>,
    /// The frame is a keyframe (a stream copy can start here).
    pub key: bool,
}

impl DecodedFrame {
    /// The pixels as an `image` buffer (copies).
    pub fn to_image(&self) -> image::RgbImage {
        let (h, w, _) = self.rgb.dim();
        let data: Vec<u8> = self.rgb.iter().copied().collect();
        image::RgbImage::from_raw(w as u32, h as u32, data)
            .expect("an h x w x 3 array has exactly w * h * 3 bytes")
    }
}
