//! Sequential decoding with optional downscale, and seeking.

use std::path::{Path, PathBuf};

use ndarray::Array3;
use video_rs::ffmpeg;

use super::convert::RgbConverter;
use super::log::{Captured, capture};
use super::options::{DecodeOptions, DecodedFrame, Resize};
use super::probe::{VideoInfo, open_input_range};
use super::{Damage, VideoError};

/// A video opened for decoding.
///
/// ```no_run
/// use frame_select::video::{DecodeOptions, Resize, VideoReader};
/// let options = DecodeOptions { resize: Some(Resize::MaxWidth(320)), ..Default::default() };
/// let mut reader = VideoReader::open("walk.mp4", &options)?;
/// assert!(reader.output_size().0 <= 320);
/// reader.seek_to_frame(100)?;
/// let frame = reader.next_frame()?.expect("the video has 101 frames or more");
/// assert_eq!(frame.position, 100);
/// if reader.damage().damaged {
///     eprintln!("{}", reader.damage().summary());
/// }
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub struct VideoReader {
    path: PathBuf,
    info: VideoInfo,
    input: ffmpeg::format::context::Input,
    decoder: ffmpeg::decoder::Video,
    resize: Option<Resize>,
    converter: RgbConverter,
    raw: ffmpeg::frame::Video,
    time_base: f64,
    start_pts: i64,
    next_index: u64,
    draining: bool,
    finished: bool,
    consecutive_failures: u32,
    max_consecutive_failures: u32,
    failed_packets: u64,
    /// `raw` holds a decoded frame not yet handed out (left by a seek).
    pending: bool,
    /// Timestamp of the pending frame.
    pending_ts: Option<i64>,
    /// Frames handed out since opening.
    delivered: u64,
    /// Largest position handed out + 1.
    timeline_end: u64,
    /// Zero-size packets of the video stream (AVI drop chunks): frames the
    /// container counts that carry no picture.
    empty_packets: u64,
    /// Packets the container marks for discarding (an edit list's pre-roll
    /// in a stream-copied cut): decoded for reference, never shown.
    discarded_packets: u64,
    /// A seek happened: the frame count no longer describes a whole pass.
    seeked: bool,
    /// Decoding stopped on this error.
    stopped: Option<String>,
    /// FFmpeg's error messages raised while this reader decoded.
    log: Captured,
}

