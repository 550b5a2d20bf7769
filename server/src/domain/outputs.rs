//! What a verification's end says outside the CRM record: the outputs a workflow action
//! completes with, and the message a chat customer reads. No personal data in either.

use idv_types::{SessionState, Verification};
use serde_json::{json, Map, Value};

/// The outputs a workflow branches on, for a verification in its current state.
pub fn outputs_of(v: &Verification) -> Map<String, Value> {
    let (result, status) = match v.state {
        SessionState::Pending => ("started", "pending"),
        SessionState::Verified => ("verified", "verified"),
        SessionState::Failed | SessionState::Canceled => ("failed", "failed"),
        SessionState::Expired => ("expired", "expired"),
        SessionState::Lapsed => ("expired", "lapsed"),
    };
    let mut m = Map::new();
    m.insert("idv_result".into(), json!(result));
    m.insert("idv_status".into(), json!(status));
    m.insert(
        "idv_ial_level".into(),
        json!(v.ial.as_ref().map(|a| a.level.clone()).unwrap_or_default()),
    );
    m.insert(
        "idv_verified_date".into(),
        json!(match (v.state, &v.completed_at) {
            (SessionState::Verified, Some(at)) => at.get(..10).unwrap_or(at).to_string(),
            _ => String::new(),
        }),
    );
    m.insert(
        "idv_failure_reason".into(),
        json!(v.failure_reason.clone().unwrap_or_default()),
    );
    m
}

/// What the customer reads in the conversation when a verification ends, with its reference
/// (the marker that tells whether an uncertain post went through). No personal data.
pub fn result_text(state: &str, verification: &str) -> String {
    let said = match state {
        "verified" => "Identity verified. Thank you, you can carry on here.",
        "failed" => {
            "Your identity could not be verified. An agent will help you with the next steps."
        }
        "expired" => "The verification link expired before it was used. Ask here for a new one.",
        _ => "The verification ended without a result. Ask here for a new one.",
    };
    format!("{said} (Reference {verification})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_messages_carry_the_reference_and_no_personal_data() {
        let t = result_text("verified", "ver_1");
        assert!(t.starts_with("Identity verified."));
        assert!(t.ends_with("(Reference ver_1)"));
        assert!(result_text("failed", "ver_1").contains("could not be verified"));
    }
}
