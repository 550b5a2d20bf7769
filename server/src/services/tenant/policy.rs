//! What an admin chooses for an account: its policy (install settings, `server tenant
//! set-policy`) and its start limits (`server tenant set-limits`).

use idv_types::{Delivery, IalLevel};
use serde::{Deserialize, Serialize};

use crate::{
    domain::identity::MismatchPolicy,
    error::{AppError, Result},
};

/// What an admin chooses at install (iparams) or with `server tenant set-policy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Start IDV when a contact is created.
    pub auto_verify_on_create: bool,
    /// Stage names or ids that need a verified primary contact.
    pub gated_stages: Vec<String>,
    /// Move a deal back to its previous stage when it enters a gated one unverified.
    pub revert_on_gate: bool,
    /// How long a verification stays valid.
    pub validity_days: i64,
    /// IAL requested by automation.
    pub default_ial: IalLevel,
    /// The lowest IAL this account accepts: no request may ask for less, and a gate is passed
    /// only by a valid verification at or above it.
    pub min_ial: IalLevel,
    /// How a link started by automation reaches the customer; unset: `email` when the
    /// account's provider offers it, else `show`.
    pub automation_delivery: Option<Delivery>,
    /// When a verification lapses, start a new one (with the automation delivery).
    pub reverify_on_expiry: bool,
    /// A change of the contact's name, email or phone ends a valid verification.
    pub invalidate_on_identity_change: bool,
    /// Freshdesk: when a ticket is created, verify its requester (with the automation delivery).
    pub verify_new_tickets: bool,
    /// Freshdesk: only tickets of these types (empty: any type).
    pub ticket_types: Vec<String>,
    /// Freshdesk: only tickets of these groups (empty: any group).
    pub ticket_group_ids: Vec<i64>,
    /// Freshdesk: how many minutes a verification counts as fresh enough for account changes
    /// (the ticket sidebar says whether the requester verified within them).
    pub fresh_minutes: i64,
    /// A document that names another person than the CRM contact: `fail` the verification, or
    /// hold it for `review` (not verified either way; the contact's owner gets a task).
    pub identity_mismatch: MismatchPolicy,
    /// Write the contact's BlockID credential DID into its CRM field, where every user of the
    /// account reads it. Off: the DID stays sealed in the backend (step-ups still work).
    pub publish_credential_did: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            auto_verify_on_create: false,
            gated_stages: Vec::new(),
            revert_on_gate: false,
            validity_days: 365,
            default_ial: IalLevel::IAL2,
            min_ial: IalLevel::IAL1,
            automation_delivery: None,
            reverify_on_expiry: false,
            invalidate_on_identity_change: false,
            verify_new_tickets: false,
            ticket_types: Vec::new(),
            ticket_group_ids: Vec::new(),
            fresh_minutes: 30,
            publish_credential_did: false,
            identity_mismatch: MismatchPolicy::Fail,
        }
    }
}

impl Policy {
    /// The lowest IAL this account accepts.
    pub fn minimum(&self) -> IalLevel {
        self.min_ial
    }

    /// How automation sends a link, given what the provider `offers`: the policy's choice if
    /// the provider offers it, else `email` if offered, else `show`.
    pub fn automation_delivery(&self, offers: &[Delivery]) -> Delivery {
        [self.automation_delivery, Some(Delivery::Email)]
            .into_iter()
            .flatten()
            .find(|d| offers.contains(d))
            .unwrap_or(Delivery::Show)
    }

    /// Whether the requester of a new ticket of `ticket_type` in `group` is verified.
    pub fn verifies_ticket(&self, ticket_type: Option<&str>, group: Option<i64>) -> bool {
        let type_ok = self.ticket_types.is_empty()
            || ticket_type.is_some_and(|t| {
                self.ticket_types
                    .iter()
                    .any(|want| want.trim().eq_ignore_ascii_case(t.trim()))
            });
        let group_ok = self.ticket_group_ids.is_empty()
            || group.is_some_and(|g| self.ticket_group_ids.contains(&g));
        self.verify_new_tickets && type_ok && group_ok
    }

    /// Checks an admin's choices; the message says what to fix.
    pub fn validate(&self) -> Result<()> {
        if !(1..=3650).contains(&self.validity_days) {
            return Err(AppError::Unprocessable(
                "validity_days must be between 1 and 3650".into(),
            ));
        }
        let (default, min) = (self.default_ial, self.min_ial);
        if default < min {
            return Err(AppError::Unprocessable(format!(
                "default_ial {} is below min_ial {}",
                default.as_str(),
                min.as_str()
            )));
        }
        if self.gated_stages.len() > 50
            || self
                .gated_stages
                .iter()
                .any(|s| s.trim().is_empty() || s.len() > 100)
        {
            return Err(AppError::Unprocessable(
                "gated_stages must be up to 50 non-empty stage names or ids".into(),
            ));
        }
        if !(1..=10_080).contains(&self.fresh_minutes) {
            return Err(AppError::Unprocessable(
                "fresh_minutes must be between 1 and 10080 (a week)".into(),
            ));
        }
        if self.ticket_types.len() > 50
            || self
                .ticket_types
                .iter()
                .any(|t| t.trim().is_empty() || t.len() > 100)
        {
            return Err(AppError::Unprocessable(
                "ticket_types must be up to 50 non-empty ticket type names".into(),
            ));
        }
        if self.ticket_group_ids.len() > 50 || self.ticket_group_ids.iter().any(|g| *g < 1) {
            return Err(AppError::Unprocessable(
                "ticket_group_ids must be up to 50 positive group ids".into(),
            ));
        }
        Ok(())
    }
}

/// A tenant's start limits (`server tenant set-limits`; these defaults otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StartLimits {
    /// New sessions (Verify Identity, step-up, automation) per tenant per minute.
    pub tenant_per_minute: u32,
    /// New sessions per contact per hour.
    pub contact_per_hour: u32,
    /// Forced restarts (`force`) per contact per hour.
    pub forced_per_hour: u32,
    /// A chat bot's starts per conversation per hour (each may read the CRM; retries count).
    pub chat_conversation_per_hour: u32,
    /// A chat bot's starts per tenant per minute, apart from the other starts: an anonymous
    /// chat cannot spend what reps and automation need.
    pub chat_per_minute: u32,
    /// The share of the tenant's Freshsales budget a chat bot's calls may spend, in percent;
    /// the rest is kept for write-back and reps.
    pub chat_crm_percent: u32,
}

impl Default for StartLimits {
    fn default() -> Self {
        Self {
            tenant_per_minute: 60,
            contact_per_hour: 10,
            forced_per_hour: 3,
            chat_conversation_per_hour: 5,
            chat_per_minute: 10,
            chat_crm_percent: 20,
        }
    }
}

impl StartLimits {
    /// Checks an operator's choice.
    pub fn validate(&self) -> Result<()> {
        let ok = |n: u32| (1..=100_000).contains(&n);
        if ![
            self.tenant_per_minute,
            self.contact_per_hour,
            self.forced_per_hour,
            self.chat_conversation_per_hour,
            self.chat_per_minute,
        ]
        .into_iter()
        .all(ok)
        {
            return Err(AppError::Unprocessable(
                "every start limit must be between 1 and 100000".into(),
            ));
        }
        if !(1..=100).contains(&self.chat_crm_percent) {
            return Err(AppError::Unprocessable(
                "the chat's share of the Freshsales budget must be between 1 and 100 percent"
                    .into(),
            ));
        }
        Ok(())
    }
}
