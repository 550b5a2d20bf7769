//! The words for the shared types' values, in the page's language.

use idv_types::{Delivery, IdentityMatch, IdvStatus, Kind, SessionState};

use super::t;

/// What the badge says for a contact's status.
pub fn status(s: IdvStatus) -> &'static str {
    let t = t();
    match s {
        IdvStatus::NotVerified => t.status_not_verified,
        IdvStatus::Pending => t.status_pending,
        IdvStatus::Verified => t.status_verified,
        IdvStatus::Failed => t.status_failed,
        IdvStatus::Expired => t.status_expired,
        IdvStatus::Lapsed => t.status_lapsed,
    }
}

/// A session's state on its chip (an unused link that ran out versus a verification whose
/// validity ended).
pub fn session(s: SessionState) -> &'static str {
    let t = t();
    match s {
        SessionState::Pending => t.session_pending,
        SessionState::Verified => t.session_verified,
        SessionState::Failed => t.session_failed,
        SessionState::Expired => t.session_expired,
        SessionState::Canceled => t.session_canceled,
        SessionState::Lapsed => t.session_lapsed,
    }
}

/// A session's state as a word inside a sentence (`The verification is {state}.`).
pub fn state_word(s: SessionState) -> &'static str {
    let t = t();
    match s {
        SessionState::Pending => t.state_pending,
        SessionState::Verified => t.state_verified,
        SessionState::Failed => t.state_failed,
        SessionState::Expired => t.state_expired,
        SessionState::Canceled => t.state_canceled,
        SessionState::Lapsed => t.state_lapsed,
    }
}

pub fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Idv => t().kind_idv,
        Kind::Stepup => t().kind_stepup,
    }
}

/// Whether the name on the ID is the contact's.
pub fn identity_match(m: IdentityMatch) -> &'static str {
    let t = t();
    match m {
        IdentityMatch::Match => t.match_match,
        IdentityMatch::Partial => t.match_partial,
        IdentityMatch::Mismatch => t.match_mismatch,
    }
}

/// A document type's wire code in words; an unknown code as it came, spaced.
pub fn document(code: &str) -> String {
    let t = t();
    match code {
        "drivers_license" => t.doc_drivers_license.into(),
        "passport" => t.doc_passport.into(),
        "national_id" => t.doc_national_id.into(),
        other => other.replace('_', " "),
    }
}

/// How the link reaches the customer, as the form offers it.
pub fn delivery(d: Delivery) -> &'static str {
    let t = t();
    match d {
        Delivery::Show => t.delivery_show,
        Delivery::Email => t.delivery_email,
        Delivery::Sms => t.delivery_sms,
    }
}

/// An audit line's action; an action this widget does not know as it came.
pub fn audit_action(action: &str) -> &str {
    let t = t();
    match action {
        "start_idv" => t.audit_start_idv,
        "start_stepup" => t.audit_start_stepup,
        "start_failed" => t.audit_start_failed,
        "result" => t.audit_result,
        "cancel" => t.audit_cancel,
        "expired" => t.audit_expired,
        "gate" => t.audit_gate,
        "crm_write" => t.audit_crm_write,
        "crm_write_dead" => t.audit_crm_write_dead,
        "late_report_ignored" => t.audit_late_report_ignored,
        other => other,
    }
}
