//! Writing a frame range of a video as its own MP4 clip: by stream copy when
//! the range starts on a keyframe (no quality loss, no encoding time), else
//! by re-encoding to H.264.

use std::path::{Path, PathBuf};

use video_rs::ffmpeg;

use super::probe::open_input;
use super::reader::{seek_timestamp, stream_start_pts};
use super::{DecodeOptions, Resize, VideoError, VideoReader};

/// How a clip is written.
///
/// ```
/// use frame_select::video::ClipMethod;
/// assert_eq!(serde_json::to_string(&ClipMethod::StreamCopy).unwrap(), r#""stream_copy""#);
/// let method: ClipMethod = serde_json::from_str(r#""reencode""#).unwrap();
/// assert_eq!(method, ClipMethod::Reencode);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipMethod {
    /// Stream copy when possible, else re-encode.
    Auto,
    /// Copy compressed packets; fails unless the range starts on a keyframe
    /// and MP4 can carry the codec.
    StreamCopy,
    /// Decode and encode to H.264 (yuv420p, even size).
    Reencode,
}

/// A frame range to cut out.
///
/// ```
/// use frame_select::video::{ClipMethod, ClipRequest, VideoError, write_clip};
/// let request = ClipRequest { start_frame: 40, end_frame: 40, method: ClipMethod::Auto };
/// // An empty range is refused before any file is opened.
/// let err = write_clip("walk.mp4", &request, "clip.mp4").unwrap_err();
/// assert!(matches!(err, VideoError::BadRequest { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipRequest {
    /// First frame (inclusive).
    pub start_frame: u64,
    /// End frame (exclusive).
    pub end_frame: u64,
    /// How to write it.
    pub method: ClipMethod,
}

/// What was written.
///
/// ```no_run
/// use frame_select::video::{ClipMethod, ClipRequest, write_clip};
/// let request = ClipRequest { start_frame: 0, end_frame: 50, method: ClipMethod::Auto };
/// let clip = write_clip("walk.mp4", &request, "walk_clip.mp4")?;
/// // Frame 0 is a keyframe, so Auto copies the packets.
/// assert_eq!(clip.method, ClipMethod::StreamCopy);
/// assert_eq!((clip.start_frame, clip.end_frame), (0, 50));
/// println!("{} frames in {}", clip.frames, clip.path.display());
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WrittenClip {
    /// The MP4 file.
    pub path: PathBuf,
    /// The method actually used ([`ClipMethod::StreamCopy`] or
    /// [`ClipMethod::Reencode`]).
    pub method: ClipMethod,
    /// First source frame in the clip.
    pub start_frame: u64,
    /// End source frame (exclusive).
    pub end_frame: u64,
    /// Frames (packets, for stream copy) written.
    pub frames: u64,
}

