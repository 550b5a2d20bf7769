//! The words for the shared types' values, in the page's language.

use idv_types::{
    audit_reason, AuditEntry, Delivery, IdentityMatch, IdvStatus, Kind, SessionState, SetupGap,
    SetupIssueCode, SetupPart,
};

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

/// What an activity line says: in English, the backend's words; in another language, its facts
/// worded by the catalogue (a rep's email, a level and a stage id stay as they are). A line
/// without facts (written before they were kept, or whose words are a CRM's or a provider's)
/// reads as the backend wrote it.
pub fn activity_detail(e: &AuditEntry) -> String {
    let Some(f) = e
        .facts
        .as_ref()
        .filter(|_| super::locale().lang != super::Lang::En)
    else {
        return e.detail.clone();
    };
    let a = &t().activity;
    let by = match f.by.as_deref() {
        Some("automation") => a.by_automation,
        Some("chat") => a.by_chat,
        Some("widget") => a.by_widget,
        Some(email) => email,
        None => "",
    };
    let way = match f.delivery.as_deref().and_then(Delivery::parse) {
        Some(Delivery::Show) => a.via_show,
        Some(Delivery::Email) => a.via_email,
        Some(Delivery::Sms) => a.via_sms,
        None => "",
    };
    let filled = |template: &str| {
        super::fill(
            template,
            &[
                ("ial", f.ial.as_deref().unwrap_or_default()),
                ("delivery", way),
                ("by", by),
                ("stage", f.stage.as_deref().unwrap_or_default()),
            ],
        )
    };
    match (e.action.as_str(), f.reason.as_deref()) {
        ("start_idv", _) => filled(a.started_idv),
        ("start_stepup", _) => filled(a.started_stepup),
        ("resend_link", Some(audit_reason::SAME_SESSION)) => filled(a.resent_same),
        ("resend_link", _) => filled(a.resent_new),
        ("gate", _) => filled(a.stage_entered),
        ("result" | "late_report_ignored", _) => f
            .state
            .as_deref()
            .and_then(SessionState::parse)
            .map_or_else(|| e.detail.clone(), |s| session(s).to_string()),
        (_, Some(audit_reason::VALIDITY_RAN_OUT)) => a.validity_ran_out.into(),
        (_, Some(audit_reason::NO_PROVIDER_SESSION)) => a.no_provider_session.into(),
        (_, Some(audit_reason::NO_ANSWER)) => a.no_answer.into(),
        (_, Some(audit_reason::WAIT_ENDED)) => a.wait_ended.into(),
        _ => e.detail.clone(),
    }
}

/// The CRM record an activity line's write was to; one this widget does not know as it came.
pub fn record(name: &str) -> &str {
    let a = &t().activity;
    match name {
        "contact" => a.record_contact,
        "note" => a.record_note,
        "history" => a.record_history,
        "task" => a.record_task,
        "deal" => a.record_deal,
        other => other,
    }
}

/// A set-up gap as the banner words it.
#[derive(Debug, PartialEq, Eq)]
pub struct GapWords {
    /// What to fix: the field's, module's or stage's label (as the admin sees it in the CRM).
    pub name: String,
    /// Which part it is and, for a field, the type to create it with.
    pub about: Option<String>,
    /// What is wrong.
    pub problem: String,
}

