//! Conversion of FFmpeg's decoded frames to RGB arrays at the output size.

use std::path::Path;

use ndarray::Array3;
use video_rs::ffmpeg;
use video_rs::ffmpeg::format::Pixel;
use video_rs::ffmpeg::software::scaling;

use super::{Resize, VideoError};

/// FFmpeg frames to RGB arrays (swscale, scaler cached per input format and
/// size).
pub(crate) struct RgbConverter {
    resize: Option<Resize>,
    scaler: Option<(Pixel, u32, u32, scaling::Context)>,
    rgb: ffmpeg::frame::Video,
}

impl RgbConverter {
    pub(crate) fn new(resize: Option<Resize>) -> Self {
        Self {
            resize,
            scaler: None,
            rgb: ffmpeg::frame::Video::empty(),
        }
    }

    pub(crate) fn convert(
        &mut self,
        raw: &ffmpeg::frame::Video,
        path: &Path,
        codec: &str,
        frames_decoded: u64,
    ) -> Result<Array3<u8>, VideoError> {
        let (w, h) = (raw.width(), raw.height());
        let (ow, oh) = match self.resize {
            Some(r) => r.output_size(w, h).ok_or_else(|| VideoError::BadRequest {
                path: path.to_path_buf(),
                reason: format!("invalid output size {r:?}"),
            })?,
            None => (w, h),
        };
        let format = raw.format();
        let stale =
            !matches!(&self.scaler, Some((f, sw, sh, _)) if *f == format && *sw == w && *sh == h);
        if stale {
            // Bicubic, as OpenCV's FFmpeg capture uses: at the coded size it
            // only converts colours, so pixels match OpenCV's decoding.
            let ctx =
                scaling::Context::get(format, w, h, Pixel::RGB24, ow, oh, scaling::Flags::BICUBIC)
                    .map_err(|e| VideoError::Unsupported {
                        path: path.to_path_buf(),
                        codec: codec.to_string(),
                        reason: format!("no conversion from {format:?} to RGB: {e}"),
                    })?;
            self.scaler = Some((format, w, h, ctx));
        }
        let (_, _, _, ctx) = self.scaler.as_mut().expect("set above");
        ctx.run(raw, &mut self.rgb)
            .map_err(|e| VideoError::Broken {
                path: path.to_path_buf(),
                frames_decoded,
                reason: format!("colour conversion failed: {e}"),
            })?;
        let stride = self.rgb.stride(0);
        let data = self.rgb.data(0);
        let row = ow as usize * 3;
        let mut out = Vec::with_capacity(row * oh as usize);
        for y in 0..oh as usize {
            out.extend_from_slice(&data[y * stride..y * stride + row]);
        }
        Ok(Array3::from_shape_vec((oh as usize, ow as usize, 3), out)
            .expect("rows were copied to exactly h * w * 3 bytes"))
    }
}
