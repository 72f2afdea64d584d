//! What a video file holds, read from its container without decoding.

use std::path::{Path, PathBuf};

use video_rs::ffmpeg;

use super::{VideoError, init_ffmpeg};

/// Stream facts of a video file (its best video stream).
///
/// Read with [`probe`] or [`VideoReader::info`](super::VideoReader::info);
/// here a stream that states a duration but no frame count:
///
/// ```
/// use frame_select::video::VideoInfo;
/// let info = VideoInfo {
///     path: "clip.webm".into(), width: 640, height: 360, fps: 30.0,
///     frame_count: None, duration_s: Some(2.5), codec: "vp9".into(),
///     pixel_format: "yuv420p".into(), rotation_degrees: 0, stream_index: 0,
/// };
/// assert_eq!(info.estimated_frames(), Some(75)); // 2.5 s x 30 fps
/// let declared = VideoInfo { frame_count: Some(74), ..info };
/// assert_eq!(declared.estimated_frames(), Some(74));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VideoInfo {
    /// The file.
    pub path: PathBuf,
    /// Coded width in pixels (before rotation).
    pub width: u32,
    /// Coded height in pixels (before rotation).
    pub height: u32,
    /// Frame rate: the stream's average rate, else its real base rate.
    pub fps: f64,
    /// Frame count the container declares, if it declares one.
    pub frame_count: Option<u64>,
    /// Duration in seconds, if known: the stream's own, else its Matroska /
    /// WebM `DURATION` tag, else the container's (which spans every stream:
    /// an audio track longer than the video makes it too long).
    pub duration_s: Option<f64>,
    /// Codec name (`h264`, `mpeg4`, `cinepak`, ...).
    pub codec: String,
    /// Pixel format the decoder produces (`yuv420p`, `rgb24`, ...).
    pub pixel_format: String,
    /// Display rotation in degrees clockwise (0, 90, 180, 270) from the
    /// stream's display matrix; phone videos often carry 90.
    pub rotation_degrees: i32,
    /// Index of the video stream in the container.
    pub stream_index: usize,
}

impl VideoInfo {
    /// Frame count: the declared one, else `duration * fps` rounded.
    pub fn estimated_frames(&self) -> Option<u64> {
        self.frame_count.or_else(|| {
            self.duration_s
                .map(|d| (d * self.fps).round().max(0.0) as u64)
        })
    }
}

/// Most pixels per frame accepted (two 8K UHD frames' worth, 7680 x 4320 x
/// 2): an RGB frame of this size is 200 MB.
pub const MAX_PIXELS: u64 = 7680 * 4320 * 2;

/// Reads [`VideoInfo`] from `path` without decoding frames.
///
/// ```no_run
/// use frame_select::video::probe;
/// let info = probe("walk.mp4")?;
/// println!("{}x{} {} at {:.2} fps", info.width, info.height, info.codec, info.fps);
/// assert!(info.width > 0 && info.height > 0);
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub fn probe(path: impl AsRef<Path>) -> Result<VideoInfo, VideoError> {
    let (input, info) = open_input(path.as_ref())?;
    drop(input);
    Ok(info)
}

/// Opens the container, checks it has a decodable video stream and returns
/// it with its [`VideoInfo`].
pub(crate) fn open_input(
    path: &Path,
) -> Result<(ffmpeg::format::context::Input, VideoInfo), VideoError> {
    open_input_range(path, None)
}

