//! Test data shared by the model's tests.

use idv_types::{ContactStatus, DealStatus, IdvStatus, Kind, SessionState, Stage, Verification};

use super::{Cmd, Failure, Model, Msg, Record, Subject};

pub const T0: f64 = 1_795_341_600_000.0; // 2026-11-22T10:00:00Z

pub fn session(id: &str, kind: Kind, state: SessionState) -> Verification {
    Verification {
        id: id.into(),
        kind,
        state,
        contact_id: 7,
        deal_id: None,
        ticket_id: None,
        created_at: "2026-11-22T10:00:00Z".into(),
        completed_at: None,
        hosted_url: (kind == Kind::Idv).then(|| "https://verify.example/s/secret".into()),
        qr_payload: (kind == Kind::Stepup).then(|| "liveid:secret".into()),
        session_expires_at: Some("2026-11-22T10:01:30Z".into()),
        requested_by: None,
        failure_reason: None,
        failure_code: None,
        ial: None,
        document_type: None,
        match_confidence: None,
        requested_ial: None,
        identity_match: None,
        delivery: None,
        delivery_error: None,
    }
}

pub fn contact(status: IdvStatus) -> ContactStatus {
    ContactStatus {
        contact_id: 7,
        status,
        ial: None,
        liveid_enrolled: false,
        document_type: None,
        match_confidence: None,
        identity_match: None,
        verified_at: None,
        expires_at: None,
        last_stepup_at: None,
        current: None,
        history: vec![],
        deliveries: vec![idv_types::Delivery::Show, idv_types::Delivery::Email],
        fresh_minutes: None,
        setup: None,
    }
}

pub fn deal(primary: Option<ContactStatus>) -> DealStatus {
    DealStatus {
        deal_id: 3,
        stage: Some(Stage {
            id: 2.into(),
            name: "Proposal".into(),
        }),
        gated_stages: vec![Stage {
            id: 2.into(),
            name: "Proposal".into(),
        }],
        gated: true,
        gate_satisfied: false,
        primary_contact: primary,
        stepup: None,
        setup: None,
    }
}

pub fn failure(status: u16, code: &str) -> Failure {
    Failure {
        status,
        code: code.into(),
        message: "nope".into(),
    }
}

pub fn loaded_contact(status: IdvStatus) -> Model {
    let mut m = Model::new(Subject::Contact(7), Some("rep@example.com".into()));
    m.update(Msg::Refresh, T0);
    m.update(Msg::Loaded(Record::Contact(Box::new(contact(status)))), T0);
    m
}

pub fn loaded_deal(primary: Option<ContactStatus>) -> Model {
    let mut m = Model::new(Subject::Deal(3), Some("rep@example.com".into()));
    m.update(Msg::Refresh, T0);
    m.update(Msg::Loaded(Record::Deal(Box::new(deal(primary)))), T0);
    m
}

pub fn toasts(cmds: &[Cmd]) -> usize {
    cmds.iter()
        .filter(|c| matches!(c, Cmd::Toast { .. }))
        .count()
}
