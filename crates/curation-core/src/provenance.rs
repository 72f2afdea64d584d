//! Where a run came from ([`Provenance`]: tool, version, config and its
//! hash, inputs, start and end time) and the UTC timestamps it records.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::filter::FilterConfig;
use crate::ingest::InputFile;

/// Where a run came from: enough to reproduce it.
///
/// ```
/// use curation_core::{FilterConfig, Provenance};
/// let p = Provenance::start(&FilterConfig::default(), Vec::new());
/// assert_eq!(p.tool, "tubelet curation-core");
/// assert_eq!(p.config, FilterConfig::default());
/// assert!(p.inputs.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// Writer of the files.
    pub tool: String,
    /// Version of curation-core.
    pub version: String,
    /// The filter config in force.
    pub config: FilterConfig,
    /// SHA-256 of the config's canonical JSON.
    pub config_sha256: String,
    /// Input files read.
    pub inputs: Vec<InputFile>,
    /// Start time, UTC, RFC 3339.
    pub started_at: String,
    /// End time, UTC, RFC 3339 (empty while running).
    pub finished_at: String,
}

impl Provenance {
    /// Provenance for a run starting now.
    ///
    /// ```
    /// use curation_core::{FilterConfig, Provenance};
    /// let config = FilterConfig::default();
    /// let p = Provenance::start(&config, Vec::new());
    /// assert_eq!(p.version, env!("CARGO_PKG_VERSION"));
    /// assert_eq!(p.config_sha256, config.sha256());
    /// assert_eq!(p.started_at.len(), "2024-01-01T00:00:00Z".len());
    /// assert!(p.started_at.ends_with('Z'));
    /// assert!(p.finished_at.is_empty());
    /// ```
    pub fn start(config: &FilterConfig, inputs: Vec<InputFile>) -> Self {
        Provenance {
            tool: "tubelet curation-core".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config: config.clone(),
            config_sha256: config.sha256(),
            inputs,
            started_at: utc_now(),
            finished_at: String::new(),
        }
    }
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ` (a clock before 1970 reads as
/// the epoch).
///
/// ```
/// let now = curation_core::provenance::utc_now();
/// assert!(now.as_str() >= "2024-01-01T00:00:00Z");
/// assert_eq!(now.len(), 20);
/// ```
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
///
/// ```
/// use curation_core::provenance::rfc3339;
/// assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
/// assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
/// ```
pub fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        // Last second of a leap year's last day, and the century non-leap
        // day after 2100-02-28.
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    /// Days since the epoch counted year by year and month by month, the
    /// plain way, as the independent truth for the closed form.
    fn civil_by_counting(mut days: u64) -> (u64, u64, u64) {
        let leap =
            |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let mut year = 1970;
        loop {
            let len = if leap(year) { 366 } else { 365 };
            if days < len {
                break;
            }
            days -= len;
            year += 1;
        }
        let lens = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let mut month = 1;
        for len in lens {
            if days < len {
                break;
            }
            days -= len;
            month += 1;
        }
        (year, month, days + 1)
    }

    proptest! {
        #[test]
        fn rfc3339_matches_counting(secs in 0u64..(400 * 366 * 86_400)) {
            let (y, m, d) = civil_by_counting(secs / 86_400);
            let rem = secs % 86_400;
            let expected = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60
            );
            prop_assert_eq!(rfc3339(secs), expected);
        }
    }
}