/// A set-up gap in the page's language. The CRM's own names (labels, a dropdown's values, the
/// type it reports, its refusal) stay as the CRM says them; a gap the widget has no code for
/// reads as the backend wrote it.
pub fn setup_gap(g: &SetupGap) -> GapWords {
    let t = t();
    let p = &t.setup_parts;
    let part = match g.part {
        SetupPart::ContactField => p.contact_field,
        SetupPart::ModuleField => p.module_field,
        SetupPart::CustomModule => p.custom_module,
        SetupPart::DealStage => p.deal_stage,
        SetupPart::Preparation => p.preparation,
        SetupPart::CrmWrite => p.crm_write,
        SetupPart::Other => {
            return GapWords {
                name: g.label.clone(),
                about: Some(format!("{}, {}", g.what, g.expected)),
                problem: g.problem.clone(),
            }
        }
    };
    let ty = |code: &str| -> String {
        let s = &t.setup_types;
        match code {
            "dropdown" => s.dropdown,
            "date" => s.date,
            "number" => s.number,
            "text" => s.text,
            other => other,
        }
        .to_string()
    };
    let i = &t.setup_issues;
    let issue = &g.issue;
    let given = |v: &Option<String>| v.clone().unwrap_or_default();
    let problem = match issue.code {
        SetupIssueCode::Missing => i.missing.to_string(),
        SetupIssueCode::WrongType => super::fill(
            i.wrong_type,
            &[
                ("has", &given(&issue.has)),
                ("needs", &ty(&given(&issue.needs))),
            ],
        ),
        SetupIssueCode::LacksChoices => {
            super::fill(i.lacks_choices, &[("choices", &issue.choices.join(", "))])
        }
        SetupIssueCode::NoStage => match &issue.similar {
            None => i.no_stage.to_string(),
            Some(s) => super::fill(i.no_stage_similar, &[("similar", s)]),
        },
        SetupIssueCode::NotCreated => super::fill(i.not_created, &[("why", &given(&issue.detail))]),
        SetupIssueCode::WriteRefused => {
            super::fill(i.write_refused, &[("why", &given(&issue.detail))])
        }
        SetupIssueCode::Other => g.problem.clone(),
    };
    match g.part {
        // The app's own parts: the backend's label is its English; the part's words say it.
        SetupPart::Preparation | SetupPart::CrmWrite => GapWords {
            name: part.to_string(),
            about: None,
            problem,
        },
        _ => {
            let about = match &g.field_type {
                Some(code) if g.choices.is_empty() => format!("{part}, {}", ty(code)),
                Some(code) => format!("{part}, {}: {}", ty(code), g.choices.join(", ")),
                None => part.to_string(),
            };
            GapWords {
                name: g.label.clone(),
                about: Some(about),
                problem,
            }
        }
    }
}

/// Why a session failed, for the rep. In English, the backend's sentence (it carries the
/// provider's code); in another language, the catalogue's sentence for the reason's code, and
/// for a reason the app does not know, the backend's sentence after it (its code is for
/// support). A failure recorded without a code reads as the backend wrote it.
pub fn failure(code: Option<&str>, reason: Option<&str>) -> Option<String> {
    let words = code
        .filter(|_| super::locale().lang != super::Lang::En)
        .and_then(failure_words);
    match (words, reason) {
        (Some(w), Some(r)) if code == Some("unknown") => Some(format!("{w} ({r})")),
        (Some(w), _) => Some(w.to_string()),
        (None, r) => r.map(str::to_string),
    }
}

/// The catalogue's sentence for a reason code.
fn failure_words(code: &str) -> Option<&'static str> {
    let f = &t().failures;
    Some(match code {
        "scan_unclear" => f.scan_unclear,
        "check_incomplete" => f.check_incomplete,
        "front_only" => f.front_only,
        "unreadable" => f.unreadable,
        "wrong_document" => f.wrong_document,
        "unsupported_document" => f.unsupported_document,
        "inconsistent" => f.inconsistent,
        "not_physical" => f.not_physical,
        "not_validated" => f.not_validated,
        "provider_error" => f.provider_error,
        "document_expired" => f.document_expired,
        "fraud" => f.fraud,
        "undocumented_code" => f.undocumented_code,
        "attempts_used" => f.attempts_used,
        "not_accepted" => f.not_accepted,
        "face_mismatch" => f.face_mismatch,
        "no_faces_to_compare" => f.no_faces_to_compare,
        "no_face_verdict" => f.no_face_verdict,
        "not_approved" => f.not_approved,
        "other_user" => f.other_user,
        "foreign_answer" => f.foreign_answer,
        "declined" => f.declined,
        "abandoned" => f.abandoned,
        "no_result" => f.no_result,
        "no_document" => f.no_document,
        "session_gone" => f.session_gone,
        "name_mismatch" => f.name_mismatch,
        "name_mismatch_held" => f.name_mismatch_held,
        "no_name_verdict" => f.no_name_verdict,
        "level_too_low" => f.level_too_low,
        "unknown_level" => f.unknown_level,
        "no_level" => f.no_level,
        "unknown" => f.unknown,
        _ => return None,
    })
}

