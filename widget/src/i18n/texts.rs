//! The shape of a catalogue: every text the widget shows, announces or toasts. Each language is
//! one `Texts` value. English is compiled in (it cannot lack a key); every other language is a
//! file whose entries are set over English's by their dotted keys (`fresh_ago.one`,
//! [`Entry::set`]), read when a page needs it ([`super::catalogue`]).
//!
//! Templates name their values in braces (`{n}`, `{product}`), filled by [`super::fill`];
//! counted texts are [`Plural`]s, picked by the browser's plural rules for the language.

/// A part of a catalogue that a file's entry sets by its key: a text, a plural's form, or a
/// group of them (`failures`, `fresh_ago`); the key is the rest of the entry's dotted key.
pub trait Entry {
    /// Sets the text at `key`; `false` when this part has no such key.
    fn set(&mut self, key: Option<&str>, text: &'static str) -> bool;

    /// Drops the plural forms a language may not use (`one`, `few`…), keeping `other`: a file
    /// names the forms of its language, and English's `one` must not stand in for them.
    fn drop_forms(&mut self) {}
}

impl Entry for &'static str {
    fn set(&mut self, key: Option<&str>, text: &'static str) -> bool {
        if key.is_some() {
            return false;
        }
        *self = text;
        true
    }
}

impl Entry for Option<&'static str> {
    fn set(&mut self, key: Option<&str>, text: &'static str) -> bool {
        if key.is_some() {
            return false;
        }
        *self = Some(text);
        true
    }

    fn drop_forms(&mut self) {
        *self = None;
    }
}

