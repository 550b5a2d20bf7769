//! Clock arithmetic, polling schedules and small text helpers: plain Rust, tested natively.
//!
//! Times are milliseconds since the Unix epoch as `f64` (what `Date.now()` gives). Dates are shown
//! in UTC; `short_date` is the English form the native tests read, the browser writes the
//! rep's own (`crate::i18n::date`).

/// First delay before polling a pending ID check, in ms.
pub const IDV_POLL_FIRST_MS: u32 = 3_000;
/// Longest delay between two polls of a pending ID check, in ms.
pub const IDV_POLL_MAX_MS: u32 = 30_000;
/// Step-up sessions live 60–120 s, so they are polled briskly.
pub const STEPUP_POLL_MS: u32 = 2_000;
/// Polling after a failed step-up poll (rate limit, network) slows down a little.
pub const STEPUP_RETRY_MS: u32 = 4_000;

/// The platform allows 50 request-template calls per minute per app and account; the widget keeps
/// a margin for other tabs showing it.
pub const CALLS_PER_MINUTE: usize = 45;

/// Delay before poll number `attempt` (0-based) of a pending ID check: 3 s growing by half each
/// time, capped at 30 s (3, 4.5, 6.75, 10.1, 15.2, 22.8, 30, 30, …).
pub fn idv_poll_delay(attempt: u32) -> u32 {
    let mut d = IDV_POLL_FIRST_MS;
    for _ in 0..attempt {
        d = d.saturating_mul(3) / 2;
        if d >= IDV_POLL_MAX_MS {
            return IDV_POLL_MAX_MS;
        }
    }
    d
}

/// A sliding one-minute window of calls, shared by everything the widget sends.
#[derive(Debug, Default, Clone)]
pub struct CallWindow {
    sent: std::collections::VecDeque<f64>,
}

impl CallWindow {
    /// Records a call at `now` and returns `None` if the budget allows it; otherwise returns how
    /// long to wait (ms) before asking again, and records nothing.
    pub fn admit(&mut self, now: f64) -> Option<u32> {
        while self.sent.front().is_some_and(|&t| t <= now - 60_000.0) {
            self.sent.pop_front();
        }
        if self.sent.len() < CALLS_PER_MINUTE {
            self.sent.push_back(now);
            return None;
        }
        let oldest = self.sent.front().copied().unwrap_or(now);
        Some(((oldest + 60_000.0 - now).max(0.0) as u32).max(1))
    }
}

/// Parses an RFC 3339 timestamp (`2026-11-22T10:00:00Z`, `…10:00:00.123+02:00`) into ms since
/// the epoch.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3_600 + mi * 60 + sec - offset_min * 60;
    Some((secs * 1_000 + millis) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `2026-11-22T10:00:00Z` → `Nov 22, 2026` (the date part as written; unparseable input is
/// shown as it came).
pub fn short_date(ts: &str) -> String {
    let b = ts.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|p| p.iter().all(u8::is_ascii_digit))
            .and_then(|_| ts[r].parse::<usize>().ok())
    };
    match (digits(0..4), digits(5..7), digits(8..10)) {
        (Some(y), Some(m @ 1..=12), Some(d)) if b[4] == b'-' && b[7] == b'-' => {
            let mut out = String::with_capacity(12);
            out.push_str(MONTHS[m - 1]);
            out.push(' ');
            out.push_str(&d.to_string());
            out.push_str(", ");
            out.push_str(&y.to_string());
            out
        }
        _ => ts.to_string(),
    }
}

/// Whole seconds left until `deadline`, rounded up, never negative.
pub fn seconds_left(deadline: f64, now: f64) -> u32 {
    let ms = deadline - now;
    if ms <= 0.0 {
        0
    } else {
        ((ms + 999.0) / 1_000.0) as u32
    }
}

/// A countdown as a clock: `1:05`, `0:09`, `0:00`.
pub fn countdown(secs: u32) -> String {
    let s = secs % 60;
    let mut out = (secs / 60).to_string();
    out.push(':');
    if s < 10 {
        out.push('0');
    }
    out.push_str(&s.to_string());
    out
}

/// When a LiveID session stops working, on this browser's clock.
///
/// A session this widget just started is anchored on the moment its answer arrived, plus the
/// lifetime the server gave it (`expires - created`): immune to a skewed local clock. A session
/// found already running (page reopened) can only be compared with the local clock.
pub fn session_deadline(
    created_at: &str,
    expires_at: Option<&str>,
    received_at: f64,
    fresh: bool,
    default_ms: f64,
) -> f64 {
    let expires = expires_at.and_then(parse_rfc3339);
    match (fresh, parse_rfc3339(created_at), expires) {
        (true, Some(c), Some(e)) if e > c => received_at + (e - c).min(300_000.0),
        (false, _, Some(e)) => e,
        _ => received_at + default_ms,
    }
}

