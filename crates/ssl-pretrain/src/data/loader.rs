//! The parallel clip loader: worker threads decode and augment clips while
//! training runs, a bounded number ahead, and batches come out in an order
//! that depends only on (seed, epoch, dataset), never on the thread count or
//! on which worker finished first.
//!
//! - The epoch's order is a seeded shuffle of the source; clip `p` of that
//!   order draws its frames and crops from a generator seeded by (seed,
//!   epoch, p), so a worker's timing cannot change what it produces.
//! - At most `prefetch` clips are decoded or waiting at any time: memory is
//!   bounded by the queue, not by the dataset.
//! - A clip that cannot be read is skipped and counted by reason (never a
//!   stop or a stall): the next clip in the order takes its place, so every
//!   batch has `batch_size` clips. The last incomplete batch of an epoch is
//!   dropped, as the reference's `drop_last=True`.
//! - A batch can be resumed from its position: [`ClipLoader::epoch`] takes
//!   the position to start from, and every batch carries the position after
//!   its last clip.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use videomae::masking::MaskRng;

use super::source::{ClipEntry, ClipSource};
use super::views::ClipView;
use super::{ClipFailure, LoaderConfig};

/// Decodes and augments one clip into its views.
pub type ClipFn = dyn Fn(&ClipEntry, &LoaderConfig, &mut MaskRng) -> Result<Vec<ClipView>, ClipFailure>
    + Send
    + Sync;

/// A batch of clips, `batch_size` clips times `num_sample` views, views of
/// one clip next to each other (the reference's video-major collate).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use ssl_pretrain::data::*;
/// // Four clips; a stand-in for FFmpeg gives one 1x1 frame per view, and
/// // clip "c" is unreadable.
/// let clips: Vec<ClipEntry> = ["a", "b", "c", "d"].iter()
///     .map(|id| ClipEntry { id: id.to_string(), location: ClipLocation::File(format!("{id}.mp4").into()) })
///     .collect();
/// let load: Arc<ClipFn> = Arc::new(|e: &ClipEntry, c: &LoaderConfig, _rng: &mut _| {
///     if e.id == "c" { return Err(ClipFailure::NoFrames); }
///     Ok(vec![ClipView { pixels: vec![0.0; 3], crop: CropBox { x: 0, y: 0, w: 1, h: 1 } }; c.num_sample])
/// });
/// let config = LoaderConfig { batch_size: 3, num_frames: 1, workers: 2,
///     crop: MultiScaleCrop { input_size: 1, ..Default::default() }, ..Default::default() };
/// let loader = ClipLoader::with_fn(Arc::new(clips), config, load);
/// let report = Arc::new(Mutex::new(SkipReport::default()));
/// let batches: Vec<Batch> = loader.epoch(0, 0, report.clone()).collect();
/// assert_eq!(batches.len(), 1); // a, b, d: "c" skipped, another clip took its place
/// assert_eq!(batches[0].dims, [12, 1, 3, 1, 1]); // 3 clips x 4 views
/// assert_eq!(batches[0].next_position, 4);
/// assert_eq!(report.lock().unwrap().skipped["no_frames"], 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `(views, frames, 3, size, size)` row-major.
    pub pixels: Vec<f32>,
    /// The shape of `pixels`.
    pub dims: [usize; 5],
    /// Ids of the clips, one per clip (not per view).
    pub ids: Vec<String>,
    /// Position in the epoch's order just after this batch's last clip
    /// (skipped clips included): where a resumed run starts.
    pub next_position: usize,
    /// Time the caller waited for this batch.
    pub data_wait: Duration,
}

