//! The widget's one clock: milliseconds since the Unix epoch, as `Date.now()` gives them.
//!
//! Every reading of the time goes through [`now`]; the model never reads a clock itself (it is
//! handed `now`). [`set_offset`] moves the clock, which the browser tests use to run once with
//! the clock a year ahead, so that no test depends on today's date.

use std::cell::Cell;

thread_local! {
    static OFFSET_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// Now, in milliseconds since the epoch.
pub fn now() -> f64 {
    js_sys::Date::now() + OFFSET_MS.with(Cell::get)
}

/// Moves this page's clock by `ms` from the real time.
pub fn set_offset(ms: f64) {
    OFFSET_MS.with(|o| o.set(ms));
}

/// An RFC 3339 timestamp `delta_ms` from now (the shape the backend sends).
pub fn iso_from_now(delta_ms: f64) -> String {
    js_sys::Date::new(&(now() + delta_ms).into())
        .to_iso_string()
        .into()
}
