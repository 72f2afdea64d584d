//! [`FilterFields`]: the values filters read, implemented by the owned
//! [`VideoRecord`] here and by the borrowed view (in `view`) that ingest
//! checks before materialising a record. It lives with the records, not with
//! the filters, so that records depend on no later stage.

use std::path::Path;

use super::VideoRecord;

/// The values filters read; implemented by [`VideoRecord`] and by the
/// borrowed view that ingest builds before materialising a record.
pub(crate) trait FilterFields {
    fn duration(&self) -> Option<f64>;
    fn size(&self) -> Option<(u32, u32)>;
    fn fps(&self) -> Option<f64>;
    fn language(&self) -> Option<&str>;
    fn region(&self) -> Option<&str>;
    fn views(&self) -> Option<u64>;
    fn likes(&self) -> Option<u64>;
    /// Whether `pred` holds for a normalised hashtag.
    fn any_tag(&self, pred: &mut dyn FnMut(&str) -> bool) -> bool;
    /// The resolved media file (`None` on the view: see `needs_media`).
    fn media_path(&self) -> Option<&Path>;
}

impl FilterFields for VideoRecord {
    fn duration(&self) -> Option<f64> {
        self.duration
    }
    fn size(&self) -> Option<(u32, u32)> {
        self.width.zip(self.height)
    }
    fn fps(&self) -> Option<f64> {
        self.fps
    }
    fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    fn views(&self) -> Option<u64> {
        self.views
    }
    fn likes(&self) -> Option<u64> {
        self.likes
    }
    fn any_tag(&self, pred: &mut dyn FnMut(&str) -> bool) -> bool {
        self.hashtags.iter().any(|h| pred(&h.tag))
    }
    fn media_path(&self) -> Option<&Path> {
        self.media_path.as_deref()
    }
}