impl VideoReader {
    /// Opens `path` for decoding.
    pub fn open(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<Self, VideoError> {
        Self::open_with(path.as_ref(), None, options)
    }

    /// Opens the video stored as `len` bytes at `offset` inside `path` (a
    /// member of a WebDataset tar), decoding it in place: nothing is
    /// copied or unpacked. Errors name `path`; a range outside the file is
    /// [`VideoError::BadRequest`].
    ///
    /// ```no_run
    /// use frame_select::video::{DecodeOptions, VideoReader};
    /// // The mp4 member of a shard, at the offset its tar header gives.
    /// let mut reader = VideoReader::open_range("shard-000000.tar", 1536, 1_901_774, &DecodeOptions::default())?;
    /// let first = reader.next_frame()?.expect("a frame");
    /// assert_eq!(first.index, 0);
    /// # Ok::<(), frame_select::video::VideoError>(())
    /// ```
    pub fn open_range(
        path: impl AsRef<Path>,
        offset: u64,
        len: u64,
        options: &DecodeOptions,
    ) -> Result<Self, VideoError> {
        Self::open_with(path.as_ref(), Some((offset, len)), options)
    }

    fn open_with(
        path: &Path,
        range: Option<(u64, u64)>,
        options: &DecodeOptions,
    ) -> Result<Self, VideoError> {
        let (input, info) = open_input_range(path, range)?;
        let stream = input
            .stream(info.stream_index)
            .expect("open_input returned this stream index");
        let unsupported = |e: ffmpeg::Error| VideoError::Unsupported {
            path: path.to_path_buf(),
            codec: info.codec.clone(),
            reason: e.to_string(),
        };
        let mut ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
            .map_err(unsupported)?;
        ctx.set_threading(ffmpeg::codec::threading::Config {
            kind: ffmpeg::codec::threading::Type::Frame,
            count: options.threads,
            ..Default::default()
        });
        let decoder = ctx.decoder().video().map_err(unsupported)?;
        if let Some(resize) = options.resize
            && resize.output_size(info.width, info.height).is_none()
        {
            return Err(VideoError::BadRequest {
                path: path.to_path_buf(),
                reason: format!("invalid output size {resize:?}"),
            });
        }
        let time_base = f64::from(stream.time_base());
        let start_pts = stream_start_pts(&stream);
        Ok(Self {
            path: path.to_path_buf(),
            info,
            input,
            decoder,
            resize: options.resize,
            converter: RgbConverter::new(options.resize),
            raw: ffmpeg::frame::Video::empty(),
            time_base,
            start_pts,
            next_index: 0,
            draining: false,
            finished: false,
            consecutive_failures: 0,
            max_consecutive_failures: options.max_consecutive_failures.max(1),
            failed_packets: 0,
            pending: false,
            pending_ts: None,
            delivered: 0,
            timeline_end: 0,
            empty_packets: 0,
            discarded_packets: 0,
            seeked: false,
            stopped: None,
            log: Captured::default(),
        })
    }

    /// What went wrong so far while decoding (see [`Damage`]). The frame
    /// count is compared with the container's only once the stream has been
    /// read to its end without seeking; before that `frames_announced` is
    /// `None`.
    pub fn damage(&self) -> Damage {
        let whole_pass = self.finished && !self.seeked;
        let (frames_announced, announced_from) = match (whole_pass, self.info.frame_count) {
            (false, _) => (None, None),
            (true, Some(n)) => (Some(n), Some("frame_count".to_string())),
            (true, None) => match self.info.estimated_frames() {
                Some(n) => (Some(n), Some("duration".to_string())),
                None => (None, None),
            },
        };
        let mut errors = self.log.messages.clone();
        let mut error_count = self.log.count;
        if let Some(stop) = &self.stopped {
            errors.push(stop.clone());
            error_count = error_count.saturating_add(1);
        }
        let mut damage = Damage {
            damaged: false,
            frames_decoded: self.delivered,
            timeline_frames: self.timeline_end,
            frames_announced,
            announced_from,
            skipped_packets: self.failed_packets,
            errors,
            error_count,
            stopped_early: self.stopped.is_some(),
            empty_packets: self.empty_packets,
            discarded_packets: self.discarded_packets,
        };
        damage.judge();
        damage
    }

    /// Stream facts.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// Size of the frames this reader returns, `(width, height)`.
    pub fn output_size(&self) -> (u32, u32) {
        match self.resize {
            Some(r) => r
                .output_size(self.info.width, self.info.height)
                .expect("checked in open"),
            None => (self.info.width, self.info.height),
        }
    }

    /// Packets that failed to decode and were skipped so far.
    pub fn failed_packets(&self) -> u64 {
        self.failed_packets
    }

    /// Index the next decoded frame will get.
    pub fn position(&self) -> u64 {
        self.next_index
    }

    /// Decodes the next frame; `Ok(None)` at the end of the stream. After an
    /// `Err` the reader is finished; frames returned before stay valid.
    pub fn next_frame(&mut self) -> Result<Option<DecodedFrame>, VideoError> {
        match self.advance()? {
            Some((index, time_s, position)) => Ok(Some(DecodedFrame {
                index,
                position,
                time_s,
                rgb: self.convert()?,
                key: self.raw.is_key(),
            })),
            None => Ok(None),
        }
    }

    /// Decodes the next frame without converting it to RGB (cheap skipping);
    /// returns its index and time, `None` at the end.
    pub fn skip_frame(&mut self) -> Result<Option<(u64, f64)>, VideoError> {
        Ok(self.advance()?.map(|(index, time_s, _)| (index, time_s)))
    }

    /// Positions the reader so that the next decoded frame is `index` (by
    /// timestamp: seeks to the keyframe at or before it, then decodes
    /// forward). Frames are then numbered from their timestamps, which
    /// equals the decode count for constant-frame-rate files.
    pub fn seek_to_frame(&mut self, index: u64) -> Result<(), VideoError> {
        if index == self.next_index && !self.finished {
            return Ok(());
        }
        let fps = self.info.fps;
        if fps <= 0.0 {
            return Err(self.bad(format!("cannot seek to frame {index}: frame rate unknown")));
        }
        let ts = seek_timestamp(index, fps);
        self.seeked = true;
        self.input
            .seek(ts, ..ts)
            .map_err(|e| self.bad(format!("seek to frame {index} failed: {e}")))?;
        self.decoder.flush();
        self.draining = false;
        self.pending = false;
        self.finished = false;
        self.next_index = 0;
        loop {
            let Some(decoded) = self.decode_raw()? else {
                return Err(self.bad(format!("frame {index} is past the end of the video")));
            };
            let found = self
                .index_from_timestamp(decoded)
                .unwrap_or(self.next_index);
            if found >= index {
                // Keep this frame for the next call.
                self.next_index = found;
                self.pending = true;
                self.pending_ts = decoded;
                return Ok(());
            }
            self.next_index = found + 1;
        }
    }

    pub(crate) fn bad(&self, reason: String) -> VideoError {
        VideoError::BadRequest {
            path: self.path.clone(),
            reason,
        }
    }

    fn index_from_timestamp(&self, ts: Option<i64>) -> Option<u64> {
        let ts = ts?;
        let seconds = (ts - self.start_pts) as f64 * self.time_base;
        Some((seconds * self.info.fps).round().max(0.0) as u64)
    }

    /// Decodes one frame into `raw`; `Some(timestamp)` when one was decoded,
    /// `None` at the end. FFmpeg's error messages raised meanwhile are kept
    /// for [`VideoReader::damage`].
    fn decode_raw(&mut self) -> Result<Option<Option<i64>>, VideoError> {
        let mut log = std::mem::take(&mut self.log);
        let out = capture(&mut log, || self.decode_raw_uncaptured());
        self.log = log;
        if let Err(e) = &out
            && self.stopped.is_none()
            && matches!(e, VideoError::Broken { .. })
        {
            self.stopped = Some(e.to_string());
        }
        out
    }

    fn decode_raw_uncaptured(&mut self) -> Result<Option<Option<i64>>, VideoError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            match self.decoder.receive_frame(&mut self.raw) {
                Ok(()) => {
                    self.consecutive_failures = 0;
                    // OpenCV's choice of timestamp: the frame's pts unless
                    // missing or 0, else the packet's dts (best-effort
                    // timestamps disagree on files like box.mp4, whose dts
                    // step back once).
                    let pts = self.raw.pts().filter(|&p| p != 0);
                    // SAFETY: reading a plain field of the decoded frame.
                    let dts = unsafe { (*self.raw.as_ptr()).pkt_dts };
                    let dts = (dts != ffmpeg::ffi::AV_NOPTS_VALUE).then_some(dts);
                    return Ok(Some(pts.or(dts).or(self.raw.timestamp())));
                }
                Err(ffmpeg::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {}
                Err(e) => {
                    // A frame that failed inside a threaded decoder: skip it
                    // like a bad packet.
                    self.note_failure(e)?;
                    continue;
                }
            }
            if self.draining {
                self.finished = true;
                return Ok(None);
            }
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.info.stream_index {
                        continue;
                    }
                    // Zero-size packets carry no picture (AVI "drop" chunks);
                    // sending one would signal end of stream to the decoder.
                    if packet.size() == 0 {
                        self.empty_packets += 1;
                        continue;
                    }
                    // The container's frame count includes packets its edit
                    // list hides; FFmpeg's decoder drops their frames.
                    if packet_flags(&packet) & ffmpeg::ffi::AV_PKT_FLAG_DISCARD != 0 {
                        self.discarded_packets += 1;
                    }
                    if let Err(e) = self.decoder.send_packet(&packet) {
                        self.note_failure(e)?;
                    }
                }
                Err(ffmpeg::Error::Eof) => {
                    self.draining = true;
                    // Cannot fail on an opened decoder except when already
                    // draining, which the flag rules out.
                    let _ = self.decoder.send_eof();
                }
                Err(e) => {
                    self.finished = true;
                    return Err(VideoError::Broken {
                        path: self.path.clone(),
                        frames_decoded: self.next_index,
                        reason: format!("container read failed: {e}"),
                    });
                }
            }
        }
    }

    fn note_failure(&mut self, e: ffmpeg::Error) -> Result<(), VideoError> {
        self.failed_packets += 1;
        self.consecutive_failures += 1;
        if self.consecutive_failures >= self.max_consecutive_failures {
            self.finished = true;
            return Err(VideoError::Broken {
                path: self.path.clone(),
                frames_decoded: self.next_index,
                reason: format!(
                    "{} packets in a row failed to decode, last: {e}",
                    self.consecutive_failures
                ),
            });
        }
        Ok(())
    }

    fn advance(&mut self) -> Result<Option<(u64, f64, u64)>, VideoError> {
        let ts = if self.pending {
            self.pending = false;
            self.pending_ts
        } else {
            match self.decode_raw()? {
                Some(ts) => ts,
                None => return Ok(None),
            }
        };
        let index = self.next_index;
        self.next_index += 1;
        self.delivered += 1;
        let fps = self.info.fps;
        let time_s = match ts {
            Some(ts) => (ts - self.start_pts) as f64 * self.time_base,
            None if fps > 0.0 => index as f64 / fps,
            None => 0.0,
        };
        // OpenCV's position: milliseconds from the stream start, which
        // PySceneDetect turns into whole microseconds, then into a frame
        // number with Python's round (half to even). Non-positive times fall
        // back to the decode count, as PySceneDetect does.
        let micros = (time_s * 1e6).round();
        let position = if micros <= 0.0 || fps <= 0.0 {
            index
        } else {
            (micros / 1e6 * fps).round_ties_even() as u64
        };
        self.timeline_end = self.timeline_end.max(position.saturating_add(1));
        Ok(Some((index, time_s, position)))
    }

    /// Converts `raw` to an RGB array of the output size.
    fn convert(&mut self) -> Result<Array3<u8>, VideoError> {
        self.converter
            .convert(&self.raw, &self.path, &self.info.codec, self.next_index)
    }

    /// Decodes the next frame and hands over FFmpeg's frame unconverted (no
    /// copy), for conversion on another thread.
    pub(crate) fn next_raw(&mut self) -> Result<Option<RawDecoded>, VideoError> {
        match self.advance()? {
            Some((index, time_s, position)) => {
                let key = self.raw.is_key();
                let frame = std::mem::replace(&mut self.raw, ffmpeg::frame::Video::empty());
                Ok(Some(RawDecoded {
                    index,
                    position,
                    time_s,
                    key,
                    frame,
                }))
            }
            None => Ok(None),
        }
    }
}

