//! The database of a tenant that has used the app for a year, loaded in bulk with SQL (not through
//! the API): 1,000,000 contacts, 2,000,000 verifications (0.1 % pending, the rest verified,
//! failed or expired over the last 300 days), 5,000,000 callback dedupe events of the last six
//! days, 500,000 audit lines and 1,000,000 sent outbox rows. Every row is inside its retention
//! period and no verified session is due to expire, so the periodic jobs find what a live
//! database gives them: little, among millions of rows.

use std::time::Instant;

use anyhow::Result;
use idv_server::Store;

/// The sizes loaded (and said in `bench/RESULTS.md`).
pub(crate) const CONTACTS: i64 = 1_000_000;
pub(crate) const VERIFICATIONS: i64 = 2_000_000;
pub(crate) const EVENTS: i64 = 5_000_000;
pub(crate) const AUDIT: i64 = 500_000;
pub(crate) const OUTBOX: i64 = 1_000_000;

/// What the volume is, in words.
pub(crate) fn described() -> String {
    format!(
        "{} contacts, {} verifications (0.1 % pending), {} dedupe events, {} audit lines, {} outbox rows",
        thousands(CONTACTS),
        thousands(VERIFICATIONS),
        thousands(EVENTS),
        thousands(AUDIT),
        thousands(OUTBOX)
    )
}

fn thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` numbered rows, 1..=n, as the engine writes a row source (`i` is the number).
fn rows(sqlite: bool, n: i64) -> (String, String) {
    if sqlite {
        (
            format!(
                "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) "
            ),
            "FROM g".into(),
        )
    } else {
        // bigint: day-sized products overflow PostgreSQL's integer.
        (
            String::new(),
            format!("FROM generate_series(1::bigint, {n}) AS g(i)"),
        )
    }
}

/// Loads the volume into `tenant`'s rows of `store` (contacts numbered from 1,000,001, clear of
/// the bench's own), then gathers the planner's statistics as a live database has them.
pub(crate) async fn load(store: &Store, tenant: &str, sqlite: bool) -> Result<()> {
    let started = Instant::now();
    let now = idv_server::clock::now_ms();
    let day: i64 = 24 * 3600 * 1000;
    let statements = [
        (
            CONTACTS,
            format!(
                "INSERT INTO contacts (tenant_id, contact_id, liveid_enrolled, created_at, status_version) \
                 SELECT '{tenant}', 1000000 + i, CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END, \
                 {now} - i * 1000, 0"
            ),
        ),
        (
            VERIFICATIONS,
            // Pending: every 500th of the first million (distinct contacts: one pending each).
            format!(
                "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, provider_session_id, \
                 ial_level, ial_revision, document_type, match_confidence_bp, failure_reason, \
                 created_at, updated_at, completed_at, valid_until, session_expires_at, next_poll_at, delivery, origin) \
                 SELECT 'ver_vol_' || i, '{tenant}', 1000000 + (i % {CONTACTS}) + 1, 'idv', \
                 CASE WHEN i % 500 = 0 AND i <= {CONTACTS} THEN 'pending' \
                      WHEN i % 4 = 1 THEN 'failed' WHEN i % 4 = 2 THEN 'expired' ELSE 'verified' END, \
                 'ps_vol_' || i, 'IAL2', '800-63-3', 'passport', 9400, \
                 CASE WHEN i % 4 = 1 THEN 'document expired' END, \
                 {now} - (i % 300) * {day} - 60000, {now} - (i % 300) * {day}, \
                 CASE WHEN NOT (i % 500 = 0 AND i <= {CONTACTS}) THEN {now} - (i % 300) * {day} END, \
                 CASE WHEN i % 4 IN (0, 3) AND NOT (i % 500 = 0 AND i <= {CONTACTS}) \
                      THEN {now} + (i % 360 + 5) * {day} END, \
                 CASE WHEN i % 500 = 0 AND i <= {CONTACTS} THEN {now} + {day} END, \
                 CASE WHEN i % 500 = 0 AND i <= {CONTACTS} THEN {now} + 3600000 END, \
                 'show', 'widget'"
            ),
        ),
        (
            EVENTS,
            format!(
                "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) \
                 SELECT '{tenant}', 'kosmos', 'evt_vol_' || i, {now} - (i % (6 * {day}))"
            ),
        ),
        (
            AUDIT,
            format!(
                "INSERT INTO audit_log (tenant_id, at, action, subject, detail) \
                 SELECT '{tenant}', {now} - (i % 300) * {day}, 'result', 'ver_vol_' || i, 'verified'"
            ),
        ),
        (
            OUTBOX,
            format!(
                "INSERT INTO sync_outbox (tenant_id, record_key, kind, payload, version, sent_version, \
                 state, attempts, next_attempt_at, updated_at) \
                 SELECT '{tenant}', 'contact:' || (1000000 + i), 'contact', '{{}}', 1, 1, 'done', 1, \
                 {now} - (i % (5 * {day})), {now} - (i % (5 * {day}))"
            ),
        ),
    ];
    for (n, insert) in statements {
        let (with, from) = rows(sqlite, n);
        sqlx::query(&format!("{with}{insert} {from}"))
            .execute(store.pool())
            .await?;
    }
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    eprintln!(
        "    loaded {} in {:.0} s",
        described(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A load's figure beside the small database's. On the small database (`before` is `None`) it
/// is kept for the volume run; at volume it is checked (at least 0.7× small) and said as
/// `, 0.82× small`.
pub(crate) fn of_small<'a>(
    small: &mut Vec<((&'a str, String), f64)>,
    before: Option<f64>,
    (engine, figure): (&'a str, &str),
    rps: f64,
    parts: &mut Vec<(&str, bool)>,
) -> String {
    match before {
        None => {
            small.push(((engine, figure.to_string()), rps));
            String::new()
        }
        Some(small_rps) => {
            let ratio = rps / small_rps;
            parts.push(("≥ 0.7× small", ratio >= 0.7));
            format!(", {ratio:.2}× small")
        }
    }
}
