//! The deal gate: which stages need a verified primary contact, and whether a deal passes.

use idv_types::{IdvStatus, Stage};

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

/// A deal passes its gate when its stage is not gated or its primary contact is verified.
pub fn gate_satisfied(stage_is_gated: bool, primary: Option<IdvStatus>) -> bool {
    !stage_is_gated || primary == Some(IdvStatus::Verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: u64, name: &str) -> Stage {
        Stage {
            id,
            name: name.into(),
        }
    }

    #[test]
    fn stages_are_named_in_any_case_or_by_id() {
        let all = [stage(1, "New"), stage(2, "Negotiation"), stage(3, "Won")];
        let gated = gated_stages(&all, &[" negotiation ".into(), "3".into(), "Lost".into()]);
        assert_eq!(gated, vec![stage(2, "Negotiation"), stage(3, "Won")]);
    }

    #[test]
    fn only_a_verified_contact_passes_a_gated_stage() {
        assert!(gate_satisfied(false, None));
        assert!(gate_satisfied(true, Some(IdvStatus::Verified)));
        assert!(!gate_satisfied(true, Some(IdvStatus::Expired)));
        assert!(!gate_satisfied(true, None));
    }
}
