//! Declarative metadata filters ([`FilterConfig`], a TOML or JSON file) and
//! their application: [`FilterRules`] are the stateless checks (run in
//! parallel, also on records before they are materialised: ingest's
//! `RecordBatches::with_prefilter`), [`Filter`] adds duplicate ids and
//! duplicate media content, judged in input order.
//!
//! Filters read records ([`VideoRecord`], the borrowed view through
//! `FilterFields`) and [`Batch`]es, never ingest itself: ingest depends on
//! filters (for the prefilter), not the other way round.

mod config;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub use config::{FilterConfig, Range, Reason, ReasonSet};

use crate::batch::Batch;
use crate::record::{FilterFields, VideoRecord};
use crate::report::FilterReport;

/// A sorted, deduplicated list: faster than hashing for the few to few
/// thousand tags of an allow/deny list, checked for every hashtag of every
/// record.
#[derive(Debug)]
struct SortedSet(Vec<String>);

impl SortedSet {
    fn new(mut v: Vec<String>) -> Self {
        v.sort_unstable();
        v.dedup();
        SortedSet(v)
    }
    fn contains(&self, s: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(s)).is_ok()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether language tag `l` is `allowed` or one of its subtags (`en` admits
/// `en-US` and `EN_gb`, not `eng`), without allocating.
fn language_matches(l: &str, allowed: &str) -> bool {
    let (l, a) = (l.trim().as_bytes(), allowed.as_bytes());
    let same = |x: u8, y: u8| {
        let fold = |c: u8| {
            if c == b'_' {
                b'-'
            } else {
                c.to_ascii_lowercase()
            }
        };
        fold(x) == fold(y)
    };
    l.len() >= a.len()
        && l.iter().zip(a).all(|(&x, &y)| same(x, y))
        && (l.len() == a.len() || matches!(l[a.len()], b'-' | b'_'))
}

/// The stateless checks of a [`FilterConfig`]; shareable across threads.
///
/// ```
/// use curation_core::{FilterConfig, FilterRules, Hashtag, Range, Reason, VideoRecord};
/// let rules = FilterRules::new(FilterConfig {
///     duration: Some(Range { min: Some(3.0), max: None }),
///     hashtags_deny: vec!["#AD".into()], // matched on normal forms
///     ..FilterConfig::default()
/// });
/// let mut r = VideoRecord { id: "a".into(), duration: Some(1.0), ..VideoRecord::default() };
/// r.hashtags = vec![Hashtag::new("ad").unwrap()];
/// assert_eq!(rules.check(&r), [Reason::Duration, Reason::HashtagDenied]);
/// ```
#[derive(Debug)]
pub struct FilterRules {
    config: FilterConfig,
    allow: SortedSet,
    deny: SortedSet,
}

impl FilterRules {
    /// Prepares `config` (normalises the hashtag lists).
    pub fn new(config: FilterConfig) -> Self {
        let tags =
            |v: &[String]| SortedSet::new(v.iter().map(|t| crate::normalize_hashtag(t)).collect());
        FilterRules {
            allow: tags(&config.hashtags_allow),
            deny: tags(&config.hashtags_deny),
            config,
        }
    }

    /// The config in force.
    pub fn config(&self) -> &FilterConfig {
        &self.config
    }

    /// Whether a check needs the media file, which only the materialised
    /// record has (relative paths are resolved against the input folder).
    pub(crate) fn needs_media(&self) -> bool {
        self.config.require_media
    }

    /// Every failing stateless check of `r`, in check order (empty = passes).
    /// Duplicates are judged by [`Filter::apply`], against kept records.
    pub fn check(&self, r: &VideoRecord) -> Vec<Reason> {
        self.check_fields(r).iter().collect()
    }

    /// The checks, on a record or on the unbuilt view of one; `Reason`'s
    /// order is the order of the checks below.
    pub(crate) fn check_fields(&self, r: &impl FilterFields) -> ReasonSet {
        let c = &self.config;
        let mut out = ReasonSet::default();
        let mut test = |value: Option<bool>, fail: Reason, missing: Reason| match value {
            Some(true) => {}
            Some(false) => out.insert(fail),
            None if c.keep_missing => {}
            None => out.insert(missing),
        };
        if let Some(range) = &c.duration {
            let ok = r.duration().map(|d| range.contains(d));
            test(ok, Reason::Duration, Reason::DurationMissing);
        }
        let size = r.size().filter(|&(w, h)| w > 0 && h > 0);
        if let Some(min) = c.min_short_side {
            let ok = size.map(|(w, h)| w.min(h) >= min);
            test(ok, Reason::ShortSide, Reason::SizeMissing);
        }
        if let Some(range) = &c.aspect_ratio {
            let ok = size.map(|(w, h)| range.contains(w as f64 / h as f64));
            test(ok, Reason::AspectRatio, Reason::SizeMissing);
        }
        if let Some(range) = &c.fps {
            test(
                r.fps().map(|f| range.contains(f)),
                Reason::Fps,
                Reason::FpsMissing,
            );
        }
        if !c.languages.is_empty() {
            let ok = r
                .language()
                .map(|l| c.languages.iter().any(|a| language_matches(l, a.trim())));
            test(ok, Reason::Language, Reason::LanguageMissing);
        }
        if !c.regions.is_empty() {
            let ok = r.region().map(|g| {
                c.regions
                    .iter()
                    .any(|a| g.trim().eq_ignore_ascii_case(a.trim()))
            });
            test(ok, Reason::Region, Reason::RegionMissing);
        }
        if let Some(min) = c.min_views {
            test(
                r.views().map(|v| v >= min),
                Reason::Views,
                Reason::ViewsMissing,
            );
        }
        if let Some(min) = c.min_likes {
            test(
                r.likes().map(|v| v >= min),
                Reason::Likes,
                Reason::LikesMissing,
            );
        }
        if !self.deny.is_empty() && r.any_tag(&mut |t| self.deny.contains(t)) {
            out.insert(Reason::HashtagDenied);
        }
        if !self.allow.is_empty() && !r.any_tag(&mut |t| self.allow.contains(t)) {
            out.insert(Reason::HashtagNotAllowed);
        }
        if c.require_media && !r.media_path().is_some_and(Path::is_file) {
            out.insert(Reason::MediaMissing);
        }
        out
    }
}

/// [`FilterRules`] plus the dedup state of a run.
///
/// ```
/// use curation_core::{Filter, FilterConfig, FilterReport, Reason, VideoRecord};
/// let mut filter = Filter::try_new(FilterConfig::default())?;
/// let rec = |id: &str| VideoRecord { id: id.into(), ..VideoRecord::default() };
/// let mut report = FilterReport::default();
/// let kept = filter.apply(vec![rec("a"), rec("b"), rec("a")], &mut report);
/// assert_eq!(kept.len(), 2);
/// assert_eq!(report.reasons[&Reason::DuplicateId].examples, ["a"]);
/// // The dedup state lasts across batches.
/// assert!(filter.apply(vec![rec("b")], &mut report).is_empty());
/// # Ok::<(), curation_core::InvalidValue>(())
/// ```
pub struct Filter {
    rules: Arc<FilterRules>,
    seen_ids: HashSet<String>,
    seen_content: HashMap<[u8; 32], String>,
    media_roots: Option<Vec<PathBuf>>,
}

/// Whether an existing media file lies outside every root. Symlinks and `..`
/// are resolved first (canonical paths), so neither can lead out. A path
/// whose file does not exist is never read, so it is not judged.
fn outside_roots(media: &Path, roots: &[PathBuf]) -> bool {
    match std::fs::canonicalize(media) {
        Ok(real) => !roots.iter().any(|root| real.starts_with(root)),
        Err(_) => false,
    }
}

impl Filter {
    /// Prepares `config` for a run.
    pub fn new(config: FilterConfig) -> Self {
        Filter {
            rules: Arc::new(FilterRules::new(config)),
            seen_ids: HashSet::new(),
            seen_content: HashMap::new(),
            media_roots: None,
        }
    }

    /// [`new`](Self::new) after [`FilterConfig::validate`]: a config built
    /// in code with a NaN bound or min > max would silently reject every
    /// record.
    pub fn try_new(config: FilterConfig) -> Result<Self, crate::InvalidValue> {
        config.validate()?;
        Ok(Filter::new(config))
    }

    /// Rejects records whose media file (after resolving symlinks and `..`)
    /// lies outside these folders, with [`Reason::MediaOutsideRoots`]: media
    /// paths come from untrusted metadata and must not pull arbitrary local
    /// files (`/etc/passwd`, `/proc/self/environ`) into lists and shards.
    /// [`curate`](crate::curate) passes the input folders plus
    /// [`CurateOptions::media_roots`](crate::CurateOptions::media_roots).
    /// Roots that do not exist are ignored (they can hold nothing).
    pub fn with_media_roots<P: AsRef<Path>>(mut self, roots: &[P]) -> Self {
        self.media_roots = Some(
            roots
                .iter()
                .filter_map(|r| std::fs::canonicalize(r).ok())
                .collect(),
        );
        self
    }

    /// The config in force.
    pub fn config(&self) -> &FilterConfig {
        &self.rules.config
    }

    /// The stateless checks, to hand to ingest's
    /// `RecordBatches::with_prefilter`.
    pub fn rules(&self) -> Arc<FilterRules> {
        Arc::clone(&self.rules)
    }

    /// Every failing stateless check of `r` (see [`FilterRules::check`]).
    pub fn check(&self, r: &VideoRecord) -> Vec<Reason> {
        self.rules.check(r)
    }

    /// Counts a whole [`Batch`] (its ingest errors, the counts of records a
    /// prefilter already rejected, then the rest through
    /// [`apply`](Self::apply)) and returns the kept records in input order.
    ///
    /// Prefilter rejections fail a metadata check, and records reaching
    /// `apply` pass every metadata check, so counting the two groups one
    /// after the other gives the same report as checking them interleaved.
    pub fn apply_batch(&mut self, batch: Batch, report: &mut FilterReport) -> Vec<VideoRecord> {
        for e in &batch.errors {
            report.ingest_error(e);
        }
        report.merge(batch.prefiltered);
        self.apply(batch.records, report)
    }

    /// Filters one batch in parallel, updating the dedup state and `report`;
    /// returns the kept records in input order.
    pub fn apply(
        &mut self,
        records: Vec<VideoRecord>,
        report: &mut FilterReport,
    ) -> Vec<VideoRecord> {
        let dedup_content = self.rules.config.dedup_content;
        // Media is hashed only for records that pass every other check.
        type Verdict = (ReasonSet, Option<std::io::Result<[u8; 32]>>);
        let verdicts: Vec<Verdict> = records
            .par_iter()
            .map(|r| {
                let mut reasons = self.rules.check_fields(r);
                if let (Some(roots), Some(media)) = (&self.media_roots, &r.media_path)
                    && outside_roots(media, roots)
                {
                    reasons.insert(Reason::MediaOutsideRoots);
                }
                // A path whose file is not there (metadata-only crawls) is
                // not checked; a file that exists but cannot be read is.
                let hash = match (&r.media_path, dedup_content && reasons.is_empty()) {
                    (Some(p), true) if p.is_file() => Some(hash_file(p)),
                    _ => None,
                };
                (reasons, hash)
            })
            .collect();
        // Duplicates depend on input order: judged sequentially, on the
        // records that pass every other check.
        let mut keep = vec![false; records.len()];
        for ((r, (mut reasons, hash)), keep) in records.iter().zip(verdicts).zip(&mut keep) {
            if reasons.is_empty() {
                if self.rules.config.dedup_ids && self.seen_ids.contains(&r.id) {
                    reasons.insert(Reason::DuplicateId);
                }
                match hash {
                    Some(Err(_)) => reasons.insert(Reason::MediaUnreadable),
                    Some(Ok(h)) if self.seen_content.contains_key(&h) => {
                        reasons.insert(Reason::DuplicateContent)
                    }
                    Some(Ok(h)) if reasons.is_empty() => {
                        self.seen_content.insert(h, r.id.clone());
                    }
                    _ => {}
                }
            }
            report.count(&r.id, reasons);
            if reasons.is_empty() {
                if self.rules.config.dedup_ids {
                    self.seen_ids.insert(r.id.clone());
                }
                *keep = true;
            }
        }
        // Rejected records are dropped on the worker threads, not here.
        records
            .into_par_iter()
            .zip(keep)
            .filter_map(|(r, k)| k.then_some(r))
            .collect()
    }
}

/// SHA-256 of a file, streamed.
///
/// ```
/// use curation_core::filter::hash_file;
/// let path = std::env::temp_dir().join(format!("curation-doc-hash-{}.bin", std::process::id()));
/// std::fs::write(&path, b"abc")?;
/// // SHA-256("abc") begins ba 78 16 bf.
/// assert_eq!(hash_file(&path)?[..4], [0xba, 0x78, 0x16, 0xbf]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn hash_file(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
