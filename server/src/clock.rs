//! The backend's one clock. Every wall-clock reading of the server, its workers and the
//! simulators goes through [`now_ms`]: Unix milliseconds, shown as RFC 3339.
//!
//! The clock can be moved: `IDV_CLOCK_OFFSET_MS` (read once per process) shifts it by a fixed
//! amount, and [`set_offset_ms`] does the same from code. The test suite runs a second time with
//! the clock moved a year ahead (`cargo xtask test`), so that no test may depend on today's date.
//! Durations (rate windows, timeouts) use `Instant`, which no date can break.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// The environment variable that moves the clock (milliseconds, may be negative).
pub const OFFSET_ENV: &str = "IDV_CLOCK_OFFSET_MS";

/// `i64::MIN` until the environment has been read.
static OFFSET_MS: AtomicI64 = AtomicI64::new(i64::MIN);

fn offset_ms() -> i64 {
    let current = OFFSET_MS.load(Ordering::Relaxed);
    if current != i64::MIN {
        return current;
    }
    let from_env = std::env::var(OFFSET_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    // Another thread may have set it meanwhile; its value wins.
    match OFFSET_MS.compare_exchange(i64::MIN, from_env, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => from_env,
        Err(set) => set,
    }
}

/// Moves this process's clock by `ms` from the real time (replacing any earlier offset).
pub fn set_offset_ms(ms: i64) {
    OFFSET_MS.store(ms, Ordering::Relaxed);
}

/// Whether the clock is moved (the server says so at start, so a moved clock is never silent).
pub fn is_moved() -> bool {
    offset_ms() != 0
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let real = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    real.saturating_add(offset_ms())
}

/// Now, in Unix seconds (Standard Webhooks timestamps).
pub fn now_secs() -> i64 {
    now_ms().div_euclid(1000)
}

pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An RFC 3339 time (any offset) as epoch milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_with_any_offset() {
        // Freshsales sends its times with the account's offset; HubSpot's are UTC.
        assert_eq!(parse_rfc3339("1970-01-01T05:30:01+05:30"), Some(1000));
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00.250Z"),
            Some(1_795_341_600_250)
        );
        assert_eq!(parse_rfc3339(&rfc3339(1_500)), Some(1_500));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn formats_epoch_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }

    #[test]
    fn the_clock_moves_by_its_offset() {
        let original = offset_ms();
        let before = now_ms();
        set_offset_ms(original + 365 * DAY_MS);
        let moved = now_ms();
        set_offset_ms(original);
        let after = now_ms();
        assert!(moved - before >= 365 * DAY_MS, "{before} → {moved}");
        assert!(moved - after >= 365 * DAY_MS - 60_000);
        assert_eq!(now_secs(), now_ms().div_euclid(1000));
    }
}