/// A group of texts: the struct, and its [`Entry`] by field name (one definition, so a field
/// cannot be left out of what a file can set).
macro_rules! group {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        #[cfg_attr(test, derive(serde::Serialize))]
        pub struct $name { $($(#[$fm])* pub $field: $ty,)* }

        impl $name {
            /// The fields' names, in their order.
            const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        impl Entry for $name {
            fn set(&mut self, key: Option<&str>, text: &'static str) -> bool {
                let Some(key) = key else { return false };
                let (head, rest) = match key.split_once('.') {
                    Some((head, rest)) => (head, Some(rest)),
                    None => (key, None),
                };
                // One search of the names, then a jump by position (a match on the names
                // compiles to a comparison per field: three times the wasm).
                let Some(at) = Self::KEYS.iter().position(|k| *k == head) else {
                    return false;
                };
                let mut field = 0;
                $(
                    if at == field {
                        return self.$field.set(rest, text);
                    }
                    field += 1;
                )*
                let _ = field;
                false
            }

            fn drop_forms(&mut self) {
                $(self.$field.drop_forms();)*
            }
        }
    };
}

group! {
/// A counted text in the forms a language needs (CLDR categories); `{n}` is the count.
/// A form a language does not use is `None` and falls back to `other`.
pub struct Plural {
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub zero: Option<&'static str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub one: Option<&'static str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub two: Option<&'static str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub few: Option<&'static str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    pub many: Option<&'static str>,
    pub other: &'static str,
}
}

impl Plural {
    /// A text whose count takes no other form (every count of Japanese, say).
    pub const fn same(other: &'static str) -> Self {
        Self {
            zero: None,
            one: None,
            two: None,
            few: None,
            many: None,
            other,
        }
    }

    /// A singular and the rest (English, German; French and Portuguese count 0 as singular,
    /// and their `many` of round millions reads as `other`).
    pub const fn one_other(one: &'static str, other: &'static str) -> Self {
        Self {
            zero: None,
            one: Some(one),
            two: None,
            few: None,
            many: None,
            other,
        }
    }

    /// The form for a CLDR plural category (`one`, `few`, …).
    pub fn form(&self, category: &str) -> &'static str {
        match category {
            "zero" => self.zero,
            "one" => self.one,
            "two" => self.two,
            "few" => self.few,
            "many" => self.many,
            _ => None,
        }
        .unwrap_or(self.other)
    }
}

group! {
/// Why a verification failed and the next step, by the reason table's code
/// (`server/src/domain/reasons.rs`, `failure_code` in the API).
pub struct FailureTexts {
    pub scan_unclear: &'static str,
    pub check_incomplete: &'static str,
    pub front_only: &'static str,
    pub unreadable: &'static str,
    pub wrong_document: &'static str,
    pub unsupported_document: &'static str,
    pub inconsistent: &'static str,
    pub not_physical: &'static str,
    pub not_validated: &'static str,
    pub provider_error: &'static str,
    pub document_expired: &'static str,
    pub fraud: &'static str,
    pub undocumented_code: &'static str,
    pub attempts_used: &'static str,
    pub not_accepted: &'static str,
    pub face_mismatch: &'static str,
    pub no_faces_to_compare: &'static str,
    pub no_face_verdict: &'static str,
    pub not_approved: &'static str,
    pub other_user: &'static str,
    pub foreign_answer: &'static str,
    pub declined: &'static str,
    pub abandoned: &'static str,
    pub no_result: &'static str,
    pub no_document: &'static str,
    pub session_gone: &'static str,
    pub name_mismatch: &'static str,
    pub name_mismatch_held: &'static str,
    pub no_name_verdict: &'static str,
    pub level_too_low: &'static str,
    pub unknown_level: &'static str,
    pub no_level: &'static str,
    pub unknown: &'static str,
}
}

group! {
/// What the backend's refusal means, by its `error` code (`ApiError`), before the backend's own
/// words; `refused` for a code the widget does not know.
pub struct ApiErrorTexts {
    pub unauthorized: &'static str,
    pub forbidden: &'static str,
    pub not_found: &'static str,
    pub conflict: &'static str,
    pub unprocessable: &'static str,
    pub not_enrolled: &'static str,
    pub rate_limited: &'static str,
    pub upstream_unavailable: &'static str,
    pub unavailable: &'static str,
    pub internal: &'static str,
    pub refused: &'static str,
}
}

group! {
/// What an activity line says, from its facts (`AuditFacts`); in English the backend's words.
pub struct ActivityTexts {
    /// `{ial}` the level asked for, `{delivery}` one of `via_*`, `{by}` who.
    pub started_idv: &'static str,
    pub started_stepup: &'static str,
    pub resent_same: &'static str,
    pub resent_new: &'static str,
    /// `{stage}` is the stage's id in the CRM.
    pub stage_entered: &'static str,
    pub validity_ran_out: &'static str,
    pub no_provider_session: &'static str,
    pub no_answer: &'static str,
    pub wait_ended: &'static str,
    /// Who, when not a rep's email.
    pub by_automation: &'static str,
    pub by_chat: &'static str,
    pub by_widget: &'static str,
    /// How the link went out, as `{delivery}` says it.
    pub via_show: &'static str,
    pub via_email: &'static str,
    pub via_sms: &'static str,
    /// The CRM record a write was to.
    pub record_contact: &'static str,
    pub record_note: &'static str,
    pub record_history: &'static str,
    pub record_task: &'static str,
    pub record_deal: &'static str,
}
}

group! {
/// The parts of a CRM account a set-up gap is about (`SetupPart`).
pub struct SetupPartTexts {
    pub contact_field: &'static str,
    pub module_field: &'static str,
    pub custom_module: &'static str,
    pub deal_stage: &'static str,
    /// The app's own preparation of the account (a property group and a list).
    pub preparation: &'static str,
    /// A write of the app the CRM refused.
    pub crm_write: &'static str,
}
}

group! {
/// The types of the fields the app needs, as an admin creates them.
pub struct SetupTypeTexts {
    pub dropdown: &'static str,
    pub date: &'static str,
    pub number: &'static str,
    pub text: &'static str,
}
}

group! {
/// What is wrong with a part of the account (`SetupIssue`).
pub struct SetupIssueTexts {
    pub missing: &'static str,
    /// `{has}` is the CRM's name of the field's type, `{needs}` one of `setup_types`.
    pub wrong_type: &'static str,
    /// `{choices}` are the dropdown's missing values, as the app writes them.
    pub lacks_choices: &'static str,
    pub no_stage: &'static str,
    /// `{similar}` is a stage of the account spelled nearly so.
    pub no_stage_similar: &'static str,
    /// `{why}` is the CRM's refusal, in its own words.
    pub not_created: &'static str,
    /// `{why}` is the CRM's refusal, in its own words.
    pub write_refused: &'static str,
}
}

group! {
/// Every text of the widget, in one language.
pub struct Texts {
    // The header and the badge.
    pub heading_identity: &'static str,
    pub heading_requester: &'static str,
    pub badge_loading: &'static str,
    pub badge_unavailable: &'static str,
    pub badge_no_contact: &'static str,
    pub status_not_verified: &'static str,
    pub status_pending: &'static str,
    pub status_verified: &'static str,
    pub status_failed: &'static str,
    pub status_expired: &'static str,
    pub status_lapsed: &'static str,
    /// `{status}` is one of the `status_*` texts.
    pub status_announced: &'static str,
    pub status_unavailable_title: &'static str,
    /// `{message}` is why.
    pub status_not_loaded: &'static str,
    pub loading_status: &'static str,

    // A session's state, as a chip and as a word inside a sentence.
    pub session_pending: &'static str,
    pub session_verified: &'static str,
    pub session_failed: &'static str,
    pub session_expired: &'static str,
    pub session_canceled: &'static str,
    pub session_lapsed: &'static str,
    pub state_pending: &'static str,
    pub state_verified: &'static str,
    pub state_failed: &'static str,
    pub state_expired: &'static str,
    pub state_canceled: &'static str,
    pub state_lapsed: &'static str,
    pub kind_idv: &'static str,
    pub kind_stepup: &'static str,

    // Buttons.
    pub action_retry: &'static str,
    pub action_verify: &'static str,
    pub action_verify_again: &'static str,
    pub action_verify_primary: &'static str,
    pub action_create_link: &'static str,
    pub action_back: &'static str,
    pub action_copy: &'static str,
    pub action_cancel_verification: &'static str,
    pub action_resend: &'static str,
    pub action_stepup: &'static str,
    pub action_restart_stepup: &'static str,
    pub action_cancel_stepup: &'static str,
    pub canceling: &'static str,
    pub copied: &'static str,

    // The facts about a contact.
    pub fact_assurance: &'static str,
    pub fact_document: &'static str,
    pub fact_name_on_id: &'static str,
    pub fact_match: &'static str,
    pub fact_verified: &'static str,
    pub fact_valid_until: &'static str,
    pub fact_liveid: &'static str,
    pub liveid_enrolled: &'static str,
    pub liveid_not_enrolled: &'static str,
    pub fact_last_stepup: &'static str,
    pub never: &'static str,
    pub no_check_yet: &'static str,
    pub match_match: &'static str,
    pub match_partial: &'static str,
    pub match_mismatch: &'static str,
    pub doc_drivers_license: &'static str,
    pub doc_passport: &'static str,
    pub doc_national_id: &'static str,

    // Freshness on a help-desk ticket.
    pub fresh_just_now: &'static str,
    pub fresh_ago: Plural,
    /// `{ago}` is `fresh_just_now` or `fresh_ago`, `{within}` is `fresh_within`.
    pub fresh_ok: &'static str,
    pub fresh_within: Plural,
    pub fresh_stale: Plural,

    // The deal page.
    pub fact_stage: &'static str,
    pub stage_unknown: &'static str,
    pub fact_gate: &'static str,
    pub fact_gated_stages: &'static str,
    pub none: &'static str,
    pub gate_open: &'static str,
    pub gate_ok: &'static str,
    pub gate_blocked: &'static str,
    pub primary_contact: &'static str,
    pub no_primary_contact: &'static str,

    // History and activity.
    pub history_heading: &'static str,
    pub history_empty: &'static str,
    pub show_all: Plural,
    pub activity_show: &'static str,
    pub activity_hide: &'static str,
    pub activity_loading: &'static str,
    pub activity_empty: &'static str,
    pub audit_start_idv: &'static str,
    pub audit_start_stepup: &'static str,
    pub audit_start_failed: &'static str,
    pub audit_result: &'static str,
    pub audit_cancel: &'static str,
    pub audit_expired: &'static str,
    pub audit_gate: &'static str,
    pub audit_crm_write: &'static str,
    pub audit_crm_write_dead: &'static str,
    pub audit_late_report_ignored: &'static str,

    // An account that is not set up; `{product}` is the CRM's name.
    pub setup_title: &'static str,
    pub setup_body: &'static str,
    /// Which part of the account each gap is about.
    pub setup_parts: SetupPartTexts,
    /// The type a missing field needs.
    pub setup_types: SetupTypeTexts,
    /// What is wrong with it.
    pub setup_issues: SetupIssueTexts,
    /// What activity lines say.
    pub activity: ActivityTexts,

    // The Verify Identity form.
    pub verify_heading: &'static str,
    pub assurance_level: &'static str,
    pub ial2_option: &'static str,
    pub ial1_option: &'static str,
    pub accepted_documents: &'static str,
    pub send_the_link: &'static str,
    pub delivery_show: &'static str,
    pub delivery_email: &'static str,
    pub delivery_sms: &'static str,
    pub choose_document: &'static str,
    pub creating_link: &'static str,
    pub verify_not_started_title: &'static str,
    /// `{message}` is why.
    pub verify_not_started: &'static str,

    // The link while the customer has not finished.
    pub link_heading: &'static str,
    pub link_instructions: &'static str,
    /// `{error}` is why.
    pub link_not_sent: &'static str,
    pub link_emailed: &'static str,
    pub link_texted: &'static str,
    pub link_copied: &'static str,
    pub copy_blocked: &'static str,
    pub qr_link: &'static str,
    pub waiting: &'static str,
    /// `{date}` is when the link stops working.
    pub link_valid_until: &'static str,
    pub link_ready: &'static str,
    pub link_ready_emailed: &'static str,
    pub link_ready_texted: &'static str,
    pub link_ready_not_sent: &'static str,
    pub verification_title: &'static str,
    /// `{state}` is one of the `state_*` words.
    pub verification_ended_announced: &'static str,
    pub verification_ended: &'static str,
    pub verification_canceled: &'static str,

    // Sending the link again.
    pub resending: &'static str,
    pub resent_title: &'static str,
    pub resend_failed_title: &'static str,
    /// `{message}` is why.
    pub resend_failed: &'static str,

    // Step-up.
    pub stepup_heading: &'static str,
    pub stepup_instructions: &'static str,
    pub qr_stepup: &'static str,
    /// `{time}` is the countdown (`1:05`, or in words for screen readers).
    pub time_left: &'static str,
    pub minutes: Plural,
    pub seconds: Plural,
    pub countdown_expired: &'static str,
    pub stepup_starting: &'static str,
    pub stepup_started: &'static str,
    pub stepup_title: &'static str,
    pub stepup_not_started_title: &'static str,
    /// `{message}` is why.
    pub stepup_not_started: &'static str,
    pub stepup_not_enrolled_announced: &'static str,
    pub no_enrolment: &'static str,
    pub no_enrolment_hint: &'static str,
    pub stepup_canceled_announced: &'static str,
    /// `{state}` is one of the `state_*` words.
    pub stepup_ended_announced: &'static str,
    pub stepup_ended: &'static str,
    pub stepup_last: &'static str,
    pub stepup_passed: &'static str,
    pub stepup_failed: &'static str,
    pub stepup_expired: &'static str,
    pub stepup_other: &'static str,
    pub stepup_matched: &'static str,
    pub stepup_no_answer: &'static str,
    pub stepup_canceled: &'static str,
    pub stepup_not_matched: &'static str,

    // Why a verification failed.
    pub failures: FailureTexts,

    // Refusals of the backend.
    pub api_errors: ApiErrorTexts,

    // Trouble.
    /// `{message}` is why.
    pub connection_trouble: &'static str,
    /// `{message}` is why.
    pub cancel_failed: &'static str,
    pub cancel_failed_title: &'static str,
    pub error_bad_answer: &'static str,
    pub error_refused: &'static str,
    pub error_not_found: &'static str,
    pub error_too_many: &'static str,
    /// `{code}` is the HTTP status.
    pub error_http: &'static str,
    pub error_unreachable: &'static str,
    pub error_not_connected: &'static str,
    pub error_no_record_id: &'static str,
    pub error_wrong_page: &'static str,
    pub error_no_record: &'static str,
    pub error_client: &'static str,
}
}
