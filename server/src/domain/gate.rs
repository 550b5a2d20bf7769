//! The deal gate: which stages need a verified primary contact, and whether a deal passes.

use idv_types::{ContactStatus, IalLevel, IdvStatus, Stage};

/// The stages of `all` that the policy's entries (stage names, any case, or ids) name.
pub fn gated_stages(all: &[Stage], policy: &[String]) -> Vec<Stage> {
    all.iter()
        .filter(|s| {
            policy
                .iter()
                .any(|g| g.trim().eq_ignore_ascii_case(&s.name) || g.trim() == s.id.to_string())
        })
        .cloned()
        .collect()
}

/// Whether a contact holds a valid verification at or above `min`.
pub fn meets(contact: &ContactStatus, min: IalLevel) -> bool {
    contact.status == IdvStatus::Verified
        && contact
            .ial
            .as_ref()
            .and_then(|a| IalLevel::parse(&a.level))
            .is_some_and(|level| level >= min)
}

/// A deal passes its gate when its stage is not gated or its primary contact [`meets`] `min`.
pub fn gate_satisfied(
    stage_is_gated: bool,
    primary: Option<&ContactStatus>,
    min: IalLevel,
) -> bool {
    !stage_is_gated || primary.is_some_and(|p| meets(p, min))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, name: &str) -> Stage {
        Stage {
            id: idv_types::StageId::new(id).unwrap(),
            name: name.into(),
        }
    }

    #[test]
    fn stages_are_named_in_any_case_or_by_id() {
        let all = [
            stage("1", "New"),
            stage("2", "Negotiation"),
            stage("3", "Won"),
        ];
        let gated = gated_stages(&all, &[" negotiation ".into(), "3".into(), "Lost".into()]);
        assert_eq!(gated, vec![stage("2", "Negotiation"), stage("3", "Won")]);
        // A CRM whose stage ids are words (HubSpot's `closedwon`) is named the same way.
        let hubspot = [
            stage("appointmentscheduled", "Appointment scheduled"),
            stage("closedwon", "Closed won"),
        ];
        assert_eq!(
            gated_stages(&hubspot, &["closedwon".into()]),
            vec![stage("closedwon", "Closed won")]
        );
    }

    fn contact(status: IdvStatus, level: Option<&str>) -> ContactStatus {
        ContactStatus {
            contact_id: 1,
            status,
            ial: level.map(|l| idv_types::Assurance {
                level: l.into(),
                revision: "800-63-3".into(),
            }),
            liveid_enrolled: false,
            document_type: None,
            match_confidence: None,
            identity_match: None,
            verified_at: None,
            expires_at: None,
            last_stepup_at: None,
            current: None,
            history: Vec::new(),
            deliveries: vec![idv_types::Delivery::Show],
            fresh_minutes: None,
            setup: None,
        }
    }

    #[test]
    fn only_a_verified_contact_passes_a_gated_stage() {
        let ial2 = contact(IdvStatus::Verified, Some("IAL2"));
        assert!(gate_satisfied(false, None, IalLevel::IAL2));
        assert!(gate_satisfied(true, Some(&ial2), IalLevel::IAL1));
        assert!(gate_satisfied(true, Some(&ial2), IalLevel::IAL2));
        let expired = contact(IdvStatus::Expired, Some("IAL2"));
        assert!(!gate_satisfied(true, Some(&expired), IalLevel::IAL1));
        assert!(!gate_satisfied(true, None, IalLevel::IAL1));
    }

    #[test]
    fn a_gate_requiring_ial2_is_not_passed_by_an_ial1_result() {
        let ial1 = contact(IdvStatus::Verified, Some("IAL1"));
        assert!(gate_satisfied(true, Some(&ial1), IalLevel::IAL1));
        assert!(!gate_satisfied(true, Some(&ial1), IalLevel::IAL2));
        let unknown = contact(IdvStatus::Verified, None);
        assert!(!gate_satisfied(true, Some(&unknown), IalLevel::IAL1));
    }
}
