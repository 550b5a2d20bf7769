//! Why a verification did not pass, and what a sales rep does next: one table for every identity
//! provider. Each adapter maps its provider's own codes and answers onto a [`Failure`]; the
//! sentence stored, shown and written to the CRM comes from here, and the stable code
//! ([`Failure::code`]) goes to the widget and the card, which word it in the rep's language.

/// A reason a verification is not a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    // The document.
    ScanUnclear,
    CheckIncomplete,
    FrontOnly,
    Unreadable,
    WrongDocument,
    UnsupportedDocument,
    Inconsistent,
    NotPhysical,
    NotValidated,
    ProviderError,
    DocumentExpired,
    Fraud,
    UndocumentedCode,
    AttemptsUsed,
    NotAccepted,
    // The selfie and LiveID.
    FaceMismatch,
    NoFacesToCompare,
    NoFaceVerdict,
    NotApproved,
    OtherUser,
    ForeignAnswer,
    // The session.
    Declined,
    Abandoned,
    NoResult,
    NoDocument,
    SessionGone,
    // Whose document, and how sure.
    NameMismatch,
    NameMismatchHeld,
    NoNameVerdict,
    LevelTooLow,
    UnknownLevel,
    NoLevel,
    /// A reason this app does not know: never read as a pass, shown with the provider's code.
    Unknown,
}

/// What happened and the next step, in a sales rep's words (English; the widget and the card
/// word [`Failure::code`] in the rep's language).
struct Words {
    code: &'static str,
    what: &'static str,
    next: &'static str,
}

const fn words(code: &'static str, what: &'static str, next: &'static str) -> Words {
    Words { code, what, next }
}

const RETRY_THEN_SUPPORT: &str = "send a new link; if it happens again, contact support";

impl Failure {
    pub const ALL: [Self; 33] = [
        Self::ScanUnclear,
        Self::CheckIncomplete,
        Self::FrontOnly,
        Self::Unreadable,
        Self::WrongDocument,
        Self::UnsupportedDocument,
        Self::Inconsistent,
        Self::NotPhysical,
        Self::NotValidated,
        Self::ProviderError,
        Self::DocumentExpired,
        Self::Fraud,
        Self::UndocumentedCode,
        Self::AttemptsUsed,
        Self::NotAccepted,
        Self::FaceMismatch,
        Self::NoFacesToCompare,
        Self::NoFaceVerdict,
        Self::NotApproved,
        Self::OtherUser,
        Self::ForeignAnswer,
        Self::Declined,
        Self::Abandoned,
        Self::NoResult,
        Self::NoDocument,
        Self::SessionGone,
        Self::NameMismatch,
        Self::NameMismatchHeld,
        Self::NoNameVerdict,
        Self::LevelTooLow,
        Self::UnknownLevel,
        Self::NoLevel,
        Self::Unknown,
    ];

