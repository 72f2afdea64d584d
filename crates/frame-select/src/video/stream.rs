//! Decoding on a second thread: FFmpeg decodes and converts the next frames
//! while the caller analyses the current one, so a single video uses two
//! cores even with codecs FFmpeg cannot thread (MPEG-4 part 2, Cinepak).

use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};

use super::convert::RgbConverter;
use super::reader::RawDecoded;
use super::{Damage, DecodeOptions, DecodedFrame, VideoError, VideoInfo, VideoReader};

enum Msg {
    Opened(Box<VideoInfo>),
    /// A frame in FFmpeg's format: the consumer converts it, so decoding
    /// and colour conversion run on different cores.
    Frame(Box<RawDecoded>),
    /// Opening or decoding failed; with the damage seen up to then.
    Failed(VideoError, Box<Damage>),
    /// End of stream, with what went wrong on the way.
    Done(Box<Damage>),
}

/// Frames of a video decoded ahead on another thread (a few frames of
/// look-ahead), in order. Ends after the last frame or the first error.
///
/// ```no_run
/// use frame_select::video::{DecodeOptions, with_frame_stream};
/// use frame_select::quality::{gray, laplacian_variance};
/// let sharpest = with_frame_stream("walk.mp4".as_ref(), &DecodeOptions::default(), |_info, frames| {
///     let mut best = 0.0f64;
///     for frame in &mut *frames {
///         let frame = frame?;
///         best = best.max(laplacian_variance(gray(frame.rgb.view()).view()));
///     }
///     assert!(!frames.damage().damaged, "{}", frames.damage().summary());
///     Ok::<_, frame_select::video::VideoError>(best)
/// })??;
/// println!("sharpest frame: {sharpest:.1}");
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub struct FrameStream<'a> {
    rx: &'a Receiver<Msg>,
    done: bool,
    damage: Damage,
    converter: RgbConverter,
    path: &'a Path,
    codec: String,
}

impl FrameStream<'_> {
    /// Packets skipped as undecodable (known once the stream ended).
    pub fn failed_packets(&self) -> u64 {
        self.damage.skipped_packets
    }

    /// What went wrong while decoding: complete once the stream ended (the
    /// iterator returned `None` or an error); before that it is empty.
    pub fn damage(&self) -> &Damage {
        &self.damage
    }
}

impl Iterator for FrameStream<'_> {
    type Item = Result<DecodedFrame, VideoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.rx.recv() {
            Ok(Msg::Frame(raw)) => {
                let rgb = self
                    .converter
                    .convert(&raw.frame, self.path, &self.codec, raw.index);
                match rgb {
                    Ok(rgb) => Some(Ok(DecodedFrame {
                        index: raw.index,
                        position: raw.position,
                        time_s: raw.time_s,
                        rgb,
                        key: raw.key,
                    })),
                    Err(e) => {
                        self.done = true;
                        self.damage.frames_decoded = raw.index;
                        self.damage.stopped_early = true;
                        self.damage.errors.push(e.to_string());
                        self.damage.error_count += 1;
                        self.damage.judge();
                        Some(Err(e))
                    }
                }
            }
            Ok(Msg::Failed(e, damage)) => {
                self.done = true;
                self.damage = *damage;
                Some(Err(e))
            }
            Ok(Msg::Done(damage)) => {
                self.damage = *damage;
                self.done = true;
                None
            }
            // The decoder thread never sends `Opened` twice and only stops
            // after `Done`/`Failed`, so a closed channel means it panicked.
            Ok(Msg::Opened(_)) | Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

/// Opens `path` and runs `consume` on its frames while a second thread
/// decodes ahead. Fails only if the file cannot be opened; errors during
/// decoding arrive as the stream's last item.
///
/// ```no_run
/// use frame_select::video::{DecodeOptions, with_frame_stream};
/// let (fps, frames) = with_frame_stream("walk.mp4".as_ref(), &DecodeOptions::default(), |info, frames| {
///     (info.fps, frames.filter(|f| f.is_ok()).count())
/// })?;
/// println!("{frames} frames at {fps} fps");
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub fn with_frame_stream<R>(
    path: &Path,
    options: &DecodeOptions,
    consume: impl FnOnce(&VideoInfo, &mut FrameStream<'_>) -> R,
) -> Result<R, VideoError> {
    let (tx, rx) = sync_channel::<Msg>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut reader = match VideoReader::open(path, options) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Msg::Failed(e, Box::default()));
                    return;
                }
            };
            if tx
                .send(Msg::Opened(Box::new(reader.info().clone())))
                .is_err()
            {
                return;
            }
            loop {
                let msg = match reader.next_raw() {
                    Ok(Some(f)) => Msg::Frame(Box::new(f)),
                    Ok(None) => Msg::Done(Box::new(reader.damage())),
                    Err(e) => Msg::Failed(e, Box::new(reader.damage())),
                };
                let last = !matches!(msg, Msg::Frame(_));
                // The consumer may stop early; then sending fails and the
                // thread ends.
                if tx.send(msg).is_err() || last {
                    return;
                }
            }
        });
        let info = match rx.recv() {
            Ok(Msg::Opened(info)) => info,
            Ok(Msg::Failed(e, _)) => return Err(e),
            _ => {
                return Err(VideoError::BadRequest {
                    path: path.to_path_buf(),
                    reason: "decoder thread stopped before opening the file".into(),
                });
            }
        };
        let out = {
            let mut stream = FrameStream {
                rx: &rx,
                done: false,
                damage: Damage::default(),
                converter: RgbConverter::new(options.resize),
                path,
                codec: info.codec.clone(),
            };
            consume(&info, &mut stream)
        };
        // Closing the channel unblocks the decoder if the consumer stopped
        // early; the scope then joins it.
        drop(rx);
        Ok(out)
    })
}
