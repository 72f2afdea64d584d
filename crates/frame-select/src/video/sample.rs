//! Decoding only the frames asked for.

use std::path::Path;

use super::{DecodeOptions, DecodedFrame, VideoError, VideoReader};

/// Decodes the frames at `indices` (any order, duplicates allowed; the
/// result is sorted by index without duplicates). Frames in between are
/// decoded but not converted; gaps longer than ten seconds are crossed by
/// seeking. Fails if the stream breaks or an index lies past the end.
///
/// ```no_run
/// use frame_select::video::{DecodeOptions, sample_frames};
/// // Any order, duplicates allowed: sorted and deduplicated in the result.
/// let frames = sample_frames("walk.mp4", &[50, 0, 50, 25], &DecodeOptions::default())?;
/// let indices: Vec<u64> = frames.iter().map(|f| f.index).collect();
/// assert_eq!(indices, [0, 25, 50]);
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub fn sample_frames(
    path: impl AsRef<Path>,
    indices: &[u64],
    options: &DecodeOptions,
) -> Result<Vec<DecodedFrame>, VideoError> {
    match sample_frames_lenient(path, indices, options) {
        (frames, None) => Ok(frames),
        (_, Some(err)) => Err(err),
    }
}

/// Like [`sample_frames`], but keeps what was decoded before a failure: the
/// frames reached and the error that stopped decoding, if any. Use it for
/// damaged files whose first part is still useful.
///
/// ```no_run
/// use frame_select::video::{DecodeOptions, sample_frames_lenient};
/// // A truncated file: the frames before the damage still come back.
/// let (frames, error) = sample_frames_lenient("truncated.mp4", &[0, 10, 10_000], &DecodeOptions::default());
/// assert_eq!(frames.len(), 2);
/// assert!(error.is_some());
/// ```
pub fn sample_frames_lenient(
    path: impl AsRef<Path>,
    indices: &[u64],
    options: &DecodeOptions,
) -> (Vec<DecodedFrame>, Option<VideoError>) {
    match VideoReader::open(path.as_ref(), options) {
        Ok(mut reader) => sample_frames_from(&mut reader, indices),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// [`sample_frames_lenient`] on a reader already open (a tar member opened
/// with [`VideoReader::open_range`], or a reader positioned with
/// [`VideoReader::seek_to_frame`]): indices before its position are not
/// decoded again and come back missing.
///
/// ```no_run
/// use frame_select::video::{DecodeOptions, VideoReader, sample_frames_from};
/// let mut reader = VideoReader::open("walk.mp4", &DecodeOptions::default())?;
/// reader.seek_to_frame(100)?; // to the keyframe before 100, then forward
/// let (frames, error) = sample_frames_from(&mut reader, &[100, 104, 108]);
/// assert!(error.is_none() && frames.len() == 3);
/// # Ok::<(), frame_select::video::VideoError>(())
/// ```
pub fn sample_frames_from(
    reader: &mut VideoReader,
    indices: &[u64],
) -> (Vec<DecodedFrame>, Option<VideoError>) {
    let mut wanted = indices.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut frames = Vec::with_capacity(wanted.len());
    let seek_gap = (reader.info().fps * 10.0).max(1.0) as u64;
    for &target in &wanted {
        if target > reader.position() + seek_gap
            && let Err(e) = reader.seek_to_frame(target)
        {
            return (frames, Some(e));
        }
        loop {
            // After a seek on a variable-frame-rate file the timestamps may
            // step over `target`; the first frame at or after it stands in.
            let step = if reader.position() >= target {
                reader.next_frame().map(|f| f.map(Some))
            } else {
                reader.skip_frame().map(|f| f.map(|_| None))
            };
            match step {
                Ok(Some(Some(frame))) => {
                    frames.push(frame);
                    break;
                }
                Ok(Some(None)) => {}
                Ok(None) => {
                    let err = reader.bad(format!(
                        "frame {target} requested, video ended after {} frames",
                        reader.position()
                    ));
                    return (frames, Some(err));
                }
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}
