//! Whose document it was: the rule that compares the holder named on an identity document with
//! the CRM contact a verification was started for, and the rule that decides whether a
//! provider's pass is a verification of *this* contact at the level asked for.
//!
//! Names are compared per field (first with first, last with last) after folding case,
//! accents and other scripts to ASCII words; the order of words inside a field does not count.
//! Extra words on one side only (a middle name, a second surname) make a `partial` match; a
//! field whose words share nothing (another name, or first and last swapped) is a `mismatch`.
//! A date of birth the CRM has must be the document's, or it is a `mismatch`.

use idv_types::{IalLevel, IdentityMatch};
use serde::{Deserialize, Serialize};

use super::reasons::{printable, Failure};

/// The contact field (without a CRM's prefix) a tenant may keep a date of birth in:
/// `cf_date_of_birth` in Freshsales, `date_of_birth` among Freshdesk's custom fields.
pub const DATE_OF_BIRTH_FIELD: &str = "date_of_birth";

/// A person's identity claims: as the CRM record has them, or as a document names its holder.
/// Its `Debug` shows no personal data.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Holder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `YYYY-MM-DD` (see [`date_of_birth`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
}

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Holder([personal data])")
    }
}

impl Holder {
    /// Whether it names anyone (a word in the first or the last name).
    pub fn has_name(&self) -> bool {
        !words(self.first_name.as_deref()).is_empty()
            || !words(self.last_name.as_deref()).is_empty()
    }
}

/// A date of birth as `YYYY-MM-DD`, from `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD` or an RFC 3339
/// time; `None` for anything else (day-month orders are ambiguous and are not guessed).
pub fn date_of_birth(s: &str) -> Option<String> {
    let s = s.trim();
    let head = s.get(..10).filter(|h| h.len() == 10).unwrap_or(s);
    let digits: String = head.chars().filter(char::is_ascii_digit).collect();
    let separators_ok = match head.len() {
        8 => head.chars().all(|c| c.is_ascii_digit()),
        10 => {
            let b = head.as_bytes();
            b[4] == b[7] && matches!(b[4], b'-' | b'/')
        }
        _ => false,
    };
    if !separators_ok || digits.len() != 8 {
        return None;
    }
    let part = |r: std::ops::Range<usize>| digits[r].parse::<u16>().ok();
    let (year, month, day) = (part(0..4)?, part(4..6)?, part(6..8)?);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()?;
    (1800..=2100)
        .contains(&date.year())
        .then(|| format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..]))
}

/// The words of a name: folded to lowercase ASCII, apostrophes dropped (`O'Brien` is one word),
/// split at anything that is not a letter or a digit (spaces, hyphens, dots).
fn words(name: Option<&str>) -> Vec<String> {
    let Some(name) = name else { return Vec::new() };
    let mut w: Vec<String> = deunicode::deunicode(name)
        .to_ascii_lowercase()
        .replace(['\'', '`'], "")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    w.sort();
    w
}

/// How one name field compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Neither side has it.
    Absent,
    /// Only one side has it.
    OneSided,
    Same,
    /// Both have it; one's words are all in the other's.
    Extra,
    /// Both have it and neither's words are all in the other's.
    Differ,
}

/// Whether every word of `a` is in `b` (as many times); both sorted.
fn within(a: &[String], b: &[String]) -> bool {
    let mut rest = b.iter();
    a.iter().all(|w| rest.any(|x| x == w))
}

fn field(crm: &[String], doc: &[String]) -> Field {
    match (crm.is_empty(), doc.is_empty()) {
        (true, true) => Field::Absent,
        (true, false) | (false, true) => Field::OneSided,
        _ if crm == doc => Field::Same,
        _ if within(crm, doc) || within(doc, crm) => Field::Extra,
        _ => Field::Differ,
    }
}

