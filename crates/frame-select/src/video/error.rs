//! Typed errors of video I/O.

use std::path::PathBuf;

/// Why a video could not be opened, decoded or written.
///
/// Every variant names the file, so a report over thousands of videos says
/// which one failed and how.
///
/// ```
/// use frame_select::video::{VideoError, probe};
/// let dir = std::env::temp_dir();
/// let err = probe(&dir).unwrap_err();
/// assert!(matches!(err, VideoError::NotAFile { kind: "a directory", .. }));
/// assert_eq!((err.kind(), err.path()), ("not_a_file", dir.as_path()));
/// let empty = dir.join(format!("frame-select-doc-empty-{}.mp4", std::process::id()));
/// std::fs::write(&empty, b"")?;
/// assert!(matches!(probe(&empty), Err(VideoError::Empty { .. })));
/// std::fs::remove_file(&empty)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The file does not exist or cannot be read.
    #[error("{path}: cannot read file: {source}")]
    Io {
        /// The video file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The path is not a regular file: a directory, a FIFO, a device, a
    /// socket. Refused before FFmpeg opens it (a FIFO would block).
    #[error("{path}: not a regular file ({kind})")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead (`"a FIFO (named pipe)"`, `"a directory"`, ...).
        kind: &'static str,
    },
    /// The file is empty (zero bytes).
    #[error("{path}: file is empty (0 bytes)")]
    Empty {
        /// The video file.
        path: PathBuf,
    },
    /// FFmpeg does not recognise the file as a media container (not a video,
    /// or a header too damaged to parse).
    #[error("{path}: not a readable media file: {reason}")]
    NotMedia {
        /// The video file.
        path: PathBuf,
        /// FFmpeg's message.
        reason: String,
    },
    /// The container has no video stream (audio only, subtitles, ...).
    #[error("{path}: no video stream")]
    NoVideoStream {
        /// The video file.
        path: PathBuf,
    },
    /// The video stream's codec cannot be decoded by this FFmpeg build, or
    /// the stream lacks the parameters needed to decode it.
    #[error("{path}: cannot decode video stream ({codec}): {reason}")]
    Unsupported {
        /// The video file.
        path: PathBuf,
        /// Codec name as FFmpeg reports it.
        codec: String,
        /// What is missing.
        reason: String,
    },
    /// Decoding broke off part way: the container could not be read on, or
    /// too many packets in a row failed to decode. Frames before
    /// `frames_decoded` were delivered.
    #[error("{path}: stream broken after {frames_decoded} frames: {reason}")]
    Broken {
        /// The video file.
        path: PathBuf,
        /// Frames delivered before the break.
        frames_decoded: u64,
        /// FFmpeg's message.
        reason: String,
    },
    /// A request outside what the video holds (a frame index past the end,
    /// a zero output size, ...).
    #[error("{path}: {reason}")]
    BadRequest {
        /// The video file.
        path: PathBuf,
        /// What was asked and why it cannot be served.
        reason: String,
    },
    /// Writing a clip failed.
    #[error("{path}: cannot write clip: {reason}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// FFmpeg's or the file system's message.
        reason: String,
    },
}

impl VideoError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            VideoError::Io { path, .. }
            | VideoError::NotAFile { path, .. }
            | VideoError::Empty { path }
            | VideoError::NotMedia { path, .. }
            | VideoError::NoVideoStream { path }
            | VideoError::Unsupported { path, .. }
            | VideoError::Broken { path, .. }
            | VideoError::BadRequest { path, .. }
            | VideoError::Write { path, .. } => path,
        }
    }

    /// A short stable label for reports (`"broken"`, `"not_media"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            VideoError::Io { .. } => "io",
            VideoError::NotAFile { .. } => "not_a_file",
            VideoError::Empty { .. } => "empty",
            VideoError::NotMedia { .. } => "not_media",
            VideoError::NoVideoStream { .. } => "no_video_stream",
            VideoError::Unsupported { .. } => "unsupported",
            VideoError::Broken { .. } => "broken",
            VideoError::BadRequest { .. } => "bad_request",
            VideoError::Write { .. } => "write",
        }
    }
}