/// A toast title: the platform cuts titles at 30 characters, so cut on our own terms.
pub fn toast_title(title: &str) -> String {
    if title.chars().count() <= 30 {
        return title.to_string();
    }
    let mut out: String = title.chars().take(29).collect();
    out.push('…');
    out
}

/// Hex of random bytes, for idempotency keys.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Escapes a path segment (ids come from the backend, but a path is no place for surprises).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push_str(&hex(&[b]).to_ascii_uppercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idv_polling_backs_off_from_3_to_30_seconds() {
        let delays: Vec<u32> = (0..9).map(idv_poll_delay).collect();
        assert_eq!(
            delays,
            [3000, 4500, 6750, 10125, 15187, 22780, 30000, 30000, 30000]
        );
        assert_eq!(idv_poll_delay(1_000), IDV_POLL_MAX_MS);
    }

    #[test]
    fn the_call_window_keeps_under_the_platform_limit() {
        let mut w = CallWindow::default();
        for i in 0..CALLS_PER_MINUTE {
            assert_eq!(w.admit(1_000.0 + i as f64), None);
        }
        // The next call has to wait until the first one leaves the window.
        assert_eq!(w.admit(2_000.0), Some(59_000));
        assert_eq!(w.admit(61_000.0), None);
        // Over a long poll (one call every 2 s), the window never blocks.
        let mut w = CallWindow::default();
        for i in 0..200 {
            assert_eq!(w.admit(f64::from(i) * 2_000.0), None);
        }
    }

    #[test]
    fn rfc3339_timestamps_parse() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00Z"),
            Some(1_795_341_600_000.0)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00.5Z"),
            Some(1_795_341_600_500.0)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T10:00:00.123456789Z"),
            Some(1_795_341_600_123.0)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T12:00:00+02:00"),
            Some(1_795_341_600_000.0)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T05:30:00-04:30"),
            Some(1_795_341_600_000.0)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000.0)
        );
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T10:00:00",
            "2026-13-22T10:00:00Z",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T10:00:00Zjunk",
            "2026-11-22T10:0a:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_read_well() {
        assert_eq!(short_date("2026-11-22T10:00:00Z"), "Nov 22, 2026");
        assert_eq!(short_date("2027-01-05T00:00:00+01:00"), "Jan 5, 2027");
        assert_eq!(short_date("yesterday"), "yesterday");
        assert_eq!(short_date("2026-00-22T10:00:00Z"), "2026-00-22T10:00:00Z");
    }

    #[test]
    fn countdowns_count_whole_seconds_up() {
        assert_eq!(seconds_left(10_000.0, 0.0), 10);
        assert_eq!(seconds_left(10_000.0, 1.0), 10);
        assert_eq!(seconds_left(10_000.0, 9_000.5), 1);
        assert_eq!(seconds_left(10_000.0, 10_000.0), 0);
        assert_eq!(seconds_left(10_000.0, 50_000.0), 0);
        assert_eq!(countdown(120), "2:00");
        assert_eq!(countdown(65), "1:05");
        assert_eq!(countdown(9), "0:09");
        assert_eq!(countdown(0), "0:00");
    }

    #[test]
    fn deadlines_of_fresh_sessions_ignore_the_local_clock() {
        let created = "2026-11-22T10:00:00Z";
        let expires = Some("2026-11-22T10:01:30Z");
        // Just started: received at local time 5_000, lives 90 s.
        assert_eq!(
            session_deadline(created, expires, 5_000.0, true, 60_000.0),
            95_000.0
        );
        // Found running: the server's expiry on the local clock.
        assert_eq!(
            session_deadline(created, expires, 5_000.0, false, 60_000.0),
            1_795_341_690_000.0
        );
        // No expiry given: the default lifetime.
        assert_eq!(
            session_deadline(created, None, 5_000.0, true, 60_000.0),
            65_000.0
        );
        // Nonsense lifetimes are capped at 5 minutes.
        assert_eq!(
            session_deadline(created, Some("2026-11-23T10:00:00Z"), 0.0, true, 1.0),
            300_000.0
        );
    }

    #[test]
    fn small_formatters() {
        assert_eq!(toast_title("Short"), "Short");
        let long = toast_title("Identity verification could not start");
        assert_eq!(long.chars().count(), 30);
        assert!(long.ends_with('…'));
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(path_segment("ver_01H-x.y~z"), "ver_01H-x.y~z");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}
