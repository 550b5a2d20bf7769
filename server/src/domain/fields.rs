//! The contact fields this app writes onto the CRM record and their mapping from a status (their
//! types and labels are in [`super::setup`]).

use idv_types::{ContactStatus, IdvStatus};
use serde_json::{json, Map, Value};

use super::setup::CONTACT_FIELDS;

/// The API names of the contact fields this app writes, in [`CONTACT_FIELDS`] order.
pub fn field_names() -> impl Iterator<Item = &'static str> {
    CONTACT_FIELDS.iter().map(|f| f.name)
}

/// The contact fields for a status (`cf_` keys, as the CRM's API names them).
pub fn contact_fields(s: &ContactStatus, did: Option<String>) -> Map<String, Value> {
    let status = match s.status {
        IdvStatus::NotVerified => Value::Null,
        other => json!(other.as_str()),
    };
    let date = |t: &Option<String>| {
        t.as_deref()
            .map(|t| json!(t.get(..10).unwrap_or(t)))
            .unwrap_or(Value::Null)
    };
    let mut m = Map::new();
    m.insert("cf_idv_status".into(), status);
    m.insert(
        "cf_idv_ial_level".into(),
        s.ial
            .as_ref()
            .map(|a| json!(a.level))
            .unwrap_or(Value::Null),
    );
    // A dropdown of `true` / `false`, so that views and lists can filter on it.
    m.insert(
        "cf_idv_liveid_enrolled".into(),
        json!(if s.liveid_enrolled { "true" } else { "false" }),
    );
    m.insert(
        "cf_idv_credential_did".into(),
        did.map(Value::from).unwrap_or(Value::Null),
    );
    m.insert("cf_idv_verified_date".into(), date(&s.verified_at));
    m.insert(
        "cf_idv_match_confidence".into(),
        s.match_confidence
            .map(|c| json!((c * 100.0).round()))
            .unwrap_or(Value::Null),
    );
    m.insert(
        "cf_idv_document_type".into(),
        s.document_type
            .clone()
            .map(Value::from)
            .unwrap_or(Value::Null),
    );
    m.insert("cf_idv_last_stepup_date".into(), date(&s.last_stepup_at));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_field_is_in_the_list_and_the_list_is_mapped() {
        let s = ContactStatus {
            contact_id: 1,
            status: IdvStatus::Verified,
            ial: None,
            liveid_enrolled: true,
            document_type: Some("passport".into()),
            match_confidence: Some(0.974),
            identity_match: None,
            verified_at: Some("2030-02-03T04:05:06Z".into()),
            expires_at: None,
            last_stepup_at: None,
            current: None,
            history: Vec::new(),
            deliveries: vec![idv_types::Delivery::Show],
            fresh_minutes: None,
            setup: None,
        };
        let m = contact_fields(&s, None);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        // The mapping writes exactly the fields the set-up provisions.
        let written: std::collections::BTreeSet<&str> = keys.into_iter().collect();
        assert_eq!(written, field_names().collect());
        assert_eq!(m["cf_idv_verified_date"], json!("2030-02-03"));
        assert_eq!(m["cf_idv_match_confidence"], json!(97.0));
    }
}
