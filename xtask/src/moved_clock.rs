//! The moved clock of the suite's second pass: a moment about a year ahead, two minutes before
//! the end of daylight-saving time in Europe (the last Sunday of October, 01:00 UTC), with
//! `TZ=Europe/Berlin`. A test that compares a fixed date with now, assumes a day has 24 hours
//! in local time, or holds only on some days fails in this pass at once, not months later.

use time::{Date, Duration, Month, OffsetDateTime, Time, Weekday};

/// The time zone of the moved pass (its DST change falls inside the run).
pub const TZ: &str = "Europe/Berlin";

/// The moment the moved clock starts at, for a run that starts at `now`.
pub fn target(now: OffsetDateTime) -> OffsetDateTime {
    let mut year = now.year() + 1;
    loop {
        let mut day = Date::from_calendar_date(year, Month::October, 31).expect("October 31");
        while day.weekday() != Weekday::Sunday {
            day = day
                .previous_day()
                .expect("a day before the last of October");
        }
        let moment = day
            .with_time(Time::from_hms(0, 58, 0).expect("00:58:00"))
            .assume_utc();
        if moment - now >= Duration::days(300) {
            return moment;
        }
        year += 1;
    }
}

/// The offset to hand the server, the simulators and the widget (`IDV_CLOCK_OFFSET_MS`).
pub fn offset_ms(now: OffsetDateTime) -> i64 {
    (target(now) - now).whole_milliseconds() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_moved_clock_lands_before_the_october_dst_change_about_a_year_ahead() {
        let now = datetime!(2026-11-24 03:00 UTC);
        assert_eq!(target(now), datetime!(2027-10-31 00:58 UTC));
        let late = datetime!(2027-01-15 12:00 UTC);
        assert_eq!(target(late), datetime!(2028-10-29 00:58 UTC));
        assert!(offset_ms(now) > 300 * 86_400_000);
    }
}
