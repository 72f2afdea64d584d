//! Decoding only the frames asked for.

use std::path::Path;

use super::{DecodeOptions, DecodedFrame, VideoError, VideoReader};

/// Decodes the frames at `indices` (any order, duplicates allowed; the
/// result is sorted by index without duplicates). Frames in between are
/// decoded but not converted; gaps longer than ten seconds are crossed by
/// seeking. Fails if the stream breaks or an index lies past the end.
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
pub fn sample_frames_lenient(
    path: impl AsRef<Path>,
    indices: &[u64],
    options: &DecodeOptions,
) -> (Vec<DecodedFrame>, Option<VideoError>) {
    let mut wanted = indices.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut frames = Vec::with_capacity(wanted.len());
    let mut reader = match VideoReader::open(path.as_ref(), options) {
        Ok(r) => r,
        Err(e) => return (frames, Some(e)),
    };
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
                    let err = VideoError::BadRequest {
                        path: path.as_ref().to_path_buf(),
                        reason: format!(
                            "frame {target} requested, video ended after {} frames",
                            reader.position()
                        ),
                    };
                    return (frames, Some(err));
                }
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}