/// Compares the CRM's record of a person with the holder a document names. `None` when there
/// is nothing to compare (the CRM record or the document names nobody): never a verification.
pub fn compare(crm: &Holder, document: &Holder) -> Option<IdentityMatch> {
    if !crm.has_name() || !document.has_name() {
        return None;
    }
    let first = field(
        &words(crm.first_name.as_deref()),
        &words(document.first_name.as_deref()),
    );
    let last = field(
        &words(crm.last_name.as_deref()),
        &words(document.last_name.as_deref()),
    );
    let fields = [first, last];
    let compared = fields
        .iter()
        .any(|f| matches!(f, Field::Same | Field::Extra));
    let names = if fields.contains(&Field::Differ) || !compared {
        // Another name, first and last swapped, or no field both sides have.
        IdentityMatch::Mismatch
    } else if fields
        .iter()
        .all(|f| matches!(f, Field::Same | Field::Absent))
    {
        IdentityMatch::Match
    } else {
        IdentityMatch::Partial
    };
    let crm_dob = crm.date_of_birth.as_deref().and_then(date_of_birth);
    let doc_dob = document.date_of_birth.as_deref().and_then(date_of_birth);
    Some(match (names, crm_dob, doc_dob) {
        (IdentityMatch::Mismatch, _, _) => IdentityMatch::Mismatch,
        (_, Some(a), Some(b)) if a != b => IdentityMatch::Mismatch,
        // The CRM knows a date of birth the document did not show: only the names agree.
        (IdentityMatch::Match, Some(_), None) => IdentityMatch::Partial,
        (m, _, _) => m,
    })
}

/// What a tenant does with a verification whose document names another person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchPolicy {
    /// The verification fails.
    #[default]
    Fail,
    /// The verification is held for review: not verified, and the contact's owner gets a task
    /// to compare the names (a wrong CRM record is corrected, then a new link sent).
    Review,
}

impl MismatchPolicy {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::Review => "review",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Some(Self::Fail),
            "review" => Some(Self::Review),
            _ => None,
        }
    }
}

/// Why a provider's pass of document proofing is not a verification of the contact (with the
/// detail of the levels where they are the reason), or `Ok` when it is: the document's holder is
/// the contact (`match` or `partial`), and the level reached is known and at least `required`
/// (the level asked for, or the account's minimum if that is higher).
pub fn judge_pass(
    identity: Option<IdentityMatch>,
    ial: Option<&str>,
    required: IalLevel,
    policy: MismatchPolicy,
) -> Result<(), (Failure, Option<String>)> {
    match (identity, policy) {
        (Some(IdentityMatch::Match | IdentityMatch::Partial), _) => {}
        (Some(IdentityMatch::Mismatch), MismatchPolicy::Fail) => {
            return Err((Failure::NameMismatch, None))
        }
        (Some(IdentityMatch::Mismatch), MismatchPolicy::Review) => {
            return Err((Failure::NameMismatchHeld, None))
        }
        (None, _) => return Err((Failure::NoNameVerdict, None)),
    }
    match ial.map(|l| (l, IalLevel::parse(l))) {
        Some((_, Some(level))) if level >= required => Ok(()),
        Some((_, Some(level))) => Err((
            Failure::LevelTooLow,
            Some(format!(
                "{}, below the {} required",
                level.as_str(),
                required.as_str()
            )),
        )),
        Some((other, None)) => Err((Failure::UnknownLevel, Some(printable(other)))),
        None => Err((Failure::NoLevel, None)),
    }
}

#[cfg(test)]
mod tests {
    use IdentityMatch::*;

    use super::*;

    fn h(first: &str, last: &str) -> Holder {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Holder {
            first_name: opt(first),
            last_name: opt(last),
            date_of_birth: None,
        }
    }

    fn born(mut p: Holder, dob: &str) -> Holder {
        p.date_of_birth = Some(dob.into());
        p
    }

    #[test]
    fn case_accents_punctuation_and_word_order_do_not_count() {
        let crm = h("José María", "Núñez-García");
        for doc in [
            h("JOSE MARIA", "NUNEZ GARCIA"),
            h("josé maría", "núñez garcía"),
            h("Maria Jose", "Garcia Nunez"),
        ] {
            assert_eq!(compare(&crm, &doc), Some(Match));
        }
        assert_eq!(
            compare(&h("Seán", "O'Brien"), &h("SEAN", "OBRIEN")),
            Some(Match)
        );
        assert_eq!(
            compare(&h("Jürgen", "Groß"), &h("JURGEN", "GROSS")),
            Some(Match)
        );
        assert_eq!(
            compare(&h("Zoë", "Ødegård"), &h("ZOE", "ODEGARD")),
            Some(Match)
        );
    }

    #[test]
    fn extra_middle_names_or_a_second_surname_are_a_partial_match() {
        let crm = h("Ada", "Lovelace");
        assert_eq!(compare(&crm, &h("Augusta Ada", "Lovelace")), Some(Partial));
        assert_eq!(compare(&crm, &h("Ada", "King Lovelace")), Some(Partial));
        // The CRM holds the middle name, the document does not.
        assert_eq!(
            compare(&h("Ada Augusta", "Lovelace"), &h("ADA", "LOVELACE")),
            Some(Partial)
        );
        // A mononym on the document: the last name agrees, the first is only on one side.
        assert_eq!(compare(&crm, &h("", "Lovelace")), Some(Partial));
    }

