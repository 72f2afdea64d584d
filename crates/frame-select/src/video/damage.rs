//! [`Damage`]: what a decoding pass saw wrong with a file that still gave
//! frames, so a truncated or corrupt video is reported rather than analysed
//! as if it were whole.

/// Signs of damage gathered while decoding a video from its start.
///
/// A damaged file still yields the frames before the damage, and the
/// analyses run on those; this says how much of the file they cover and
/// what FFmpeg complained about. `damaged` is the verdict; the other fields
/// say why.
///
/// Usually read from a decoding result ([`VideoReader::damage`](super::VideoReader::damage),
/// [`FrameStream::damage`](super::FrameStream::damage), a scene or selection
/// result); here one of a file cut off half way:
///
/// ```
/// use frame_select::video::Damage;
/// let cut_off = Damage {
///     damaged: true,
///     frames_decoded: 52,
///     frames_announced: Some(100),
///     announced_from: Some("frame_count".into()),
///     ..Damage::default()
/// };
/// assert_eq!(cut_off.missing_frames(), 48);
/// assert_eq!(cut_off.summary(), "52 of 100 frames decoded (container frame_count)");
/// assert_eq!(Damage::default().summary(), ""); // not damaged
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Damage {
    /// True when any sign below shows damage.
    pub damaged: bool,
    /// Frames the decoder delivered.
    pub frames_decoded: u64,
    /// Frames the decoded timestamps span (last frame's position + 1): a
    /// variable-rate file (an AVI that leaves out repeated frames) announces
    /// the frames of its timeline, not the pictures it stores.
    pub timeline_frames: u64,
    /// Frames the container announces: its declared frame count, else its
    /// duration x frame rate (`None` when it states neither, or when the
    /// pass seeked so the counts cannot be compared).
    pub frames_announced: Option<u64>,
    /// Where `frames_announced` comes from: `"frame_count"` (declared) or
    /// `"duration"` (estimated; compared with a tolerance).
    pub announced_from: Option<String>,
    /// Zero-size packets (AVI "drop" chunks): frames the container counts
    /// that carry no picture on purpose; they count as present.
    pub empty_packets: u64,
    /// Packets the container marks for discarding: an edit list (a cut
    /// copied without re-encoding starts at a keyframe before the cut and
    /// hides the frames up to it) leaves them in the frame count but FFmpeg
    /// never shows their frames; they count as present.
    pub discarded_packets: u64,
    /// Packets that failed to decode and were skipped.
    pub skipped_packets: u64,
    /// Error messages of FFmpeg's demuxer and decoder (the first few) and
    /// the error that stopped decoding, if one did.
    pub errors: Vec<String>,
    /// All errors seen, including those not kept in `errors`.
    pub error_count: u64,
    /// Decoding stopped on an error before the end of the stream.
    pub stopped_early: bool,
}

/// A duration-based estimate may be off by rounding and by container
/// padding; short of it by more than this share (and more than two frames)
/// counts as missing frames.
const DURATION_TOLERANCE: f64 = 0.05;

impl Damage {
    /// Recomputes [`Damage::damaged`] from the other fields.
    pub(crate) fn judge(&mut self) {
        self.damaged = self.stopped_early
            || self.skipped_packets > 0
            || self.error_count > 0
            || self.missing_frames() > 0;
    }

    /// Frames the container announces that were not decoded (0 when the
    /// container announces none, or when the shortfall is within the
    /// tolerance of a duration-based estimate).
    pub fn missing_frames(&self) -> u64 {
        let Some(announced) = self.frames_announced else {
            return 0;
        };
        let present = self
            .frames_decoded
            .saturating_add(self.empty_packets)
            .saturating_add(self.discarded_packets)
            .max(self.timeline_frames);
        let short = announced.saturating_sub(present);
        if self.announced_from.as_deref() == Some("duration") {
            let slack = ((announced as f64 * DURATION_TOLERANCE).ceil() as u64).max(2);
            if short <= slack {
                return 0;
            }
        }
        short
    }

    /// One line for logs and reports, e.g. `"52 of 100 frames decoded
    /// (container frame_count); 3 errors, first: partial file"`; empty when
    /// not damaged.
    pub fn summary(&self) -> String {
        if !self.damaged {
            return String::new();
        }
        let mut parts = Vec::new();
        match (self.frames_announced, &self.announced_from) {
            (Some(n), Some(from)) => parts.push(format!(
                "{} of {n} frames decoded (container {from})",
                self.frames_decoded
            )),
            _ => parts.push(format!("{} frames decoded", self.frames_decoded)),
        }
        if self.stopped_early {
            parts.push("decoding stopped on an error".into());
        }
        if self.skipped_packets > 0 {
            parts.push(format!("{} packets skipped", self.skipped_packets));
        }
        if self.error_count > 0 {
            let first = self.errors.first().map(String::as_str).unwrap_or("");
            parts.push(format!("{} errors, first: {first}", self.error_count));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(decoded: u64, announced: u64, from: &str) -> Damage {
        let mut d = Damage {
            frames_decoded: decoded,
            frames_announced: Some(announced),
            announced_from: Some(from.into()),
            ..Damage::default()
        };
        d.judge();
        d
    }

    #[test]
    fn missing_frames_against_declared_and_estimated_counts() {
        assert!(!counted(100, 100, "frame_count").damaged);
        assert!(counted(99, 100, "frame_count").damaged);
        assert_eq!(counted(52, 100, "frame_count").missing_frames(), 48);
        // Estimates: 5% (at least 2 frames) of slack.
        assert!(!counted(96, 100, "duration").damaged);
        assert!(counted(94, 100, "duration").damaged);
        assert!(!counted(8, 10, "duration").damaged);
        assert!(counted(7, 10, "duration").damaged);
        // More frames than announced is not damage.
        assert!(!counted(120, 100, "frame_count").damaged);
        let d = counted(52, 100, "frame_count");
        assert_eq!(
            d.summary(),
            "52 of 100 frames decoded (container frame_count)"
        );
        assert_eq!(Damage::default().summary(), "");
        // 62 pictures shown of 95 stored, 33 hidden by an edit list: whole.
        let mut cut = counted(62, 95, "frame_count");
        cut.discarded_packets = 33;
        cut.judge();
        assert!(!cut.damaged);
        cut.discarded_packets = 32;
        cut.judge();
        assert_eq!(cut.missing_frames(), 1);
        // 68 pictures spread over a 444-frame timeline (tree.avi) are whole.
        let mut vfr = counted(68, 444, "frame_count");
        vfr.timeline_frames = 444;
        vfr.judge();
        assert!(!vfr.damaged);
    }
}