/// Clips that were skipped, by reason, with the first few ids of each.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use ssl_pretrain::data::*;
/// // Four clips; a stand-in for FFmpeg gives one 1x1 frame per view, and
/// // clip "c" is unreadable.
/// let clips: Vec<ClipEntry> = ["a", "b", "c", "d"].iter()
///     .map(|id| ClipEntry { id: id.to_string(), location: ClipLocation::File(format!("{id}.mp4").into()) })
///     .collect();
/// let load: Arc<ClipFn> = Arc::new(|e: &ClipEntry, c: &LoaderConfig, _rng: &mut _| {
///     if e.id == "c" { return Err(ClipFailure::NoFrames); }
///     Ok(vec![ClipView { pixels: vec![0.0; 3], crop: CropBox { x: 0, y: 0, w: 1, h: 1 } }; c.num_sample])
/// });
/// let config = LoaderConfig { batch_size: 3, num_frames: 1, workers: 2,
///     crop: MultiScaleCrop { input_size: 1, ..Default::default() }, ..Default::default() };
/// let loader = ClipLoader::with_fn(Arc::new(clips), config, load);
/// let report = Arc::new(Mutex::new(SkipReport::default()));
/// let batches: Vec<Batch> = loader.epoch(0, 0, report.clone()).collect();
/// assert_eq!(batches.len(), 1); // a, b, d: "c" skipped, another clip took its place
/// assert_eq!(batches[0].dims, [12, 1, 3, 1, 1]); // 3 clips x 4 views
/// assert_eq!(batches[0].next_position, 4);
/// assert_eq!(report.lock().unwrap().skipped["no_frames"], 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkipReport {
    /// Clips decoded and used.
    pub loaded: u64,
    /// Skipped clips per reason (`not_media`, `broken`, `too_short`, ...).
    pub skipped: BTreeMap<String, u64>,
    /// Up to [`SKIP_EXAMPLES`] `(id, message)` per reason.
    pub examples: BTreeMap<String, Vec<(String, String)>>,
}

/// Examples kept per skip reason.
pub const SKIP_EXAMPLES: usize = 10;

impl SkipReport {
    fn record(&mut self, id: &str, failure: &ClipFailure) {
        let reason = failure.reason().to_string();
        *self.skipped.entry(reason.clone()).or_default() += 1;
        let examples = self.examples.entry(reason).or_default();
        if examples.len() < SKIP_EXAMPLES {
            examples.push((id.to_string(), failure.to_string()));
        }
    }

