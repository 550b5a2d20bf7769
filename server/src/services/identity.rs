//! Whose identity a verification checks. Before: the person is the CRM record, never what a
//! request says about the contact (the page's record data is a hint, checked and compared, and
//! the CRM's values are used); a contact the CRM does not know is a 404. After: a provider's
//! pass is a verification only when the document's holder is that contact (the names, and the
//! date of birth where the CRM has one) and the level reached is the one asked for.

use std::sync::Arc;

use idv_types::{ContactData, IalLevel, IdentityMatch};

use super::{
    core::{crm_unavailable, Core, VerRow},
    limits::Limits,
    tenant::TenantRow,
};
use crate::{
    crypto::at,
    domain::identity::{self, Holder},
    error::{AppError, Result},
    ports::{
        crm::CrmContact,
        identity::{Outcome, ResultFields},
        CrmError,
    },
    store::Conn,
};

/// Whether two values of a contact field say the same (case and outer spaces aside).
fn same(page: Option<&str>, crm: Option<&str>) -> bool {
    match (page, crm) {
        (None, _) => true,
        (Some(p), Some(c)) => p.trim().eq_ignore_ascii_case(c.trim()),
        (Some(_), None) => false,
    }
}

/// Reads the record data a start carries (`contact`): values trimmed, empty ones left out, a
/// phone read as E.164 (an unreadable one left out, as when read from the CRM). `None` when it
/// names nobody (no name, no email). Too long or malformed: 422. A hint only: the CRM record
/// is what a verification checks and where its link goes (see `services::identity`).
pub fn person_from_page(data: &ContactData) -> Result<Option<CrmContact>> {
    fn text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>> {
        let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if v.chars().count() > max {
            return Err(AppError::Unprocessable(format!(
                "contact.{field} is longer than {max} characters"
            )));
        }
        if v.chars().any(char::is_control) {
            return Err(AppError::Unprocessable(format!(
                "contact.{field} holds control characters"
            )));
        }
        Ok(Some(v.to_string()))
    }
    let email = text("email", &data.email, 254)?;
    if let Some(e) = &email {
        if !well_formed_email(e) {
            return Err(AppError::Unprocessable(
                "contact.email is not an email address".into(),
            ));
        }
    }
    let person = CrmContact {
        first_name: text("first_name", &data.first_name, 255)?,
        last_name: text("last_name", &data.last_name, 255)?,
        email,
        phone: text("phone", &data.phone, 64)?
            .and_then(|p| crate::domain::phone::normalise_phone(&p, None).ok()),
        owner_id: None,
        date_of_birth: None,
    };
    let names = person.first_name.is_some() || person.last_name.is_some();
    Ok((names || person.email.is_some()).then_some(person))
}

/// Whether a text has an email address's shape: `local@domain.tld`, no spaces.
pub fn well_formed_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !e.chars().any(char::is_whitespace)
}

/// Whose identity a session checks, and whether the answer is theirs.
#[derive(Clone, Debug)]
pub struct Identity {
    core: Arc<Core>,
    limits: Limits,
}

impl Identity {
    pub fn new(core: Arc<Core>, limits: Limits) -> Self {
        Self { core, limits }
    }

    /// The contact as the CRM has it.
    pub(super) async fn read_person(&self, tenant: &TenantRow, contact: i64) -> Result<CrmContact> {
        let crm = self.core.tenants.crm_or_err(tenant)?;
        self.limits.spend_crm_read(tenant).await?;
        match crm.contact(contact as u64).await {
            Ok(c) => Ok(c),
            Err(CrmError::NotFound(_)) => Err(AppError::NotFound(format!(
                "contact {contact} does not exist in the CRM"
            ))),
            Err(e) => Err(crm_unavailable(e)),
        }
    }

    /// The person a verification of `contact` is for, as the CRM has them (404 when the CRM
    /// does not know the contact, 422 when it has no name to check a document against). The
    /// page's record data (`page`) is checked (422 when malformed) and compared: the names of
    /// the fields where it differs from the CRM come back, for the audit line; the CRM's
    /// values are the ones used (identity claims and delivery addresses alike).
    pub(super) async fn person_to_verify(
        &self,
        tenant: &TenantRow,
        contact: i64,
        page: Option<&ContactData>,
    ) -> Result<(CrmContact, Vec<&'static str>)> {
        let given = page.map(person_from_page).transpose()?.flatten();
        let person = self.read_person(tenant, contact).await?;
        if !person.holder().has_name() {
            return Err(AppError::Unprocessable(format!(
                "contact {contact} has no name in {}: add the first and last name as they are \
                 on the customer's ID, then verify (a document is checked against them)",
                tenant.crm_kind.product()
            )));
        }
        let differs = given
            .map(|g| {
                [
                    ("first_name", g.first_name, &person.first_name),
                    ("last_name", g.last_name, &person.last_name),
                    ("email", g.email, &person.email),
                    ("phone", g.phone, &person.phone),
                ]
                .into_iter()
                .filter(|(_, page, crm)| !same(page.as_deref(), crm.as_deref()))
                .map(|(name, _, _)| name)
                .collect()
            })
            .unwrap_or_default();
        Ok((person, differs))
    }

    /// The CRM's names for a contact, sealed for the verification row `id` (kept while its
    /// session is pending, for providers that return the document's data).
    pub(super) fn seal_holder(&self, id: &str, holder: &Holder) -> String {
        let json = serde_json::to_string(holder).unwrap_or_default();
        self.core
            .sealer
            .seal(at("verifications", "expected_holder_sealed", id), &json)
    }

    /// What the provider's answer for an IDV session means for the contact: a pass stays a
    /// pass only when the document's holder is the contact (the provider's own comparison, or
    /// the engine's of the holder the provider returned with the CRM's names the session was
    /// started with) and the level reached is at least the one asked for and the account's
    /// minimum; otherwise it is a failure that says why. The holder's data is dropped here.
    pub(super) async fn bind_to_contact(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        v: &VerRow,
        outcome: &Outcome,
    ) -> Result<(Outcome, Option<IdentityMatch>)> {
        let Outcome::Verified(f) = outcome else {
            return Ok((outcome.clone(), None));
        };
        let identity = match (f.identity_match, &f.holder) {
            (Some(m), _) => Some(m),
            (None, Some(document)) => {
                let sealed = tx.expected_holder_sealed(&v.id).await?;
                self.core
                    .sealer
                    .open_opt(
                        at("verifications", "expected_holder_sealed", &v.id),
                        sealed.as_deref(),
                    )
                    .and_then(|json| serde_json::from_str::<Holder>(&json).ok())
                    .and_then(|crm| identity::compare(&crm, document))
            }
            (None, None) => None,
        };
        let asked = v
            .row
            .requested_ial
            .as_deref()
            .and_then(IalLevel::parse)
            .unwrap_or(IalLevel::IAL1);
        let required = asked.max(tenant.policy.minimum());
        let judged = identity::judge_pass(
            identity,
            f.ial.as_deref(),
            required,
            tenant.policy.identity_mismatch,
        );
        Ok(match judged {
            Ok(()) => (
                Outcome::Verified(ResultFields {
                    holder: None,
                    ..f.clone()
                }),
                identity,
            ),
            Err((why, detail)) => (Outcome::failed(why, detail.as_deref()), identity),
        })
    }
}