    #[test]
    fn another_name_or_first_and_last_swapped_is_a_mismatch() {
        let crm = h("Ada", "Lovelace");
        assert_eq!(compare(&crm, &h("Mallory", "Attacker")), Some(Mismatch));
        assert_eq!(compare(&crm, &h("Ada", "Byron")), Some(Mismatch));
        assert_eq!(compare(&crm, &h("Grace", "Lovelace")), Some(Mismatch));
        assert_eq!(compare(&crm, &h("Lovelace", "Ada")), Some(Mismatch));
        // No field both sides have: nothing agrees.
        assert_eq!(compare(&h("Ada", ""), &h("", "Lovelace")), Some(Mismatch));
    }

    #[test]
    fn nothing_to_compare_is_no_outcome() {
        assert_eq!(compare(&h("", ""), &h("Ada", "Lovelace")), None);
        assert_eq!(compare(&h("Ada", "Lovelace"), &h("", "")), None);
        assert_eq!(compare(&h(" - ", ""), &h("Ada", "Lovelace")), None);
        assert!(!Holder::default().has_name());
    }

    #[test]
    fn a_date_of_birth_the_crm_has_must_be_the_document_s() {
        let crm = born(h("Ada", "Lovelace"), "1815-12-10");
        assert_eq!(
            compare(&crm, &born(h("ADA", "LOVELACE"), "18151210")),
            Some(Match)
        );
        assert_eq!(
            compare(&crm, &born(h("ADA", "LOVELACE"), "1815-12-11")),
            Some(Mismatch)
        );
        // The document shows none: only the names agree.
        assert_eq!(compare(&crm, &h("Ada", "Lovelace")), Some(Partial));
        // The CRM has none: the document's is not compared.
        assert_eq!(
            compare(
                &h("Ada", "Lovelace"),
                &born(h("Ada", "Lovelace"), "19900101")
            ),
            Some(Match)
        );
        // A date of birth does not rescue another name.
        assert_eq!(
            compare(&crm, &born(h("Mallory", "Attacker"), "1815-12-10")),
            Some(Mismatch)
        );
    }

    #[test]
    fn dates_of_birth_are_read_only_in_unambiguous_forms() {
        for s in [
            "1815-12-10",
            "1815/12/10",
            "18151210",
            "1815-12-10T00:00:00Z",
        ] {
            assert_eq!(date_of_birth(s).as_deref(), Some("1815-12-10"), "{s}");
        }
        for s in [
            "10/12/1815",
            "12-10-1815",
            "1815-13-01",
            "1815-12",
            "",
            "18151310",
            "0001-01-01",
        ] {
            assert_eq!(date_of_birth(s), None, "{s}");
        }
    }

    #[test]
    fn holders_never_show_their_data_in_debug_output() {
        let p = born(h("Ada", "Lovelace"), "1815-12-10");
        let shown = format!("{p:?}");
        assert!(!shown.contains("Ada") && !shown.contains("1815"), "{shown}");
    }

    #[test]
    fn only_a_matching_holder_at_the_level_required_is_verified() {
        let fail = MismatchPolicy::Fail;
        assert_eq!(
            judge_pass(Some(Match), Some("IAL2"), IalLevel::IAL2, fail),
            Ok(())
        );
        assert_eq!(
            judge_pass(Some(Partial), Some("IAL2"), IalLevel::IAL1, fail),
            Ok(())
        );
        let words = |(why, detail): (Failure, Option<String>)| why.sentence(detail.as_deref());
        let low = words(judge_pass(Some(Match), Some("IAL1"), IalLevel::IAL2, fail).unwrap_err());
        assert!(
            low.contains("only to IAL1, below the IAL2 required"),
            "{low}"
        );
        for ial in [None, Some("ial2"), Some("IAL3")] {
            assert!(
                judge_pass(Some(Match), ial, IalLevel::IAL1, fail).is_err(),
                "{ial:?}"
            );
        }
        let other =
            words(judge_pass(Some(Mismatch), Some("IAL2"), IalLevel::IAL1, fail).unwrap_err());
        assert!(
            other.contains("does not match the contact's name"),
            "{other}"
        );
        let held = words(
            judge_pass(
                Some(Mismatch),
                Some("IAL2"),
                IalLevel::IAL1,
                MismatchPolicy::Review,
            )
            .unwrap_err(),
        );
        assert!(held.starts_with("Held for review"), "{held}");
        assert!(judge_pass(None, Some("IAL2"), IalLevel::IAL1, fail).is_err());
    }
}
