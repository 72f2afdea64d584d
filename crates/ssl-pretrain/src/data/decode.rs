//! Decoding a clip's frames with FFmpeg (frame-select's video reader): open
//! the file or the shard member in place, read the frame count, draw the
//! clip's frame ids, seek to the keyframe before the first and decode
//! forward, converting to RGB only the frames kept.

use ndarray::Array3;
use videomae::masking::MaskRng;

use frame_select::video::{DecodeOptions, VideoError, VideoReader, sample_frames_from};

use super::sampling::clip_indices;
use super::source::{ClipEntry, ClipLocation};
use super::views::{ClipView, repeated_views};
use super::{ClipFailure, LoaderConfig};

fn open(entry: &ClipEntry, options: &DecodeOptions) -> Result<VideoReader, VideoError> {
    match &entry.location {
        ClipLocation::File(path) => VideoReader::open(path, options),
        ClipLocation::Member { shard, offset, len } => {
            VideoReader::open_range(shard, *offset, *len, options)
        }
    }
}

/// The `num_frames` frames of one clip of `entry` (RGB, `height x width x
/// 3`, in clip order, repeated ids repeated), with the first frame drawn
/// from `rng` as the reference does (see [`clip_indices`]).
///
/// The frame count is the container's (or duration x rate), the `len()` the
/// reference's decord reader reports. A stream that ends before a needed
/// frame is [`ClipFailure::EndedEarly`], not padded.
///
/// ```no_run
/// use ssl_pretrain::data::{ClipEntry, ClipLocation, LoaderConfig, decode_clip_frames};
/// use videomae::masking::MaskRng;
/// let entry = ClipEntry { id: "walk".into(), location: ClipLocation::File("walk.mp4".into()) };
/// let frames = decode_clip_frames(&entry, &LoaderConfig::default(), &mut MaskRng::seed(0))?;
/// assert_eq!(frames.len(), 16);
/// # Ok::<(), ssl_pretrain::data::ClipFailure>(())
/// ```
pub fn decode_clip_frames(
    entry: &ClipEntry,
    config: &LoaderConfig,
    rng: &mut MaskRng,
) -> Result<Vec<Array3<u8>>, ClipFailure> {
    let options = DecodeOptions {
        threads: config.decoder_threads,
        ..DecodeOptions::default()
    };
    let mut reader = open(entry, &options)?;
    let info = reader.info();
    let announced = info
        .frame_count
        .or_else(|| info.estimated_frames())
        .ok_or(ClipFailure::NoFrameCount)?;
    if announced == 0 {
        return Err(ClipFailure::NoFrames);
    }
    let ids = clip_indices(announced, config.num_frames, config.sampling_rate, rng);
    // Decode only what the clip needs: from the keyframe at or before its
    // first frame (a seek) to its last frame.
    let first = ids.iter().copied().min().unwrap_or(0);
    if first > 0 {
        reader.seek_to_frame(first)?;
    }
    let (frames, error) = sample_frames_from(&mut reader, &ids);
    // Sorted and de-duplicated; map each id of the clip to its frame.
    let mut out = Vec::with_capacity(ids.len());
    for &id in &ids {
        match frames.binary_search_by_key(&id, |f| f.index) {
            Ok(i) => out.push(frames[i].rgb.clone()),
            Err(_) => {
                if let Some(e) = error {
                    return Err(e.into());
                }
                return Err(ClipFailure::EndedEarly {
                    last: frames.last().map_or(0, |f| f.index),
                    announced,
                    wanted: id,
                });
            }
        }
    }
    Ok(out)
}

/// The default clip function of [`ClipLoader`](super::ClipLoader): decode
/// the clip's frames once, then cut `num_sample` independently cropped
/// views from them.
///
/// ```no_run
/// use ssl_pretrain::data::{ClipEntry, ClipLocation, LoaderConfig, decode_views};
/// use videomae::masking::MaskRng;
/// let entry = ClipEntry { id: "walk".into(), location: ClipLocation::File("walk.mp4".into()) };
/// let views = decode_views(&entry, &LoaderConfig::default(), &mut MaskRng::seed(0))?;
/// assert_eq!(views.len(), 4); // num_sample
/// assert_eq!(views[0].pixels.len(), 16 * 3 * 224 * 224);
/// # Ok::<(), ssl_pretrain::data::ClipFailure>(())
/// ```
pub fn decode_views(
    entry: &ClipEntry,
    config: &LoaderConfig,
    rng: &mut MaskRng,
) -> Result<Vec<ClipView>, ClipFailure> {
    let frames = decode_clip_frames(entry, config, rng)?;
    Ok(repeated_views(
        &frames,
        &config.crop,
        config.num_sample,
        rng,
    ))
}