    /// The table.
    fn words(self) -> Words {
        match self {
            Self::ScanUnclear => words(
                "scan_unclear",
                "The ID scan was not clear enough",
                "ask the customer to rescan in good light without glare, then send a new link",
            ),
            Self::CheckIncomplete => words(
                "check_incomplete",
                "The document check could not be completed",
                "send a new link and ask the customer to try again",
            ),
            Self::FrontOnly => words(
                "front_only",
                "Only the front of the ID could be checked",
                "send a new link and ask the customer to scan both sides",
            ),
            Self::Unreadable => words(
                "unreadable",
                "The details on the ID could not be read",
                "send a new link and ask for a flat, well-lit scan",
            ),
            Self::WrongDocument => words(
                "wrong_document",
                "The customer scanned a different kind of document",
                "tell the customer which document to use, then send a new link",
            ),
            Self::UnsupportedDocument => words(
                "unsupported_document",
                "This kind of ID is not supported",
                "ask the customer to use a passport, driver's licence or national ID card",
            ),
            Self::Inconsistent => words(
                "inconsistent",
                "The data on the ID did not pass the consistency checks",
                "send one new link; if it fails again, verify the customer another way",
            ),
            Self::NotPhysical => words(
                "not_physical",
                "The ID did not look like a physical document (a copy or a screen)",
                "ask the customer to scan the physical ID itself",
            ),
            Self::NotValidated => words(
                "not_validated",
                "The ID could not be validated",
                "send one new link; if it fails again, verify the customer another way",
            ),
            Self::ProviderError => words(
                "provider_error",
                "1Kosmos could not complete the check",
                "send a new link later; if it keeps failing, contact support",
            ),
            Self::DocumentExpired => words(
                "document_expired",
                "The ID has expired",
                "ask the customer to use an ID that is still valid",
            ),
            Self::Fraud => words(
                "fraud",
                "The ID did not pass the fraud checks",
                "do not proceed; follow your team's process for suspected fraud",
            ),
            Self::UndocumentedCode => words(
                "undocumented_code",
                "The check failed (a code 1Kosmos does not document)",
                "send a new link; if it fails again, contact support",
            ),
            Self::AttemptsUsed => words(
                "attempts_used",
                "The customer used up all scan attempts",
                "send a new link when the customer is ready to try again",
            ),
            Self::NotAccepted => words(
                "not_accepted",
                "This kind of ID is not accepted for this account",
                "ask the customer to use another accepted ID",
            ),
            Self::FaceMismatch => words(
                "face_mismatch",
                "The selfie did not match the photo on the ID",
                "do not proceed on this verification; ask the customer to verify again themselves",
            ),
            Self::NoFacesToCompare => words(
                "no_faces_to_compare",
                "1Kosmos returned no selfie or ID photo to compare",
                "send a new link",
            ),
            Self::NoFaceVerdict => words(
                "no_face_verdict",
                "1Kosmos gave no face comparison verdict",
                RETRY_THEN_SUPPORT,
            ),
            Self::NotApproved => words(
                "not_approved",
                "The customer did not approve the request in the BlockID app",
                "confirm you are speaking with the customer, then ask again",
            ),
            Self::OtherUser => words(
                "other_user",
                "A different BlockID user answered this request",
                "do not proceed; ask the customer to approve from their own app",
            ),
            Self::ForeignAnswer => words(
                "foreign_answer",
                "The BlockID answer did not come from an account of this tenant that holds the \
                 customer's credential",
                "do not proceed; ask the customer to approve from their own app",
            ),
            Self::Declined => words(
                "declined",
                "The customer declined the verification",
                "ask whether they had trouble or concerns, then send a new link",
            ),
            Self::Abandoned => words(
                "abandoned",
                "The customer left the verification before finishing",
                "ask whether they had trouble, then send a new link",
            ),
            Self::NoResult => words(
                "no_result",
                "1Kosmos ended the verification without a result",
                RETRY_THEN_SUPPORT,
            ),
            Self::NoDocument => words(
                "no_document",
                "1Kosmos reported success without a document",
                RETRY_THEN_SUPPORT,
            ),
            Self::SessionGone => words(
                "session_gone",
                "The identity provider no longer knows this session",
                "send a new link",
            ),
            Self::NameMismatch => words(
                "name_mismatch",
                "The name on the ID does not match the contact's name in the CRM, so it is not \
                 verified",
                "do not proceed on this verification; if the CRM record is wrong, correct it and \
                 send a new link",
            ),
            Self::NameMismatchHeld => words(
                "name_mismatch_held",
                "Held for review: the name on the ID does not match the contact's name in the \
                 CRM, so it is not verified",
                "compare them (the contact's owner has a task); if the CRM record is wrong, \
                 correct it and send a new link",
            ),
            Self::NoNameVerdict => words(
                "no_name_verdict",
                "1Kosmos did not say whether the ID belongs to the contact, so it is not verified",
                "check that the contact has a name in the CRM, then send a new link; if it \
                 happens again, contact support",
            ),
            Self::LevelTooLow => words(
                "level_too_low",
                "1Kosmos verified this person only to {detail}, so it is not verified",
                "send a new link at the level required",
            ),
            Self::UnknownLevel => words(
                "unknown_level",
                "1Kosmos reported an assurance level this app does not know, so it is not verified",
                RETRY_THEN_SUPPORT,
            ),
            Self::NoLevel => words(
                "no_level",
                "1Kosmos reported no assurance level, so it is not verified",
                RETRY_THEN_SUPPORT,
            ),
            Self::Unknown => words(
                "unknown",
                "The customer could not be verified",
                "send a new link; if it fails again, contact support",
            ),
        }
    }

    /// The stable code clients word in the rep's language (`document_expired`).
    pub fn code(self) -> &'static str {
        self.words().code
    }

    /// What happened, in English (without the next step).
    pub fn what(self) -> &'static str {
        self.words().what
    }

    /// The failure for a stored code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The sentence stored and shown: what happened, the provider's own detail (its code in
    /// brackets, or where the words place it: the levels), and the next step.
    pub fn sentence(self, detail: Option<&str>) -> String {
        let w = self.words();
        let detail = detail.filter(|d| !d.is_empty());
        let mut out = match (w.what.split_once("{detail}"), detail) {
            (Some((before, after)), d) => {
                [before, d.unwrap_or("a level below the one required"), after].concat()
            }
            (None, Some(d)) => format!("{} ({d})", w.what),
            (None, None) => w.what.to_string(),
        };
        out.push_str(". Next step: ");
        out.push_str(w.next);
        out.push('.');
        out
    }
}

/// A provider-given word, made safe to show (no markup, bounded).
pub fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || " _-.:,()/".contains(*c))
        .take(120)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_code_a_sentence_and_a_next_step() {
        let mut codes: Vec<&str> = Failure::ALL.iter().map(|f| f.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Failure::ALL.len(), "codes are unique");
        for f in Failure::ALL {
            assert_eq!(Failure::parse(f.code()), Some(f));
            let s = f.sentence(Some("X1"));
            assert!(
                s.contains("X1") && s.contains(". Next step: ") && s.ends_with('.'),
                "{s}"
            );
            assert!(!f.sentence(None).contains('{'), "{f:?}");
            let lower = s.to_lowercase();
            assert!(
                !lower.starts_with("verified") && !lower.contains(" is verified"),
                "a failure never reads as verified: {s}"
            );
        }
    }

    #[test]
    fn the_table_and_the_shared_list_of_codes_agree() {
        let ours: Vec<&str> = Failure::ALL.iter().map(|f| f.code()).collect();
        assert_eq!(ours, idv_types::FAILURE_CODES, "same codes, same order");
    }

    #[test]
    fn an_unknown_reason_reads_could_not_be_verified_with_the_providers_code() {
        assert_eq!(
            Failure::Unknown.sentence(Some("IDV0099")),
            "The customer could not be verified (IDV0099). Next step: send a new link; if it \
             fails again, contact support."
        );
        assert_eq!(Failure::parse("no_such_code"), None);
    }
}