/// The stream's first timestamp, 0 when the container declares none.
pub(crate) fn stream_start_pts(stream: &ffmpeg::format::stream::Stream) -> i64 {
    if stream.start_time() == ffmpeg::ffi::AV_NOPTS_VALUE {
        0
    } else {
        stream.start_time()
    }
}

/// Seek target for frame `index` in `AV_TIME_BASE` units, half a frame
/// early so rounding never lands after the wanted frame.
pub(crate) fn seek_timestamp(index: u64, fps: f64) -> i64 {
    let seconds = (index as f64 - 0.5).max(0.0) / fps;
    (seconds * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64
}

/// A decoded frame still in FFmpeg's pixel format.
pub(crate) struct RawDecoded {
    pub index: u64,
    pub position: u64,
    pub time_s: f64,
    pub key: bool,
    pub frame: ffmpeg::frame::Video,
}

/// The packet's `AV_PKT_FLAG_*` bits (ffmpeg-next's `packet::Flags` has no
/// `DISCARD`).
fn packet_flags(packet: &ffmpeg::Packet) -> std::ffi::c_int {
    use ffmpeg::packet::Ref;
    // SAFETY: `as_ptr` points at the packet's own AVPacket, alive while
    // `packet` is borrowed.
    unsafe { (*packet.as_ptr()).flags }
}