/// [`open_input`] of the whole file, or of `(offset, len)` bytes inside it
/// (a member of a tar, read in place through FFmpeg's `subfile` protocol;
/// the range must lie inside the file).
pub(crate) fn open_input_range(
    path: &Path,
    range: Option<(u64, u64)>,
) -> Result<(ffmpeg::format::context::Input, VideoInfo), VideoError> {
    init_ffmpeg();
    let meta = std::fs::metadata(path).map_err(|source| VideoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Only regular files: FFmpeg would block forever on a FIFO, read a
    // device like /dev/urandom without end, and metadata says 0 bytes for
    // both, which is not the problem.
    if !meta.is_file() {
        return Err(VideoError::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(&meta.file_type()),
        });
    }
    // A readable-file check of our own: FFmpeg's message for an unreadable
    // file would be reported as "not a readable media file".
    if let Err(source) = std::fs::File::open(path) {
        return Err(VideoError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    if meta.len() == 0 || range.is_some_and(|(_, len)| len == 0) {
        return Err(VideoError::Empty {
            path: path.to_path_buf(),
        });
    }
    // FFmpeg reads a name with a `proto:` prefix as a URL: every name goes
    // in as an explicit `file:` URL of its absolute path, so a file called
    // `http:x` or `concat:a|b` is just a file.
    let absolute = std::path::absolute(path).map_err(|source| VideoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let url = match range {
        None => format!("file:{}", absolute.display()),
        Some((offset, len)) => {
            let end = offset.checked_add(len).filter(|&end| end <= meta.len());
            let Some(end) = end else {
                return Err(VideoError::BadRequest {
                    path: path.to_path_buf(),
                    reason: format!(
                        "byte range {offset}+{len} lies outside the file's {} bytes",
                        meta.len()
                    ),
                });
            };
            format!(
                "subfile,,start,{offset},end,{end},,:file:{}",
                absolute.display()
            )
        }
    };
    let input = ffmpeg::format::input(&url).map_err(|e| VideoError::NotMedia {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let stream = input
        .streams()
        .best(ffmpeg::media::Type::Video)
        .ok_or_else(|| VideoError::NoVideoStream {
            path: path.to_path_buf(),
        })?;
    let params = stream.parameters();
    let codec = params.id().name().to_string();
    let ctx = ffmpeg::codec::context::Context::from_parameters(params).map_err(|e| {
        VideoError::Unsupported {
            path: path.to_path_buf(),
            codec: codec.clone(),
            reason: e.to_string(),
        }
    })?;
    let decoder = ctx.decoder().video().map_err(|e| VideoError::Unsupported {
        path: path.to_path_buf(),
        codec: codec.clone(),
        reason: e.to_string(),
    })?;
    if decoder.width() == 0 || decoder.height() == 0 {
        return Err(VideoError::Unsupported {
            path: path.to_path_buf(),
            codec,
            reason: "stream declares no frame size".into(),
        });
    }
    // A crafted header can declare any size; each decoded frame is then
    // converted to an RGB array of that size. Twice 8K UHD is the most a
    // real upload needs.
    let pixels = u64::from(decoder.width()) * u64::from(decoder.height());
    if pixels > MAX_PIXELS {
        return Err(VideoError::Unsupported {
            path: path.to_path_buf(),
            codec,
            reason: format!(
                "declared frame size {}x{} exceeds the limit of {MAX_PIXELS} pixels",
                decoder.width(),
                decoder.height()
            ),
        });
    }
    let fps = rate_of(stream.avg_frame_rate())
        .or_else(|| rate_of(stream.rate()))
        .unwrap_or(0.0);
    let tb = stream.time_base();
    let duration_s = if stream.duration() > 0 {
        Some(stream.duration() as f64 * f64::from(tb))
    } else if let Some(d) = stream.metadata().get("DURATION").and_then(tag_seconds) {
        // Matroska and WebM (yt-dlp's merged downloads) state no stream
        // duration, only the whole file's, which an audio track longer than
        // the video stretches; the muxer's per-stream tag is the video's.
        Some(d)
    } else if input.duration() > 0 {
        Some(input.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE))
    } else {
        None
    };
    let frame_count = (stream.frames() > 0).then_some(stream.frames() as u64);
    let pixel_format = format!("{:?}", decoder.format()).to_lowercase();
    let info = VideoInfo {
        path: path.to_path_buf(),
        width: decoder.width(),
        height: decoder.height(),
        fps,
        frame_count,
        duration_s,
        codec,
        pixel_format,
        rotation_degrees: rotation_of(&stream),
        stream_index: stream.index(),
    };
    Ok((input, info))
}

/// What a non-regular file is, in words.
pub(crate) fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn rate_of(r: ffmpeg::Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0).then(|| f64::from(r))
}

/// Clockwise display rotation from the stream's display matrix, snapped to a
/// multiple of 90 degrees.
fn rotation_of(stream: &ffmpeg::format::stream::Stream) -> i32 {
    for side in stream.side_data() {
        if side.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix
            && side.data().len() >= 36
        {
            // SAFETY: the display matrix side data is 9 int32 values (36
            // bytes, checked above); av_display_rotation_get only reads them.
            let ccw =
                unsafe { ffmpeg::ffi::av_display_rotation_get(side.data().as_ptr().cast::<i32>()) };
            if ccw.is_finite() {
                let cw = (-ccw).rem_euclid(360.0);
                return (((cw / 90.0).round() as i32) * 90).rem_euclid(360);
            }
        }
    }
    0
}

/// Seconds of a Matroska `DURATION` tag, `HH:MM:SS.fraction`; `None` for
/// anything else or a non-positive value.
fn tag_seconds(text: &str) -> Option<f64> {
    let mut parts = text.trim().split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    let sec: f64 = sec.parse().ok()?;
    let total = f64::from(h) * 3600.0 + f64::from(m) * 60.0 + sec;
    (total.is_finite() && total > 0.0 && sec >= 0.0 && m < 60).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::tag_seconds;

    #[test]
    fn matroska_duration_tags() {
        assert_eq!(tag_seconds("00:00:03.007000000"), Some(3.007));
        assert_eq!(tag_seconds("01:02:03.5"), Some(3723.5));
        for bad in [
            "",
            "3.0",
            "00:00:00.000",
            "00:61:00",
            "a:b:c",
            "0:0:-1",
            "0:0:1:2",
            "0:0:NaN",
        ] {
            assert_eq!(tag_seconds(bad), None, "{bad}");
        }
    }
}
