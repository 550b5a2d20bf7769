//! The contact's status read model: derived from the sessions, a new contact looked up in the CRM.
//! A read is answered from memory while the database's stamp of the contact says nothing it
//! shows has changed: the stamp's version is bumped by the database in the transaction of every
//! write the read shows, from whichever replica, so a read after a write always shows it.
//! Concurrent reads share one lookup of their stamps (a read waits for a lookup that starts
//! after it arrived: [`Batcher`]). An answer that would change with time alone (a validity
//! ending) is kept only until then.

use std::{sync::Arc, time::Duration};

use idv_types::{ContactStatus, Delivery, Kind, SessionState};

use super::{
    batch::Batcher,
    core::{crm_unavailable, Core},
    limits::Limits,
    setup::Setup,
    tenant::TenantRow,
};
use crate::{
    clock,
    error::{AppError, Result},
    ports::CrmError,
    store::{StatusStamp, Store},
};

/// Most contacts one lookup of stamps asks for.
const STAMPS_BATCH: usize = 64;

/// The contacts' status reads kept in memory, each with the stamp it was read under.
#[derive(Debug)]
pub struct StatusCache {
    entries: moka::sync::Cache<(String, i64), Arc<Cached>>,
}

#[derive(Debug)]
struct Cached {
    version: (i64, i64),
    /// The contact's part of the answer (the tenant's set-up, deliveries and ticket freshness
    /// are added at each read).
    status: ContactStatus,
    /// When the answer would change without a write (epoch ms).
    until: Option<i64>,
}

impl Default for StatusCache {
    /// At most 50,000 contacts (a few KB each), each forgotten after ten minutes unread.
    fn default() -> Self {
        Self::new(50_000, Duration::from_secs(600))
    }
}

impl StatusCache {
    /// At most `capacity` contacts, each forgotten after `idle` without a read.
    pub fn new(capacity: u64, idle: Duration) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(idle)
                .build(),
        }
    }

    fn get(
        &self,
        tenant: &str,
        contact: i64,
        version: (i64, i64),
        now: i64,
    ) -> Option<ContactStatus> {
        let hit = self.entries.get(&(tenant.to_string(), contact))?;
        (hit.version == version && hit.until.is_none_or(|u| now < u)).then(|| hit.status.clone())
    }

    fn put(
        &self,
        tenant: &str,
        contact: i64,
        version: (i64, i64),
        status: ContactStatus,
        until: Option<i64>,
    ) {
        self.entries.insert(
            (tenant.to_string(), contact),
            Arc::new(Cached {
                version,
                status,
                until,
            }),
        );
    }
}

/// Reads a contact's status, from memory while the database says nothing changed.
#[derive(Clone, Debug)]
pub struct Status {
    core: Arc<Core>,
    limits: Limits,
    setup: Setup,
    status_cache: Arc<StatusCache>,
    stamps: Batcher<(String, i64), Option<StatusStamp>>,
}

impl Status {
    pub fn new(core: Arc<Core>, limits: Limits, setup: Setup) -> Self {
        let store = core.store.clone();
        Self {
            core,
            limits,
            setup,
            status_cache: Arc::default(),
            stamps: Batcher::new(STAMPS_BATCH, move |keys| read_stamps(store.clone(), keys)),
        }
    }

    /// The contact's status; a contact seen for the first time is looked up in the CRM.
    pub async fn contact_status(&self, tenant: &TenantRow, contact: i64) -> Result<ContactStatus> {
        let now = clock::now_ms();
        let stamp = self
            .stamps
            .call((tenant.id.clone(), contact))
            .await
            .map_err(|e| AppError::Unavailable(anyhow::anyhow!(e)))?;
        let cached = stamp
            .as_ref()
            .and_then(|s| self.status_cache.get(&tenant.id, contact, s.version, now));
        let mut status = match (cached, stamp) {
            (Some(hit), Some(stamp)) => with_setup(hit, &stamp),
            (_, Some(stamp)) => {
                let (fresh, until) = self.read_contact_status(tenant, contact, now).await?;
                self.status_cache
                    .put(&tenant.id, contact, stamp.version, fresh.clone(), until);
                with_setup(fresh, &stamp)
            }
            (_, None) => {
                self.look_up_new_contact(tenant, contact).await?;
                let (fresh, _) = self.read_contact_status(tenant, contact, now).await?;
                let mut status = fresh;
                status.setup = self.setup.setup_gaps(&tenant.id).await?;
                status
            }
        };
        status.deliveries = self
            .core
            .tenants
            .provider(tenant)
            .map(|p| p.deliveries())
            .unwrap_or_else(|_| vec![Delivery::Show]);
        status.fresh_minutes = tenant
            .crm_kind
            .has_tickets()
            .then(|| u32::try_from(tenant.policy.fresh_minutes).unwrap_or(30));
        Ok(status)
    }