/// A refusal of the backend, for the rep: in English, the backend's words; in another language,
/// what the refusal's code means, then the backend's words (they name the specifics: which
/// field, which limit, until when).
pub fn api_error(code: &str, message: &str) -> String {
    if super::locale().lang == super::Lang::En {
        return message.to_string();
    }
    let e = &t().api_errors;
    let meaning = match code {
        "unauthorized" => e.unauthorized,
        "forbidden" => e.forbidden,
        "not_found" => e.not_found,
        "conflict" => e.conflict,
        "unprocessable" => e.unprocessable,
        "not_enrolled" => e.not_enrolled,
        "rate_limited" => e.rate_limited,
        "upstream_unavailable" => e.upstream_unavailable,
        "unavailable" => e.unavailable,
        "internal" => e.internal,
        _ => e.refused,
    };
    if message.is_empty() {
        meaning.to_string()
    } else {
        format!("{meaning} ({message})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{set, Lang, Locale};
    use idv_types::SetupIssue;

    fn gap(part: SetupPart, issue: SetupIssue) -> SetupGap {
        SetupGap {
            what: "contact field".into(),
            label: "IDV Status".into(),
            name: "cf_idv_status".into(),
            expected: "dropdown: pending, verified".into(),
            problem: "has type text; views and workflows need dropdown".into(),
            part,
            field_type: Some("dropdown".into()),
            choices: vec!["pending".into(), "verified".into()],
            issue,
        }
    }

    /// An admin reads what to fix in their language; the CRM's own names (the label, the type
    /// it reports, a dropdown's values, its refusal) stay as the CRM says them.
    #[test]
    fn a_setup_gap_reads_in_the_admins_language_with_the_crms_names_kept() {
        let wrong = gap(
            SetupPart::ContactField,
            SetupIssue::wrong_type("text", "dropdown"),
        );
        set(Locale::english());
        assert_eq!(
            setup_gap(&wrong),
            GapWords {
                name: "IDV Status".into(),
                about: Some("contact field, dropdown: pending, verified".into()),
                problem: "has type text; views and workflows need dropdown".into(),
            }
        );
        set(Locale::parse("es").unwrap());
        let es = setup_gap(&wrong);
        assert_eq!(es.name, "IDV Status");
        assert_eq!(
            es.about.as_deref(),
            Some("campo de contacto, lista desplegable: pending, verified")
        );
        assert_eq!(
            es.problem,
            "es de tipo text; las vistas y los flujos de trabajo necesitan lista desplegable"
        );
        let stage = SetupGap {
            label: "Negotation".into(),
            field_type: None,
            choices: vec![],
            ..gap(
                SetupPart::DealStage,
                SetupIssue::no_stage(Some("Negotiation".into())),
            )
        };
        let es = setup_gap(&stage);
        assert_eq!(es.about.as_deref(), Some("etapa del negocio"));
        assert!(
            es.problem.contains("¿quería decir «Negotiation»?"),
            "{}",
            es.problem
        );
        // The app's own parts are named by the part, in the language; the refusal is the CRM's.
        let refused = SetupGap {
            label: "a write of this app".into(),
            ..gap(
                SetupPart::CrmWrite,
                SetupIssue::write_refused("422: cf_idv_status unknown".into()),
            )
        };
        let es = setup_gap(&refused);
        assert_eq!(
            (es.name.as_str(), es.about),
            ("una escritura de esta app", None)
        );
        assert_eq!(
            es.problem,
            "el CRM rechazó una escritura de esta app: 422: cf_idv_status unknown"
        );
        // A gap stored before codes existed reads as the backend wrote it.
        let old = gap(SetupPart::Other, SetupIssue::default());
        let es = setup_gap(&old);
        assert_eq!(es.problem, old.problem);
        assert_eq!(
            es.about.as_deref(),
            Some("contact field, dropdown: pending, verified")
        );
        set(Locale::english());
    }

    /// A rep reads the activity in their language; a rep's email and the level stay as they are,
    /// and a line without facts reads as the backend wrote it.
    #[test]
    fn an_activity_line_reads_in_the_reps_language_from_its_facts() {
        let line = |action: &str, detail: &str, facts: Option<idv_types::AuditFacts>| AuditEntry {
            at: "2026-11-22T10:00:00Z".into(),
            action: action.into(),
            session_id: Some("ver_1".into()),
            record: None,
            detail: detail.into(),
            facts,
        };
        let started = line(
            "start_idv",
            "contact 7 IAL2 by rep@example.com (as the widget reports), link by email",
            Some(idv_types::AuditFacts {
                by: Some("rep@example.com".into()),
                ial: Some("IAL2".into()),
                delivery: Some("email".into()),
                ..Default::default()
            }),
        );
        let expired = line(
            "expired",
            "validity ran out",
            Some(idv_types::AuditFacts {
                reason: Some(idv_types::audit_reason::VALIDITY_RAN_OUT.into()),
                ..Default::default()
            }),
        );
        let result = line(
            "result",
            "verified",
            Some(idv_types::AuditFacts {
                state: Some("verified".into()),
                ..Default::default()
            }),
        );
        let automated = line(
            "start_stepup",
            "contact 7 by automation",
            Some(idv_types::AuditFacts {
                by: Some("automation".into()),
                ..Default::default()
            }),
        );
        let refused = line("crm_write_dead", "422: cf_idv_status unknown", None);
        set(Locale::english());
        assert_eq!(activity_detail(&started), started.detail);
        set(Locale::parse("de").unwrap());
        assert_eq!(
            activity_detail(&started),
            "IAL2, Link per E-Mail gesendet, von rep@example.com"
        );
        assert_eq!(activity_detail(&expired), "die Gültigkeit ist abgelaufen");
        assert_eq!(activity_detail(&result), session(SessionState::Verified));
        assert_eq!(activity_detail(&automated), "von Automatisierung");
        assert_eq!(activity_detail(&refused), "422: cf_idv_status unknown");
        assert_eq!(record("history"), "Verlaufseintrag");
        assert_eq!(record("a_newer_record"), "a_newer_record");
        set(Locale::english());
    }

    /// Every part and problem has its words in every language.
    #[test]
    fn every_language_words_every_setup_part_and_problem() {
        let issues = [
            SetupIssue::missing(),
            SetupIssue::wrong_type("text", "date"),
            SetupIssue::lacks_choices(vec!["IAL2".into()]),
            SetupIssue::no_stage(None),
            SetupIssue::no_stage(Some("Won".into())),
            SetupIssue::not_created("403".into()),
            SetupIssue::write_refused("422".into()),
        ];
        let parts = [
            SetupPart::ContactField,
            SetupPart::ModuleField,
            SetupPart::CustomModule,
            SetupPart::DealStage,
            SetupPart::Preparation,
            SetupPart::CrmWrite,
        ];
        for lang in Lang::ALL {
            set(Locale::parse(lang.code()).unwrap());
            for part in parts {
                for issue in &issues {
                    let w = setup_gap(&gap(part, issue.clone()));
                    assert!(
                        !w.problem.is_empty() && !w.problem.contains('{'),
                        "{lang:?} {w:?}"
                    );
                    assert!(!w.name.is_empty(), "{lang:?} {part:?}");
                }
            }
        }
        set(Locale::english());
    }

    #[test]
    fn a_refusal_reads_in_the_reps_language_with_the_backends_specifics() {
        let why = "contact 11 has no name in Freshsales: add the first and last name";
        set(Locale::english());
        assert_eq!(api_error("unprocessable", why), why);
        set(Locale::parse("de").unwrap());
        let de = api_error("unprocessable", why);
        assert!(
            de.starts_with("Dieser Datensatz kann so nicht geprüft werden.")
                && de.ends_with(&format!("({why})")),
            "{de}"
        );
        assert!(api_error("a_code_from_a_newer_backend", "x")
            .starts_with("Der Identitätsdienst hat die Anfrage abgelehnt."));
        set(Locale::english());
    }

    #[test]
    fn every_language_words_every_reason_the_backend_can_give() {
        for lang in Lang::ALL {
            set(Locale::parse(lang.code()).unwrap());
            for code in idv_types::FAILURE_CODES {
                let words = failure_words(code).unwrap_or_else(|| panic!("{lang:?} lacks {code}"));
                assert!(words.len() > 20, "{lang:?} {code}");
            }
        }
        set(Locale::english());
    }

    #[test]
    fn a_reason_reads_in_the_reps_language_and_an_unknown_one_keeps_the_providers_code() {
        let english = "The customer could not be verified (1Kosmos reason IDV0099). Next step: …";
        set(Locale::english());
        assert_eq!(
            failure(Some("unknown"), Some(english)).as_deref(),
            Some(english)
        );
        set(Locale::parse("es").unwrap());
        let es = failure(
            Some("document_expired"),
            Some("The ID has expired (IDV0011)."),
        )
        .unwrap();
        assert!(es.starts_with("El ID está caducado."), "{es}");
        let unknown = failure(Some("unknown"), Some(english)).unwrap();
        assert!(
            unknown.starts_with("No se pudo verificar") && unknown.contains("IDV0099"),
            "{unknown}"
        );
        // Recorded before codes existed: as the backend wrote it.
        assert_eq!(
            failure(None, Some("old words")).as_deref(),
            Some("old words")
        );
        assert_eq!(
            failure(Some("a_code_from_a_newer_backend"), Some("x")).as_deref(),
            Some("x")
        );
        set(Locale::english());
    }
}
