//! The contact-status rule: what a contact's verification status is, from its sessions.

use idv_types::{Assurance, ContactStatus, IdentityMatch, IdvStatus, SessionState};

use crate::clock;

/// The NIST SP 800-63 revision our IAL values refer to (800-63-4 renumbers the levels).
pub const NIST_REVISION: &str = "800-63-3";

/// A session's state as stored. A verification whose validity lapsed is stored as `expired`
/// with the validity it had (`valid_until`), a link that ran out unused as `expired` without
/// one, so every row, old or new, reads as the state it is: `lapsed` or `expired`.
pub fn stored_state(state: &str, valid_until: Option<i64>) -> SessionState {
    match SessionState::parse(state) {
        Some(SessionState::Expired) if valid_until.is_some() => SessionState::Lapsed,
        Some(s) => s,
        None => SessionState::Failed,
    }
}

/// The facts of one IDV session the rule reads.
#[derive(Debug, Clone, PartialEq)]
pub struct IdvFacts {
    pub state: SessionState,
    pub ial_level: Option<String>,
    pub ial_revision: Option<String>,
    pub document_type: Option<String>,
    pub match_confidence: Option<f64>,
    pub identity_match: Option<IdentityMatch>,
    pub completed_at: Option<i64>,
    pub valid_until: Option<i64>,
}

/// A contact's status from its decisive IDV session: a verified session still inside its
/// validity wins (a later failed, abandoned or pending attempt does not hide it); otherwise the
/// latest IDV session that was not canceled decides (a canceled one leaves the previous verdict
/// standing); a verified session past its validity reads expired. The store picks the decisive
/// session in that order. The latest passed step-up gives `last_stepup_at`.
pub fn contact_status(
    contact_id: u64,
    liveid_enrolled: bool,
    latest_idv: Option<&IdvFacts>,
    last_stepup_at: Option<i64>,
    now_ms: i64,
) -> ContactStatus {
    let mut status = ContactStatus {
        contact_id,
        status: IdvStatus::NotVerified,
        ial: None,
        liveid_enrolled,
        document_type: None,
        match_confidence: None,
        identity_match: None,
        verified_at: None,
        expires_at: None,
        last_stepup_at: last_stepup_at.map(clock::rfc3339),
        current: None,
        history: Vec::new(),
        deliveries: vec![idv_types::Delivery::Show],
        fresh_minutes: None,
        setup: None,
    };
    if let Some(f) = latest_idv {
        status.status = match f.state {
            SessionState::Pending => IdvStatus::Pending,
            SessionState::Verified if f.valid_until.is_some_and(|v| v <= now_ms) => {
                IdvStatus::Lapsed
            }
            SessionState::Verified => IdvStatus::Verified,
            SessionState::Failed => IdvStatus::Failed,
            SessionState::Lapsed => IdvStatus::Lapsed,
            SessionState::Expired | SessionState::Canceled => IdvStatus::Expired,
        };
        if matches!(status.status, IdvStatus::Verified | IdvStatus::Lapsed) {
            status.ial = f.ial_level.clone().map(|level| Assurance {
                level,
                revision: f
                    .ial_revision
                    .clone()
                    .unwrap_or_else(|| NIST_REVISION.to_string()),
            });
            status.document_type = f.document_type.clone();
            status.match_confidence = f.match_confidence;
            status.identity_match = f.identity_match;
            status.verified_at = f.completed_at.map(clock::rfc3339);
            status.expires_at = f.valid_until.map(clock::rfc3339);
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = clock::DAY_MS;

    fn verified(completed: i64, valid_until: i64) -> IdvFacts {
        IdvFacts {
            state: SessionState::Verified,
            ial_level: Some("IAL2".into()),
            ial_revision: None,
            document_type: Some("passport".into()),
            match_confidence: Some(0.97),
            identity_match: Some(IdentityMatch::Partial),
            completed_at: Some(completed),
            valid_until: Some(valid_until),
        }
    }

    #[test]
    fn a_verified_session_counts_until_its_validity_runs_out() {
        let now = 1_000 * DAY;
        let v = verified(now - DAY, now + DAY);
        let s = contact_status(7, true, Some(&v), None, now);
        assert_eq!(s.status, IdvStatus::Verified);
        assert_eq!(s.ial.unwrap().revision, NIST_REVISION);
        let later = contact_status(7, true, Some(&v), None, now + DAY);
        assert_eq!(later.status, IdvStatus::Lapsed);
        assert_eq!(later.document_type.as_deref(), Some("passport"));
        assert_eq!(s.identity_match, Some(IdentityMatch::Partial));
    }

    #[test]
    fn an_abandoned_link_and_a_lapsed_verification_are_different_states() {
        assert_eq!(stored_state("expired", None), SessionState::Expired);
        assert_eq!(stored_state("expired", Some(5)), SessionState::Lapsed);
        assert_eq!(stored_state("lapsed", Some(5)), SessionState::Lapsed);
        assert_eq!(stored_state("verified", Some(5)), SessionState::Verified);
        let abandoned = IdvFacts {
            state: SessionState::Expired,
            valid_until: None,
            ..verified(1, 2)
        };
        let s = contact_status(7, false, Some(&abandoned), None, 10);
        assert_eq!(s.status, IdvStatus::Expired);
        let lapsed = IdvFacts {
            state: SessionState::Lapsed,
            ..verified(1, 2)
        };
        let s = contact_status(7, false, Some(&lapsed), None, 10);
        assert_eq!(s.status, IdvStatus::Lapsed);
        assert_eq!(s.ial.unwrap().level, "IAL2");
        assert_ne!(IdvStatus::Expired.as_str(), IdvStatus::Lapsed.as_str());
    }

    #[test]
    fn no_session_is_not_verified_and_failures_show_no_result_fields() {
        let s = contact_status(7, false, None, Some(5), 10);
        assert_eq!(s.status, IdvStatus::NotVerified);
        assert_eq!(
            s.last_stepup_at.as_deref(),
            Some("1970-01-01T00:00:00.005Z")
        );
        let failed = IdvFacts {
            state: SessionState::Failed,
            ..verified(1, 2)
        };
        let s = contact_status(7, false, Some(&failed), None, 10);
        assert_eq!(s.status, IdvStatus::Failed);
        assert!(s.ial.is_none() && s.document_type.is_none() && s.identity_match.is_none());
    }
}
