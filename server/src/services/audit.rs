//! The audit trail, readable: `server audit` prints it, the widget's history panel shows a
//! contact's lines (who started, which delivery, results, CRM writes). Lines hold ids, states and
//! the actor a widget named, never links, keys or the contact's personal data.

use std::sync::Arc;

use idv_types::{AuditEntry, AuditPage};

use super::{core::Core, tenant::TenantRow};
use crate::{
    clock,
    error::{AppError, Result},
    store::{AuditQuery, AuditRow, Store},
};

/// Lines per page of the widget's history panel, by default and at most.
pub const PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 100;
/// A detail is cut to this many characters for the widget (a CRM's refusal can be long).
const MAX_DETAIL: usize = 300;

/// Reads `--since`: an RFC 3339 time, or a duration back from `now_ms` (`90s`, `30m`, `12h`,
/// `7d`, `2w`).
pub fn parse_since(s: &str, now_ms: i64) -> std::result::Result<i64, String> {
    let s = s.trim();
    if let Some(at) = crate::clock::parse_rfc3339(s) {
        return Ok(at);
    }
    let unit = s.chars().last().unwrap_or(' ');
    let secs: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad_since(s)),
    };
    let n: i64 = s[..s.len() - 1].parse().map_err(|_| bad_since(s))?;
    if !(0..=100 * 366 * 86_400).contains(&n.saturating_mul(secs)) {
        return Err(bad_since(s));
    }
    Ok(now_ms - n * secs * 1000)
}

fn bad_since(s: &str) -> String {
    format!("--since {s:?}: give an RFC 3339 time (2026-12-01T09:00:00Z) or a duration (90s, 30m, 12h, 7d, 2w)")
}

/// The session and the CRM record a line is about, from its subject (a session id, or a
/// write-back key such as `note:ver_…:verified`, `history:ver_…`, `contact:11`).
fn subject_parts(row: &AuditRow) -> (Option<String>, Option<String>) {
    let session = row
        .subject
        .split(':')
        .find(|p| p.starts_with("ver_"))
        .map(str::to_string);
    let record = row
        .action
        .starts_with("crm_write")
        .then(|| row.subject.split(':').next().unwrap_or("").to_string())
        .filter(|r| !r.is_empty());
    (session, record)
}

/// One line as the widget shows it.
pub fn entry(row: &AuditRow) -> AuditEntry {
    let (session_id, record) = subject_parts(row);
    let mut detail: String = row.detail.chars().take(MAX_DETAIL).collect();
    if row.detail.chars().count() > MAX_DETAIL {
        detail.push('…');
    }
    AuditEntry {
        at: clock::rfc3339(row.at),
        action: row.action.clone(),
        session_id,
        record,
        detail,
        facts: row
            .facts
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok()),
    }
}

/// One line as `server audit` prints it: time, tenant, action, subject, detail (tab-separated).
pub fn format_line(row: &AuditRow) -> String {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    format!(
        "{}\t{}\t{}\t{}\t{}",
        clock::rfc3339(row.at),
        clean(&row.tenant_id),
        clean(&row.action),
        clean(&row.subject),
        clean(&row.detail)
    )
}

/// What `server audit` prints, oldest first (the newest `limit` lines that match).
pub async fn cli_lines(store: &Store, q: &AuditQuery<'_>) -> Result<Vec<String>> {
    let mut rows = store.audit_lines(q).await?;
    rows.reverse();
    Ok(rows.iter().map(format_line).collect())
}

/// Reads a contact's audit trail.
#[derive(Clone, Debug)]
pub struct Audit {
    core: Arc<Core>,
}

impl Audit {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// A page of a contact's audit trail, newest first. A contact this account has never seen
    /// is a 404 (so is another account's).
    pub async fn contact_audit(
        &self,
        tenant: &TenantRow,
        contact: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<AuditPage> {
        if self
            .core
            .store
            .contact_status(&tenant.id, contact)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound(format!(
                "contact {contact} is not known to this account"
            )));
        }
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self
            .core
            .store
            .audit_lines(&AuditQuery {
                tenant: Some(&tenant.id),
                contact: Some(contact),
                since: None,
                before,
                limit: limit + 1,
            })
            .await?;
        let more = rows.len() as i64 > limit;
        let shown = &rows[..rows.len().min(limit as usize)];
        Ok(AuditPage {
            entries: shown.iter().map(entry).collect(),
            next_before: more.then(|| shown.last().map(|r| r.id as u64)).flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_a_time_or_a_duration_back() {
        let now = 1_800_000_000_000;
        assert_eq!(parse_since("90s", now), Ok(now - 90_000));
        assert_eq!(parse_since("2h", now), Ok(now - 7_200_000));
        assert_eq!(parse_since("7d", now), Ok(now - 7 * 86_400_000));
        assert_eq!(
            parse_since("2026-12-01T09:00:00Z", now),
            Ok(1_796_115_600_000)
        );
        for bad in [
            "",
            "h",
            "-1h",
            "1y",
            "yesterday",
            "99999999999999999d",
            "2026-13-01",
        ] {
            assert!(parse_since(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_line_names_its_session_and_record() {
        let row = |action: &str, subject: &str| AuditRow {
            id: 1,
            tenant_id: "t".into(),
            at: 0,
            action: action.into(),
            subject: subject.into(),
            detail: "x\ty".into(),
            facts: None,
        };
        let e = entry(&row("crm_write", "note:ver_ab12:verified"));
        assert_eq!(e.session_id.as_deref(), Some("ver_ab12"));
        assert_eq!(e.record.as_deref(), Some("note"));
        let e = entry(&row("crm_write_dead", "contact:11"));
        assert_eq!((e.session_id, e.record.as_deref()), (None, Some("contact")));
        let e = entry(&row("result", "ver_ab12"));
        assert_eq!(
            (e.session_id.as_deref(), e.record),
            (Some("ver_ab12"), None)
        );
        assert!(format_line(&row("result", "ver_ab12")).ends_with("result\tver_ab12\tx y"));
    }
}
