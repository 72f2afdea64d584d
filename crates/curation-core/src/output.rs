//! The paths of the files-written helpers before they were split into
//! [`atomic`](crate::atomic), [`split`](crate::split),
//! [`labels`](crate::labels) and [`provenance`](crate::provenance); kept so
//! that `curation_core::output::…` keeps compiling. New code uses those
//! modules (or the crate-root re-exports).

pub use crate::atomic::{AtomicFile, write_json};
pub use crate::labels::{LabelClass, LabelIndex, LabelMap};
pub use crate::provenance::{Provenance, rfc3339, utc_now};
pub use crate::split::{Split, id_unit_hash, split_of};
