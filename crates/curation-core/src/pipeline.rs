//! [`curate`]: ingest -> filter -> manifest, lists and shards, in one
//! streaming pass with constant memory (apart from the dedup sets).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic::{AtomicFile, write_json};
use crate::error::{CurationError, IngestError, InvalidValue};
use crate::filter::{Filter, FilterConfig};
use crate::ingest::{RecordBatches, discover_inputs};
use crate::labels::LabelMap;
use crate::provenance::{Provenance, utc_now};
use crate::report::FilterReport;
use crate::shard::{MemberData, ShardLimits, ShardSummary, ShardWriter, shard_key};
use crate::split::{Split, split_of};

/// What to curate and where to write it.
///
/// ```
/// use curation_core::{CurateOptions, CurationError};
/// let mut opts = CurateOptions::new(vec!["crawl/".into()], "out/");
/// assert_eq!(opts.val_fraction, 0.1);
/// assert!(opts.validate().is_ok());
/// opts.val_fraction = 1.5;
/// assert!(matches!(opts.validate(), Err(CurationError::Invalid(v)) if v.field == "val_fraction"));
/// ```
#[derive(Debug, Clone)]
pub struct CurateOptions {
    /// Folders and files to read (see [`discover_inputs`]).
    pub inputs: Vec<PathBuf>,
    /// Filters.
    pub config: FilterConfig,
    /// Output folder (created).
    pub out_dir: PathBuf,
    /// Write WebDataset shards to `<out_dir>/shards` with these limits.
    pub shards: Option<ShardLimits>,
    /// Write fine-tuning lists with these classes.
    pub label_map: Option<LabelMap>,
    /// Share of labelled records that go to `val.csv`, in [0, 1].
    pub val_fraction: f64,
    /// Folders besides the input folders where media files may lie. Media
    /// paths come from untrusted metadata: a record whose media file
    /// (symlinks and `..` resolved) lies elsewhere is rejected with
    /// [`Reason::MediaOutsideRoots`](crate::Reason::MediaOutsideRoots).
    pub media_roots: Vec<PathBuf>,
}

impl CurateOptions {
    /// Options with default filters, no shards and no fine-tuning lists.
    pub fn new(inputs: Vec<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        CurateOptions {
            inputs,
            config: FilterConfig::default(),
            out_dir: out_dir.into(),
            shards: None,
            label_map: None,
            val_fraction: 0.1,
            media_roots: Vec::new(),
        }
    }

    /// Checks every option before anything is read or written: the filter
    /// config ([`FilterConfig::validate`]), the val fraction, the shard
    /// limits, the label map and the media roots. The error names the field.
    pub fn validate(&self) -> Result<(), CurationError> {
        self.config.validate()?;
        let f = self.val_fraction;
        if !(0.0..=1.0).contains(&f) {
            return Err(InvalidValue::new("val_fraction", format!("{f} is not in [0, 1]")).into());
        }
        if let Some(l) = &self.shards {
            if l.max_samples == 0 {
                return Err(InvalidValue::new(
                    "shards.max_samples",
                    "0: a shard holds at least one sample",
                )
                .into());
            }
            if l.max_bytes == 0 {
                return Err(InvalidValue::new(
                    "shards.max_bytes",
                    "0: a shard needs room for a sample",
                )
                .into());
            }
        }
        if let Some(map) = &self.label_map {
            map.validate()?;
        }
        for (i, root) in self.media_roots.iter().enumerate() {
            if !root.is_dir() {
                return Err(InvalidValue::new(
                    format!("media_roots[{i}]"),
                    format!("{}: no such folder", root.display()),
                )
                .into());
            }
        }
        Ok(())
    }