    /// Skipped clips, all reasons.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// A 64-bit mix (splitmix64's finaliser) of the run seed, the epoch and a
/// position: independent generators for every clip of every epoch.
fn mix(seed: u64, epoch: u64, position: u64) -> u64 {
    let mut z = seed
        ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ position.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The order of the source's clips in `epoch`: a Fisher-Yates shuffle
/// seeded by (seed, epoch).
///
/// ```
/// use ssl_pretrain::data::epoch_order;
/// let order = epoch_order(10, 7, 0);
/// let mut sorted = order.clone();
/// sorted.sort();
/// assert_eq!(sorted, (0..10).collect::<Vec<_>>()); // a permutation
/// assert_eq!(order, epoch_order(10, 7, 0)); // a pure function of its inputs
/// assert_ne!(order, epoch_order(10, 7, 1));
/// ```
pub fn epoch_order(len: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut rng = MaskRng::seed(mix(seed, epoch, u64::MAX));
    for i in (1..len).rev() {
        let j = rng.below_u64(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

/// The loader: a source, the settings, and the function that turns a clip
/// into views (FFmpeg decoding by default, see [`decode_views`](super::decode_views)).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use ssl_pretrain::data::*;
/// // Four clips; a stand-in for FFmpeg gives one 1x1 frame per view, and
/// // clip "c" is unreadable.
/// let clips: Vec<ClipEntry> = ["a", "b", "c", "d"].iter()
///     .map(|id| ClipEntry { id: id.to_string(), location: ClipLocation::File(format!("{id}.mp4").into()) })
///     .collect();
/// let load: Arc<ClipFn> = Arc::new(|e: &ClipEntry, c: &LoaderConfig, _rng: &mut _| {
///     if e.id == "c" { return Err(ClipFailure::NoFrames); }
///     Ok(vec![ClipView { pixels: vec![0.0; 3], crop: CropBox { x: 0, y: 0, w: 1, h: 1 } }; c.num_sample])
/// });
/// let config = LoaderConfig { batch_size: 3, num_frames: 1, workers: 2,
///     crop: MultiScaleCrop { input_size: 1, ..Default::default() }, ..Default::default() };
/// let loader = ClipLoader::with_fn(Arc::new(clips), config, load);
/// let report = Arc::new(Mutex::new(SkipReport::default()));
/// let batches: Vec<Batch> = loader.epoch(0, 0, report.clone()).collect();
/// assert_eq!(batches.len(), 1); // a, b, d: "c" skipped, another clip took its place
/// assert_eq!(batches[0].dims, [12, 1, 3, 1, 1]); // 3 clips x 4 views
/// assert_eq!(batches[0].next_position, 4);
/// assert_eq!(report.lock().unwrap().skipped["no_frames"], 1);
/// ```
pub struct ClipLoader {
    source: Arc<dyn ClipSource>,
    config: LoaderConfig,
    load: Arc<ClipFn>,
}

type Task = (usize, usize);
type Done = (usize, String, Result<Vec<ClipView>, ClipFailure>);

impl ClipLoader {
    /// A loader over `source` that decodes with FFmpeg
    /// ([`decode_views`](super::decode_views)); the config is validated.
    pub fn new(
        source: Arc<dyn ClipSource>,
        config: LoaderConfig,
    ) -> Result<Self, super::DataError> {
        config.validate()?;
        Ok(Self::with_fn(source, config, Arc::new(super::decode_views)))
    }

    /// A loader over `source` that turns clips into views with `load` (a
    /// decoder of the user's, or a synthetic one in tests).
    pub fn with_fn(source: Arc<dyn ClipSource>, config: LoaderConfig, load: Arc<ClipFn>) -> Self {
        ClipLoader {
            source,
            config,
            load,
        }
    }

    /// The settings.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Clips in the source.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// True when the source is empty.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Full batches an epoch gives at most (fewer when clips are skipped).
    pub fn batches_per_epoch(&self) -> usize {
        self.source.len() / self.config.batch_size.max(1)
    }

    /// The batches of `epoch`, starting at `position` in its order (0 for
    /// a new epoch; a batch's `next_position` to resume). Skips are added
    /// to `report` as they happen.
    pub fn epoch(&self, epoch: u64, position: usize, report: Arc<Mutex<SkipReport>>) -> Batches {
        let order = Arc::new(epoch_order(self.source.len(), self.config.seed, epoch));
        let workers = self.config.workers.max(1);
        let prefetch = self.config.prefetch.max(workers);
        let (task_tx, task_rx) = sync_channel::<Task>(prefetch);
        let (done_tx, done_rx) = sync_channel::<Done>(prefetch);
        let task_rx = Arc::new(Mutex::new(task_rx));
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..workers)
            .map(|_| {
                let (task_rx, done_tx) = (Arc::clone(&task_rx), done_tx.clone());
                let stop = Arc::clone(&stop);
                let (source, load, config) = (
                    Arc::clone(&self.source),
                    Arc::clone(&self.load),
                    self.config.clone(),
                );
                std::thread::spawn(move || {
                    worker(&task_rx, &done_tx, &stop, &*source, &*load, &config, epoch)
                })
            })
            .collect();
        Batches {
            order,
            frames: self.config.num_frames,
            size: self.config.crop.input_size,
            batch_size: self.config.batch_size.max(1),
            next_dispatch: position,
            next_consume: position,
            in_flight: 0,
            prefetch,
            task_tx: Some(task_tx),
            done_rx,
            ready: HashMap::new(),
            report,
            handles,
            stop,
        }
    }
}

fn worker(
    tasks: &Mutex<Receiver<Task>>,
    done: &SyncSender<Done>,
    stop: &AtomicBool,
    source: &dyn ClipSource,
    load: &ClipFn,
    config: &LoaderConfig,
    epoch: u64,
) {
    loop {
        // The lock is held only while taking a task.
        let task = tasks.lock().map(|rx| rx.recv());
        let Ok(Ok((position, index))) = task else {
            return;
        };
        // Tasks still queued when the batches are dropped are not decoded.
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let entry = source.entry(index);
        let mut rng = MaskRng::seed(mix(config.seed, epoch, position as u64));
        let result = load(&entry, config, &mut rng);
        if done.send((position, entry.id, result)).is_err() {
            return;
        }
    }
}

/// The batches of one epoch, in order (an iterator). Dropping it stops the
/// workers.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use ssl_pretrain::data::*;
/// // Four clips; a stand-in for FFmpeg gives one 1x1 frame per view, and
/// // clip "c" is unreadable.
/// let clips: Vec<ClipEntry> = ["a", "b", "c", "d"].iter()
///     .map(|id| ClipEntry { id: id.to_string(), location: ClipLocation::File(format!("{id}.mp4").into()) })
///     .collect();
/// let load: Arc<ClipFn> = Arc::new(|e: &ClipEntry, c: &LoaderConfig, _rng: &mut _| {
///     if e.id == "c" { return Err(ClipFailure::NoFrames); }
///     Ok(vec![ClipView { pixels: vec![0.0; 3], crop: CropBox { x: 0, y: 0, w: 1, h: 1 } }; c.num_sample])
/// });
/// let config = LoaderConfig { batch_size: 3, num_frames: 1, workers: 2,
///     crop: MultiScaleCrop { input_size: 1, ..Default::default() }, ..Default::default() };
/// let loader = ClipLoader::with_fn(Arc::new(clips), config, load);
/// let report = Arc::new(Mutex::new(SkipReport::default()));
/// let batches: Vec<Batch> = loader.epoch(0, 0, report.clone()).collect();
/// assert_eq!(batches.len(), 1); // a, b, d: "c" skipped, another clip took its place
/// assert_eq!(batches[0].dims, [12, 1, 3, 1, 1]); // 3 clips x 4 views
/// assert_eq!(batches[0].next_position, 4);
/// assert_eq!(report.lock().unwrap().skipped["no_frames"], 1);
/// ```
pub struct Batches {
    order: Arc<Vec<usize>>,
    frames: usize,
    size: usize,
    batch_size: usize,
    next_dispatch: usize,
    next_consume: usize,
    in_flight: usize,
    prefetch: usize,
    task_tx: Option<SyncSender<Task>>,
    done_rx: Receiver<Done>,
    ready: HashMap<usize, (String, Result<Vec<ClipView>, ClipFailure>)>,
    report: Arc<Mutex<SkipReport>>,
    handles: Vec<JoinHandle<()>>,
    /// Set when dropped: workers stop taking queued clips.
    stop: Arc<AtomicBool>,
}

impl Batches {
    /// Keeps `prefetch` clips requested ahead of the consumer.
    fn dispatch(&mut self) {
        while self.in_flight < self.prefetch && self.next_dispatch < self.order.len() {
            let Some(tx) = &self.task_tx else { return };
            if tx
                .send((self.next_dispatch, self.order[self.next_dispatch]))
                .is_err()
            {
                return;
            }
            self.next_dispatch += 1;
            self.in_flight += 1;
        }
    }

    /// The result for the next position in order, waiting for it.
    fn next_result(&mut self) -> Option<(String, Result<Vec<ClipView>, ClipFailure>)> {
        if self.next_consume >= self.order.len() {
            return None;
        }
        self.dispatch();
        while !self.ready.contains_key(&self.next_consume) {
            let (position, id, result) = self.done_rx.recv().ok()?;
            self.ready.insert(position, (id, result));
        }
        let out = self.ready.remove(&self.next_consume);
        self.next_consume += 1;
        self.in_flight -= 1;
        self.dispatch();
        out
    }
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let start = Instant::now();
        let mut ids = Vec::with_capacity(self.batch_size);
        let mut views: Vec<ClipView> = Vec::new();
        while ids.len() < self.batch_size {
            let (id, result) = self.next_result()?;
            let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(v) => {
                    report.loaded += 1;
                    views.extend(v);
                    ids.push(id);
                }
                Err(failure) => report.record(&id, &failure),
            }
        }
        let per_view = views.first().map_or(0, |v| v.pixels.len());
        let mut pixels = Vec::with_capacity(per_view * views.len());
        for v in &views {
            pixels.extend_from_slice(&v.pixels);
        }
        Some(Batch {
            dims: [views.len(), self.frames, 3, self.size, self.size],
            pixels,
            ids,
            next_position: self.next_consume,
            data_wait: start.elapsed(),
        })
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        // Workers stop after their current clip: the flag makes them skip
        // the clips still queued (up to `prefetch` of them), and the closed
        // queue ends them. The result queue has room for every clip in
        // flight, so none blocks on its last send.
        self.stop.store(true, Ordering::Relaxed);
        self.task_tx = None;
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}
