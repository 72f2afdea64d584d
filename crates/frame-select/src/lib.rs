//! # frame-select: decode-once vision selection of clips
//!
//! //! ## Role
//! The vision stage of the tubelet data engine. From one decoding pass per
//! video (video-rs over FFmpeg) it detects shots (PySceneDetect-equivalent
//! content and adaptive detectors), keeps the longest scene, scores frame
//! quality, computes a near-duplicate signature, checks for people (HOG
//! people detector on CPU, YOLOv8 in Burn) and extracts the kept clip.
//!
//! ## Modules
//! - [`video`]: probe, decode (threaded, downscale in FFmpeg's scaler),
//!   seek, sample frame indices, decode ahead on a second thread, write clips
//!   (stream copy or H.264), typed [`video::VideoError`]s.
//! - [`scene`]: PySceneDetect 0.7-equivalent content and adaptive detectors
//!   (same cut frames on the reference videos), scene lists, longest scene.
//! - [`quality`]: sharpness, exposure, blank frames, motion.
//! - [`hash`]: pHash / dHash, video signatures, a BK-tree Hamming index.
//! - [`detect`]: the [`detect::PersonDetector`] trait, OpenCV's HOG people
//!   detector (bundled coefficients) and YOLOv8 in Burn.
//! - [`select`]: the decode-once selection over folders or manifests.
//!
//! ## Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `yolo` | yes | `detect::yolo`, YOLOv8 in Burn, and the `burn` re-export; pulls in Burn and `safetensors` |
//!
//! With `default-features = false` the crate builds without Burn: video I/O,
//! shot detection, quality, hashing, HOG person detection and the selection
//! pipeline all remain; a [`select::SelectionConfig`] asking for
//! `person_detector = "yolov8"` is then refused by
//! [`detect::from_config`] with [`detect::DetectError::Config`] naming the
//! missing feature.
//!
//! Frames in public signatures are [`ndarray`] arrays (and YOLOv8's model is
//! generic over a `burn` backend), so both crates are re-exported: use
//! `frame_select::ndarray` instead of adding a matching `ndarray` version
//! yourself.
//!
//! ```no_run
//! use frame_select::scene::{DetectorConfig, detect_scenes};
//! let found = detect_scenes("clip.mp4", &DetectorConfig::default())?;
//! println!("cuts at {:?}, longest scene {:?}", found.cuts, frame_select::scene::longest_scene(&found.scenes));
//! # Ok::<(), frame_select::video::VideoError>(())
//! ```
//!
//! ## Place in the data flow
//! ```text
//! metadata ─► hashtag groups ─► filters ─► [frame selection] ─► shards ─► pretraining ─► fine-tuning ─► report
//! ```
//! It consumes the manifest written by `curation-core` and reports in the same
//! style as `curation_core::FilterReport`; the clips it keeps go into
//! `curation-core`'s WebDataset shards.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The `burn` crate frame-select's YOLOv8 is written in (feature `yolo`), so
/// callers name backends and tensors with the same version.
#[cfg(feature = "yolo")]
#[cfg_attr(docsrs, doc(cfg(feature = "yolo")))]
pub use burn;
/// The `ndarray` crate frames are exchanged in (`height x width x 3` RGB
/// `u8` arrays), so callers build frames with the same version.
pub use ndarray;

pub mod detect;
pub mod hash;
pub mod quality;
pub mod scene;
pub mod select;
pub mod video;