/// Writes frames `[start_frame, end_frame)` of `source` to `out` (MP4). The
/// file appears atomically: it is written under a temporary name in the same
/// folder and renamed when complete.
///
/// ```no_run
/// use frame_select::video::{ClipMethod, ClipRequest, write_clip};
/// // Frames 100..200 re-encoded to H.264, whatever the keyframes.
/// let request = ClipRequest { start_frame: 100, end_frame: 200, method: ClipMethod::Reencode };
/// let clip = write_clip("walk.mp4", &request, "clips/walk.mp4")?;
/// assert_eq!(clip.method, ClipMethod::Reencode);
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub fn write_clip(
    source: impl AsRef<Path>,
    request: &ClipRequest,
    out: impl AsRef<Path>,
) -> Result<WrittenClip, VideoError> {
    let (source, out) = (source.as_ref(), out.as_ref());
    if request.end_frame <= request.start_frame {
        return Err(VideoError::BadRequest {
            path: source.to_path_buf(),
            reason: format!(
                "empty clip range [{}, {})",
                request.start_frame, request.end_frame
            ),
        });
    }
    if same_file(source, out) {
        return Err(VideoError::Write {
            path: out.to_path_buf(),
            reason: "the output is the source video; refusing to overwrite it".into(),
        });
    }
    let file_name = out.file_name().and_then(|n| n.to_str()).unwrap_or("clip");
    let tmp = out.with_file_name(format!(".{file_name}.partial.mp4"));
    let result = match request.method {
        ClipMethod::StreamCopy => stream_copy(source, request, &tmp),
        ClipMethod::Reencode => reencode(source, request, &tmp),
        ClipMethod::Auto => match stream_copy(source, request, &tmp) {
            Ok(clip) => Ok(clip),
            Err(_) => reencode(source, request, &tmp),
        },
    };
    match result {
        Ok(mut clip) => {
            if let Err(e) = std::fs::rename(&tmp, out) {
                // No `.partial.mp4` left behind when the final name is
                // taken by a folder or the rename fails otherwise.
                let _ = std::fs::remove_file(&tmp);
                return Err(VideoError::Write {
                    path: out.to_path_buf(),
                    reason: e.to_string(),
                });
            }
            clip.path = out.to_path_buf();
            Ok(clip)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// True when both paths name one existing file (after resolving links and
/// `..`).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn write_err(path: &Path, what: &str, e: impl std::fmt::Display) -> VideoError {
    VideoError::Write {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

fn stream_copy(
    source: &Path,
    request: &ClipRequest,
    out: &Path,
) -> Result<WrittenClip, VideoError> {
    let (mut input, info) = open_input(source)?;
    let stream = input
        .stream(info.stream_index)
        .expect("index from open_input");
    let in_tb = stream.time_base();
    let params = stream.parameters();
    let start_pts = stream_start_pts(&stream);
    // SAFETY: reading a plain integer field of the stream's parameters.
    let reorders = unsafe { (*params.as_ptr()).video_delay } > 0;
    if info.fps <= 0.0 {
        return Err(write_err(out, "stream copy", "frame rate unknown"));
    }
    let index_of =
        |pts: i64| ((pts - start_pts) as f64 * f64::from(in_tb) * info.fps).round() as i64;
    let start = request.start_frame as i64;
    let end = request.end_frame as i64;
    let ts = seek_timestamp(request.start_frame, info.fps);
    input
        .seek(ts, ..ts)
        .map_err(|e| write_err(out, "seek", e))?;

    let mut output =
        ffmpeg::format::output_as(&out, "mp4").map_err(|e| write_err(out, "open", e))?;
    {
        let mut ost = output
            .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
            .map_err(|e| write_err(out, "add stream", e))?;
        ost.set_parameters(params);
        // SAFETY: clearing the codec tag lets the MP4 muxer choose its own
        // (the source's AVI/MKV tag is not valid in MP4).
        unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
        ost.set_time_base(in_tb);
    }
    output
        .write_header()
        .map_err(|e| write_err(out, "MP4 cannot carry this codec by stream copy", e))?;
    let out_tb = output.stream(0).expect("added above").time_base();

    let mut first_pts: Option<i64> = None;
    let mut frames = 0u64;
    let mut packet = ffmpeg::Packet::empty();
    loop {
        match packet.read(&mut input) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            Err(e) => return Err(write_err(out, "read", e)),
        }
        if packet.stream() != info.stream_index || packet.size() == 0 {
            continue;
        }
        let Some(pts) = packet.pts() else {
            return Err(write_err(out, "stream copy", "packet without timestamp"));
        };
        let idx = index_of(pts);
        if first_pts.is_none() {
            if idx < start {
                continue;
            }
            if idx != start || !packet.is_key() {
                return Err(write_err(
                    out,
                    "stream copy",
                    format!("frame {start} is not a keyframe"),
                ));
            }
            first_pts = Some(pts);
        }
        if idx >= end {
            if reorders {
                // Frames before `end` may reference this one; only a cut
                // before a keyframe is clean.
                if !packet.is_key() {
                    return Err(write_err(
                        out,
                        "stream copy",
                        "end is not at a keyframe of a stream with B-frames",
                    ));
                }
            }
            break;
        }
        if idx < start {
            continue;
        }
        let shift = first_pts.expect("set above");
        packet.set_pts(Some(pts - shift));
        packet.set_dts(packet.dts().map(|d| d - shift));
        packet.set_position(-1);
        packet.set_stream(0);
        packet.rescale_ts(in_tb, out_tb);
        packet
            .write_interleaved(&mut output)
            .map_err(|e| write_err(out, "write packet", e))?;
        frames += 1;
    }
    if frames == 0 {
        return Err(write_err(out, "stream copy", "no packets in range"));
    }
    output
        .write_trailer()
        .map_err(|e| write_err(out, "finish", e))?;
    Ok(WrittenClip {
        path: out.to_path_buf(),
        method: ClipMethod::StreamCopy,
        start_frame: request.start_frame,
        end_frame: request.end_frame,
        frames,
    })
}

fn reencode(source: &Path, request: &ClipRequest, out: &Path) -> Result<WrittenClip, VideoError> {
    let info = super::probe(source)?;
    // x264 in yuv420p needs even sizes.
    let (w, h) = (info.width & !1, info.height & !1);
    if w == 0 || h == 0 {
        return Err(write_err(out, "re-encode", "frame smaller than 2x2"));
    }
    let options = DecodeOptions {
        resize: (w != info.width || h != info.height).then_some(Resize::Exact {
            width: w,
            height: h,
        }),
        ..DecodeOptions::default()
    };
    let mut reader = VideoReader::open(source, &options)?;
    reader.seek_to_frame(request.start_frame)?;
    let mut sink = H264Sink::open(out, w, h, info.fps)?;
    let mut frames = 0u64;
    while let Some(frame) = reader.next_frame()? {
        if frame.position >= request.end_frame {
            break;
        }
        sink.push(&frame.rgb, frames as i64)?;
        frames += 1;
    }
    if frames == 0 {
        return Err(write_err(out, "re-encode", "no frames in range"));
    }
    sink.finish()?;
    Ok(WrittenClip {
        path: out.to_path_buf(),
        method: ClipMethod::Reencode,
        start_frame: request.start_frame,
        end_frame: request.end_frame,
        frames,
    })
}

/// libx264 into MP4, written with FFmpeg directly rather than video-rs's
/// encoder: that one leaves the last packet without a duration, and the MP4
/// muxer then marks the last frame as discarded.
struct H264Sink<'p> {
    path: &'p Path,
    output: ffmpeg::format::context::Output,
    encoder: ffmpeg::encoder::Video,
    scaler: ffmpeg::software::scaling::Context,
    rgb: ffmpeg::frame::Video,
    yuv: ffmpeg::frame::Video,
    encoder_tb: ffmpeg::Rational,
}

impl<'p> H264Sink<'p> {
    fn open(path: &'p Path, w: u32, h: u32, fps: f64) -> Result<Self, VideoError> {
        use ffmpeg::format::Pixel;
        let err = |what: &str, e: ffmpeg::Error| write_err(path, what, e);
        let codec = ffmpeg::encoder::find_by_name("libx264")
            .ok_or_else(|| write_err(path, "re-encode", "this FFmpeg has no libx264 encoder"))?;
        let mut output = ffmpeg::format::output_as(&path, "mp4").map_err(|e| err("open", e))?;
        let global_header = output
            .format()
            .flags()
            .contains(ffmpeg::format::Flags::GLOBAL_HEADER);
        // Frame rate as a rational (29.97 -> 30000/1001).
        let rate = ffmpeg::Rational::from(if fps > 0.0 { fps } else { 25.0 });
        let encoder_tb = rate.invert();
        let mut enc = ffmpeg::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| err("encoder", e))?;
        enc.set_width(w);
        enc.set_height(h);
        enc.set_format(Pixel::YUV420P);
        enc.set_time_base(encoder_tb);
        enc.set_frame_rate(Some(rate));
        if global_header {
            enc.set_flags(ffmpeg::codec::Flags::GLOBAL_HEADER);
        }
        let mut opts = ffmpeg::Dictionary::new();
        // CRF 18 is visually lossless for pretraining input (veryfast: the
        // slower presets spend their time in trellis quantisation, 4x the
        // whole analysis pass, for a smaller file); no B-frames
        // keeps decode order = presentation order for later stream copies.
        opts.set("preset", "veryfast");
        opts.set("crf", "18");
        opts.set("x264-params", "bframes=0");
        let encoder = enc.open_with(opts).map_err(|e| err("open encoder", e))?;
        {
            let mut ost = output.add_stream(codec).map_err(|e| err("add stream", e))?;
            ost.set_parameters(&encoder);
            ost.set_time_base(encoder_tb);
        }
        output.write_header().map_err(|e| err("header", e))?;
        let scaler = ffmpeg::software::scaling::Context::get(
            Pixel::RGB24,
            w,
            h,
            Pixel::YUV420P,
            w,
            h,
            ffmpeg::software::scaling::Flags::BICUBIC,
        )
        .map_err(|e| err("colour conversion", e))?;
        Ok(Self {
            path,
            output,
            encoder,
            scaler,
            rgb: ffmpeg::frame::Video::new(Pixel::RGB24, w, h),
            yuv: ffmpeg::frame::Video::empty(),
            encoder_tb,
        })
    }

    fn push(&mut self, rgb: &ndarray::Array3<u8>, pts: i64) -> Result<(), VideoError> {
        let (h, w, _) = rgb.dim();
        let stride = self.rgb.stride(0);
        let row = w * 3;
        let src = rgb.as_standard_layout();
        let src = src.as_slice().expect("standard layout is contiguous");
        let dst = self.rgb.data_mut(0);
        for y in 0..h {
            dst[y * stride..y * stride + row].copy_from_slice(&src[y * row..(y + 1) * row]);
        }
        self.scaler
            .run(&self.rgb, &mut self.yuv)
            .map_err(|e| write_err(self.path, "colour conversion", e))?;
        self.yuv.set_pts(Some(pts));
        self.encoder
            .send_frame(&self.yuv)
            .map_err(|e| write_err(self.path, "encode", e))?;
        self.drain()
    }

    fn drain(&mut self) -> Result<(), VideoError> {
        let ost_tb = self.output.stream(0).expect("one stream").time_base();
        let mut packet = ffmpeg::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(0);
            packet.set_duration(1);
            packet.rescale_ts(self.encoder_tb, ost_tb);
            packet
                .write_interleaved(&mut self.output)
                .map_err(|e| write_err(self.path, "write packet", e))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), VideoError> {
        self.encoder
            .send_eof()
            .map_err(|e| write_err(self.path, "flush encoder", e))?;
        self.drain()?;
        self.output
            .write_trailer()
            .map_err(|e| write_err(self.path, "finish", e))
    }
}
