//! The words automation speaks in: a CRM event, who sent it, what a start may choose, and what
//! an event did. The forwarder's events, the workflow hook and the deal gate share them.

use idv_types::{
    Delivery, DocumentType, IalLevel, SessionState, StageId, StartVerification, Verification,
};

/// A CRM event in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrmEvent {
    ContactCreated {
        contact_id: i64,
    },
    /// A contact's identity fields changed: `name`, `email` and/or `phone`.
    ContactUpdated {
        contact_id: i64,
        changed: Vec<&'static str>,
    },
    DealStageChanged {
        deal_id: i64,
        /// The contact to verify, when the sender names one (used only if it is on the deal).
        contact_id: Option<i64>,
        /// The stage entered: an id, or a name from a workflow's placeholder.
        stage: Option<StageRef>,
        /// The stage left, as the sender claims it (checked against the deal's history).
        previous_stage_id: Option<StageId>,
    },
    /// A help-desk ticket was created (Freshdesk): its requester may be verified by policy.
    TicketCreated {
        ticket_id: i64,
        requester_id: i64,
        ticket_type: Option<String>,
        group_id: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageRef {
    Id(StageId),
    Name(String),
}

/// Who asks: the app's own forwarded events follow the policy's switches; a workflow is its
/// own opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Forwarded,
    Workflow,
}

/// What an event did, for the sender's 2xx body and the tests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Handled {
    /// `started`, `already_pending_or_valid`, `already_seen`, `forgotten`, `not_gated`,
    /// `gate_satisfied`, `policy_off`, `no_contact`, `uninstalled`, `invalidated`,
    /// `nothing_to_invalidate`, `not_in_stage` (a repeated deal call whose deal has left the
    /// stage).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    /// The session's state (a workflow can log it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
    pub deal_moved_back: bool,
    /// Inputs of the sender that were not used, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

impl Handled {
    pub(super) fn just(outcome: &'static str) -> Self {
        Self {
            outcome,
            verification_id: None,
            state: None,
            deal_moved_back: false,
            ignored: Vec::new(),
        }
    }

    pub(super) fn session(outcome: &'static str, v: &Verification) -> Self {
        Self {
            verification_id: Some(v.id.clone()),
            state: Some(v.state),
            ..Self::just(outcome)
        }
    }
}

/// What a workflow chose for the start (each falls back to the tenant's policy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartOptions {
    pub ial: Option<IalLevel>,
    pub document_types: Vec<DocumentType>,
    pub delivery: Option<Delivery>,
    pub force: bool,
    /// The help-desk ticket the start comes from.
    pub ticket: Option<u64>,
}

impl StartOptions {
    /// The start request, with the delivery already resolved.
    pub fn request(&self, delivery: Delivery) -> StartVerification {
        StartVerification {
            ial: self.ial.map(|l| l.as_str().to_string()),
            document_types: self
                .document_types
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
            requested_by: Some("automation".into()),
            force: self.force,
            delivery: Some(delivery),
            send_email: false,
            contact: None,
            ticket_id: self.ticket,
        }
    }
}