    /// A contact this backend has not seen: it must exist in the CRM (one read), then it is
    /// recorded.
    async fn look_up_new_contact(&self, tenant: &TenantRow, contact: i64) -> Result<()> {
        let Some(crm) = self.core.tenants.crm(tenant) else {
            return Err(AppError::NotFound(format!(
                "contact {contact} is not known to this account"
            )));
        };
        self.limits.spend_crm_read(tenant).await?;
        match crm.contact(contact as u64).await {
            Ok(_) => {}
            Err(CrmError::NotFound(_)) => {
                return Err(AppError::NotFound(format!(
                    "contact {contact} does not exist in the CRM"
                )))
            }
            Err(e) => return Err(crm_unavailable(e)),
        }
        self.core
            .store
            .upsert_contact(&tenant.id, contact, false)
            .await
    }

    /// The contact's own part of the status, from the database, and when it would change
    /// without a write (the earliest validity still running).
    async fn read_contact_status(
        &self,
        tenant: &TenantRow,
        contact: i64,
        now: i64,
    ) -> Result<(ContactStatus, Option<i64>)> {
        let mut status = self
            .core
            .store
            .contact_status(&tenant.id, contact)
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("contact {contact} is not known to this account"))
            })?;
        let sessions = self.core.sessions_of(&tenant.id, contact, 20).await?;
        let own_end = status.expires_at.as_deref().and_then(clock::parse_rfc3339);
        let until = sessions
            .iter()
            .filter_map(|s| s.valid_until)
            .chain(own_end)
            .filter(|u| *u > now)
            .min();
        // A chat's pending session is its conversation's: never offered to the rep to show.
        status.current = sessions
            .iter()
            .find(|s| {
                s.kind == Kind::Idv
                    && s.state == SessionState::Pending
                    && s.conversation_id.is_none()
            })
            .map(|s| s.row.clone());
        status.history = sessions.into_iter().map(|s| s.row).collect();
        Ok((status, until))
    }
}

/// One lookup of a batch of reads' stamps.
async fn read_stamps(
    store: Store,
    keys: Vec<(String, i64)>,
) -> std::result::Result<Vec<Option<StatusStamp>>, String> {
    store.status_stamps(&keys).await.map_err(|e| e.to_string())
}

/// The status with the set-up gaps its stamp carries.
fn with_setup(mut status: ContactStatus, stamp: &StatusStamp) -> ContactStatus {
    status.setup = stamp
        .setup_report
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> ContactStatus {
        serde_json::from_value(serde_json::json!({
            "contact_id": 7, "status": "verified", "liveid_enrolled": false, "history": []
        }))
        .unwrap()
    }

    #[test]
    fn a_kept_read_serves_its_own_stamp_only_and_only_until_it_would_change_with_time() {
        let cache = StatusCache::new(10, Duration::from_secs(60));
        cache.put("acme", 7, (1, 5), status(), Some(1_000));
        assert_eq!(cache.get("acme", 7, (1, 5), 999), Some(status()));
        assert_eq!(
            cache.get("acme", 7, (1, 6), 999),
            None,
            "a write bumped the version"
        );
        assert_eq!(
            cache.get("acme", 7, (2, 5), 999),
            None,
            "the contact was made again"
        );
        assert_eq!(
            cache.get("acme", 7, (1, 5), 1_000),
            None,
            "its validity ended"
        );
        assert_eq!(
            cache.get("other", 7, (1, 5), 999),
            None,
            "another account's contact"
        );
        cache.put("acme", 8, (1, 1), status(), None);
        assert!(
            cache.get("acme", 8, (1, 1), i64::MAX).is_some(),
            "nothing ends with time"
        );
    }
}
