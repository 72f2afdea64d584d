//! [`FilterReport`]: what a curation run read, kept and rejected, and why.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{IngestError, IngestFailure};
use crate::filter::{Reason, ReasonSet};

/// Example ids kept per reason.
pub const EXAMPLES_PER_REASON: usize = 5;
/// Ingest errors listed in full; beyond this only the count grows.
pub const MAX_LISTED_ERRORS: usize = 10_000;

/// Count and example ids for one rejection reason.
///
/// ```
/// use curation_core::ReasonStats;
/// let mut s = ReasonStats::default();
/// s.record("a", true);
/// s.record("b", false); // "b" failed another check first
/// assert_eq!((s.first, s.any), (1, 2));
/// assert_eq!(s.examples, ["a"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonStats {
    /// Records rejected with this as their first failing reason.
    pub first: u64,
    /// Records failing this check at all.
    pub any: u64,
    /// Up to [`EXAMPLES_PER_REASON`] ids whose first reason this is.
    pub examples: Vec<String>,
}

impl ReasonStats {
    /// Counts one record failing this check; `first` when it is the
    /// record's first failing reason (then its id may become an example).
    pub fn record(&mut self, id: &str, first: bool) {
        self.any += 1;
        if first {
            self.first += 1;
            if self.examples.len() < EXAMPLES_PER_REASON {
                self.examples.push(id.to_owned());
            }
        }
    }
}

/// Counts of a curation run. A record is counted under its first failing
/// reason (`first`) and under every failing reason (`any`).
///
/// ```
/// use curation_core::{filter::ReasonSet, FilterReport, Reason};
/// let mut report = FilterReport::default();
/// report.count("a", ReasonSet::default()); // kept
/// report.count("b", [Reason::Views, Reason::Duration].into_iter().collect());
/// let mut other = FilterReport::default();
/// other.count("c", [Reason::Views].into_iter().collect());
/// report.merge(other);
/// assert_eq!((report.records_read, report.kept, report.rejected), (3, 1, 2));
/// let views = &report.reasons[&Reason::Views];
/// assert_eq!((views.first, views.any), (1, 2)); // "b" failed `duration` first
/// assert!(report.to_string().contains("kept                    1  (33.3%)"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterReport {
    /// Records parsed from the inputs.
    pub records_read: u64,
    /// Records kept.
    pub kept: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Per reason, keyed by its snake_case name, in check order.
    pub reasons: BTreeMap<Reason, ReasonStats>,
    /// Files or lines that could not be read.
    pub ingest_error_count: u64,
    /// The first [`MAX_LISTED_ERRORS`] of them.
    pub ingest_errors: Vec<IngestFailure>,
}

impl FilterReport {
    /// Counts one record with its failing reasons (empty = kept).
    pub fn count(&mut self, id: &str, reasons: ReasonSet) {
        self.records_read += 1;
        if reasons.is_empty() {
            self.kept += 1;
            return;
        }
        self.rejected += 1;
        for (i, reason) in reasons.iter().enumerate() {
            self.reasons.entry(reason).or_default().record(id, i == 0);
        }
    }

    /// Records an ingest error.
    pub fn ingest_error(&mut self, e: &IngestError) {
        self.ingest_error_count += 1;
        if self.ingest_errors.len() < MAX_LISTED_ERRORS {
            self.ingest_errors.push(e.to_failure());
        }
    }

    /// Adds another report's counts (for example of a parallel shard of work).
    pub fn merge(&mut self, other: FilterReport) {
        self.records_read += other.records_read;
        self.kept += other.kept;
        self.rejected += other.rejected;
        for (reason, s) in other.reasons {
            let mine = self.reasons.entry(reason).or_default();
            mine.first += s.first;
            mine.any += s.any;
            let room = EXAMPLES_PER_REASON.saturating_sub(mine.examples.len());
            mine.examples.extend(s.examples.into_iter().take(room));
        }
        self.ingest_error_count += other.ingest_error_count;
        let room = MAX_LISTED_ERRORS.saturating_sub(self.ingest_errors.len());
        self.ingest_errors
            .extend(other.ingest_errors.into_iter().take(room));
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl fmt::Display for FilterReport {
    /// A readable table: totals, then one row per reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "records read   {:>10}", self.records_read)?;
        writeln!(
            f,
            "kept           {:>10}  ({:.1}%)",
            self.kept,
            pct(self.kept, self.records_read)
        )?;
        writeln!(
            f,
            "rejected       {:>10}  ({:.1}%)",
            self.rejected,
            pct(self.rejected, self.records_read)
        )?;
        writeln!(f, "ingest errors  {:>10}", self.ingest_error_count)?;
        if !self.reasons.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "{:<20} {:>10} {:>10}  examples (first reason)",
                "reason", "first", "any"
            )?;
            for (reason, s) in &self.reasons {
                writeln!(
                    f,
                    "{:<20} {:>10} {:>10}  {}",
                    reason.as_str(),
                    s.first,
                    s.any,
                    s.examples.join(", ")
                )?;
            }
        }
        if !self.ingest_errors.is_empty() {
            writeln!(f)?;
            writeln!(f, "unreadable input:")?;
            for e in self.ingest_errors.iter().take(20) {
                writeln!(f, "  {}", e.message)?;
            }
            let more = self.ingest_error_count.saturating_sub(20);
            if more > 0 {
                writeln!(
                    f,
                    "  ... and {more} more (all listed in filter_report.json)"
                )?;
            }
        }
        Ok(())
    }
}