    /// The folders media may come from: each input folder (a file input's
    /// own folder) and [`media_roots`](Self::media_roots).
    pub fn allowed_media_roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self
            .inputs
            .iter()
            .map(|p| {
                if p.is_dir() {
                    p.clone()
                } else {
                    match p.parent() {
                        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                        _ => PathBuf::from("."),
                    }
                }
            })
            .collect();
        roots.extend(self.media_roots.iter().cloned());
        roots
    }

    /// Refuses input paths that cannot be used before anything is written:
    /// missing or unsupported paths given by name, and inputs inside the
    /// output folder (their files would be overwritten or skipped).
    fn check_inputs(&self, discover_errors: &[IngestError]) -> Result<(), CurationError> {
        let named: Vec<IngestError> = discover_errors
            .iter()
            .filter_map(|e| match e {
                IngestError::NotFound { path } => {
                    Some(IngestError::NotFound { path: path.clone() })
                }
                IngestError::Unsupported { path } => {
                    Some(IngestError::Unsupported { path: path.clone() })
                }
                _ => None,
            })
            .collect();
        if !named.is_empty() {
            return Err(CurationError::Inputs { errors: named });
        }
        let Ok(out_abs) = std::fs::canonicalize(&self.out_dir) else {
            return Ok(());
        };
        for input in &self.inputs {
            if let Ok(abs) = std::fs::canonicalize(input)
                && abs.starts_with(&out_abs)
            {
                return Err(CurationError::InputInOutput {
                    input: input.clone(),
                    out: self.out_dir.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Progress after each batch.
///
/// ```
/// use curation_core::{curate, CurateOptions, Progress};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-progress-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, "{\"id\": \"a\"}\n{\"id\": \"b\"}\n")?;
/// let mut last = Progress::default();
/// curate(&CurateOptions::new(vec![crawl], dir.join("out")), &mut |p| last = p)?;
/// assert_eq!((last.records_read, last.kept), (2, 2));
/// assert_eq!((last.bytes_done, last.bytes_total), (24, 24)); // 2 lines of 12 bytes
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes consumed.
    pub bytes_done: u64,
    /// Input bytes in all.
    pub bytes_total: u64,
    /// Records parsed so far.
    pub records_read: u64,
    /// Records kept so far.
    pub kept: u64,
}

/// Counts of the fine-tuning lists.
///
/// ```
/// use curation_core::{curate, CurateOptions, FinetuneCounts, LabelMap};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-finetune-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("a.mp4"), b"a")?;
/// std::fs::write(dir.join("b.mp4"), b"b")?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, concat!(
///     "{\"id\": \"a\", \"media_path\": \"a.mp4\", \"label\": \"salsa\"}\n",
///     "{\"id\": \"b\", \"media_path\": \"b.mp4\"}\n",
/// ))?;
/// let mut opts = CurateOptions::new(vec![crawl], dir.join("out"));
/// opts.label_map = Some(LabelMap::from_names(&["salsa"]));
/// opts.val_fraction = 0.0; // every labelled record goes to train.csv
/// let counts = curate(&opts, &mut |_| {})?.outputs.finetune.unwrap();
/// assert_eq!(counts, FinetuneCounts { train: 1, val: 0, unlabeled: 1 });
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FinetuneCounts {
    /// Lines in `train.csv`.
    pub train: u64,
    /// Lines in `val.csv`.
    pub val: u64,
    /// Kept records with media but no class.
    pub unlabeled: u64,
}

/// What a run wrote, beside the filter counts.
///
/// ```
/// use curation_core::{curate, CurateOptions};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-outputs-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("a.mp4"), b"a")?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, concat!(
///     "{\"id\": \"a\", \"media_path\": \"a.mp4\"}\n",
///     "{\"id\": \"b\", \"media_path\": \"not-downloaded.mp4\"}\n",
/// ))?;
/// let out = curate(&CurateOptions::new(vec![crawl], dir.join("out")), &mut |_| {})?.outputs;
/// assert_eq!((out.manifest, out.pretrain_list, out.without_media), (2, 1, 1));
/// assert!(out.finetune.is_none() && out.shards.is_none()); // not asked for
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutputCounts {
    /// Lines in `manifest.jsonl` (= kept records).
    pub manifest: u64,
    /// Lines in `pretrain_list.txt`.
    pub pretrain_list: u64,
    /// Kept records left out of the lists because their media file is not on
    /// disk (or no path is known).
    pub without_media: u64,
    /// Kept records left out of the lists because their media path contains
    /// whitespace, which VideoMAE's space-separated lists cannot hold.
    pub unlistable_path: u64,
    /// Fine-tuning lists, when a label map was given.
    pub finetune: Option<FinetuneCounts>,
    /// Shards, when asked for.
    pub shards: Option<ShardSummary>,
}

/// Everything a run reports; written as `filter_report.json`.
///
/// ```
/// use curation_core::{curate, ingest::InputFormat, CurateOptions};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-summary-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, "{\"id\": \"a\"}\n{\"id\": \"a\"}\n")?;
/// let summary = curate(&CurateOptions::new(vec![crawl], dir.join("out")), &mut |_| {})?;
/// assert_eq!((summary.report.kept, summary.report.rejected), (1, 1)); // a repeated id
/// assert_eq!(summary.provenance.inputs[0].format, InputFormat::JsonLines);
/// assert!(dir.join("out/filter_report.json").is_file());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct CurateSummary {
    /// Filter counts and ingest errors.
    #[serde(flatten)]
    pub report: FilterReport,
    /// What was written.
    pub outputs: OutputCounts,
    /// Config, inputs, version, times.
    pub provenance: Provenance,
}

/// Runs a whole curation pass; see the crate docs for the files written.
///
/// Unreadable files inside input folders and bad records are counted in the
/// report and never stop the run. Errors, each before any output is
/// replaced: invalid options ([`CurateOptions::validate`]), an input path
/// that does not exist or cannot be read, an input inside the output folder,
/// an output path that is a file, a run that read no record at all
/// ([`CurationError::NothingRead`]: the earlier outputs stay), and output
/// failures. A failed run leaves no `.tmp` files.
///
/// ```
/// use curation_core::{curate, CurateOptions, Range, Reason};
/// # let dir = std::env::temp_dir().join(format!("curation-doc-curate-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir)?;
/// let crawl = dir.join("crawl.jsonl");
/// std::fs::write(&crawl, concat!(
///     "{\"id\": \"a\", \"duration\": 10}\n",
///     "{\"id\": \"b\", \"duration\": 1}\n",
///     "{\"id\": \"c\"}\n",
/// ))?;
/// let mut opts = CurateOptions::new(vec![crawl], dir.join("out"));
/// opts.config.duration = Some(Range { min: Some(3.0), max: None });
/// let summary = curate(&opts, &mut |_| {})?;
/// assert_eq!((summary.report.records_read, summary.report.kept), (3, 1));
/// assert_eq!(summary.report.reasons[&Reason::DurationMissing].examples, ["c"]);
/// let manifest = std::fs::read_to_string(dir.join("out/manifest.jsonl"))?;
/// assert_eq!(manifest.lines().count(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn curate(
    opts: &CurateOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<CurateSummary, CurationError> {
    opts.validate()?;
    let out = &opts.out_dir;
    if std::fs::metadata(out).is_ok_and(|m| !m.is_dir()) {
        return Err(CurationError::OutNotFolder { path: out.clone() });
    }
    let (mut files, discover_errors) = discover_inputs(&opts.inputs);
    opts.check_inputs(&discover_errors)?;
    std::fs::create_dir_all(out).map_err(CurationError::io(out))?;
    // An output folder inside an input folder must not be read back.
    if let Ok(out_abs) = std::fs::canonicalize(out) {
        files.retain(|f| std::fs::canonicalize(&f.path).map_or(true, |p| !p.starts_with(&out_abs)));
    }
    let mut report = FilterReport::default();
    for e in &discover_errors {
        report.ingest_error(e);
    }
    let mut prov = Provenance::start(&opts.config, files.clone());
    let mut p = Progress {
        bytes_total: files.iter().map(|f| f.bytes).sum(),
        ..Progress::default()
    };

    let mut filter = Filter::new(opts.config.clone()).with_media_roots(&opts.allowed_media_roots());
    let mut manifest = AtomicFile::create(out.join("manifest.jsonl"))?;
    let mut pretrain = AtomicFile::create(out.join("pretrain_list.txt"))?;
    let mut lists = match &opts.label_map {
        Some(map) => Some((
            map.index(),
            AtomicFile::create(out.join("train.csv"))?,
            AtomicFile::create(out.join("val.csv"))?,
        )),
        None => None,
    };
    let mut shards = match opts.shards {
        Some(limits) => Some(ShardWriter::open(&out.join("shards"), limits)?),
        None => None,
    };
    let mut counts = OutputCounts {
        finetune: lists.as_ref().map(|_| FinetuneCounts::default()),
        ..OutputCounts::default()
    };

    for batch in RecordBatches::new(files).with_prefilter(filter.rules()) {
        let bytes = batch.bytes;
        let kept = filter.apply_batch(batch, &mut report);
        for r in &kept {
            let json = serde_json::to_string(r).map_err(|e| CurationError::Io {
                path: out.join("manifest.jsonl"),
                source: std::io::Error::other(format!("record {}: {e}", r.id)),
            })?;
            manifest.line(&json)?;
            counts.manifest += 1;
            let media = r.media_path.as_deref().filter(|m| m.is_file());
            // VideoMAE splits list lines on spaces: such paths cannot be
            // listed (they stay in the manifest and the shards).
            let listed =
                match media.map(|m| m.to_str().filter(|p| !p.contains(char::is_whitespace))) {
                    None => {
                        counts.without_media += 1;
                        None
                    }
                    Some(None) => {
                        counts.unlistable_path += 1;
                        None
                    }
                    Some(Some(p)) => Some(p),
                };
            if let Some(m) = listed {
                pretrain.line(format_args!("{m} 0 -1"))?;
                counts.pretrain_list += 1;
            }
            if let (Some((index, train, val)), Some(m), Some(fc)) =
                (&mut lists, listed, &mut counts.finetune)
            {
                match index.label_of(r) {
                    Some(label) if split_of(&r.id, opts.val_fraction) == Split::Val => {
                        val.line(format_args!("{m} {label}"))?;
                        fc.val += 1;
                    }
                    Some(label) => {
                        train.line(format_args!("{m} {label}"))?;
                        fc.train += 1;
                    }
                    None => fc.unlabeled += 1,
                }
            }
            if let Some(w) = &mut shards {
                write_sample(w, r, media, json)?;
            }
        }
        p.bytes_done += bytes;
        p.records_read = report.records_read;
        p.kept = report.kept;
        progress(p);
    }

    if report.records_read == 0 {
        // Nothing was read (a typo in a path, an empty or unreadable crawl):
        // replacing a good earlier result with empty files would lose it.
        // Dropping the writers removes their `.tmp` files.
        return Err(CurationError::NothingRead {
            out: out.clone(),
            report: Box::new(report),
        });
    }
    manifest.commit()?;
    pretrain.commit()?;
    if let (Some((_, train, val)), Some(map)) = (lists, &opts.label_map) {
        train.commit()?;
        val.commit()?;
        map.write(out)?;
    }
    counts.shards = shards.map(ShardWriter::finish).transpose()?;
    prov.finished_at = utc_now();
    write_json(&out.join("manifest.provenance.json"), &prov)?;
    let summary = CurateSummary {
        report,
        outputs: counts,
        provenance: prov,
    };
    write_json(&out.join("filter_report.json"), &summary)?;
    Ok(summary)
}

fn write_sample(
    w: &mut ShardWriter,
    r: &crate::VideoRecord,
    media: Option<&Path>,
    json: String,
) -> Result<(), CurationError> {
    let mut members = vec![("json", MemberData::Bytes(json.into_bytes()))];
    let ext;
    if let Some(m) = media {
        // The member name comes from a file name in the crawl: anything but
        // a plain extension (`x.`, `a.mp\\4`) becomes `bin` rather than a
        // shard error that would stop the run.
        ext = m
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .filter(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or_else(|| "bin".into());
        members.insert(0, (ext.as_str(), MemberData::File(m.to_owned())));
    }
    w.write(&shard_key(&r.id), &members)?;
    Ok(())
}
