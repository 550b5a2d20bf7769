//! E.164 phone normalisation (Freshsales wants E.164) with the `phonenumber` crate.

use phonenumber::{country, Mode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number left out: it could not be parsed")]
    Unparseable,
    #[error("phone number left out: it is not a valid number")]
    Invalid,
}

/// `+44 20 7946 0018` → `+442079460018`. Numbers without a `+` need `default_region`.
pub fn normalise_phone(
    raw: &str,
    default_region: Option<country::Id>,
) -> Result<String, PhoneError> {
    if raw.len() > 64 {
        return Err(PhoneError::Unparseable);
    }
    let n = phonenumber::parse(default_region, raw).map_err(|_| PhoneError::Unparseable)?;
    if !phonenumber::is_valid(&n) {
        return Err(PhoneError::Invalid);
    }
    Ok(n.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn formats_known_numbers() {
        assert_eq!(
            normalise_phone("+44 20 7946 0018", None).unwrap(),
            "+442079460018"
        );
        assert_eq!(
            normalise_phone("(415) 555-2671", Some(country::Id::US)).unwrap(),
            "+14155552671"
        );
        assert_eq!(
            normalise_phone("not a phone", None),
            Err(PhoneError::Unparseable)
        );
        assert!(normalise_phone("+1 555", None).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_e164(s in "\\PC{0,40}") {
            if let Ok(e164) = normalise_phone(&s, Some(country::Id::US)) {
                prop_assert!(e164.starts_with('+'));
                prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(e164.len() <= 16);
            }
        }

        #[test]
        fn normalising_is_idempotent(d in "[2-9][0-9]{2}[2-9][0-9]{6}") {
            if let Ok(once) = normalise_phone(&d, Some(country::Id::US)) {
                prop_assert_eq!(normalise_phone(&once, None).unwrap(), once);
            }
        }
    }
}
