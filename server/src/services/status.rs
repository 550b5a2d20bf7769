//! The contact's status read model: derived from the sessions, a new contact looked up in the CRM.
//! A read is answered from memory while the database's stamp of the contact says nothing it
//! shows has changed: the stamp's version is bumped by the database in the transaction of every
//! write the read shows, from whichever replica, so a read after a write always shows it.
//! Concurrent reads share one lookup of their stamps (a read waits for a lookup that starts
//! after it arrived: [`Batcher`]). An answer that would change with time alone (a validity
//! ending) is kept only until then. The widget's read is answered with the bytes of the last
//! answer built from the kept read, while the parts added per read (set-up gaps, deliveries,
//! ticket freshness) are the same as they were then.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use idv_types::{ContactStatus, Delivery, Kind, SessionState};
use parking_lot::Mutex;

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
    store::{Kept, StatusStamp, Store},
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
    /// The last whole answer built from `status`, serialised, with the parts it was built with.
    answer: Mutex<Option<(PerRead, Bytes)>>,
}

/// The parts of an answer added at each read: they change without a write to the contact.
#[derive(Debug, Clone, PartialEq)]
struct PerRead {
    /// The account's set-up gaps as its stamp carries them (JSON).
    setup_report: Option<String>,
    deliveries: Vec<Delivery>,
    fresh_minutes: Option<u32>,
}

impl PerRead {
    /// The answer: the contact's part with these parts added (a contact's part has no set-up
    /// gaps of its own; a first read's were read with it).
    fn complete(&self, mut status: ContactStatus) -> ContactStatus {
        if let Some(json) = &self.setup_report {
            status.setup = serde_json::from_str(json).ok();
        }
        status.deliveries = self.deliveries.clone();
        status.fresh_minutes = self.fresh_minutes;
        status
    }
}

impl Cached {
    /// The serialised answer with `parts`, built once for each change of them.
    fn answer(&self, parts: PerRead) -> Bytes {
        if let Some((built, body)) = &*self.answer.lock() {
            if *built == parts {
                return body.clone();
            }
        }
        let body = serialise(&parts.complete(self.status.clone()));
        *self.answer.lock() = Some((parts, body.clone()));
        body
    }
}

/// A status as the widget API answers it.
fn serialise(status: &ContactStatus) -> Bytes {
    Bytes::from(serde_json::to_vec(status).unwrap_or_default())
}

/// A read: the kept contact's part it was answered from, or, for a contact seen for the first
/// time (no stamp yet), its part read with the account's set-up gaps.
enum Read {
    Kept(Arc<Cached>),
    Fresh(Box<ContactStatus>),
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
    ) -> Option<Arc<Cached>> {
        let hit = self.entries.get(&(tenant.to_string(), contact))?;
        (hit.version == version && hit.until.is_none_or(|u| now < u)).then_some(hit)
    }

    fn put(
        &self,
        tenant: &str,
        contact: i64,
        version: (i64, i64),
        status: ContactStatus,
        until: Option<i64>,
    ) -> Arc<Cached> {
        let kept = Arc::new(Cached {
            version,
            status,
            until,
            answer: Mutex::default(),
        });
        self.entries
            .insert((tenant.to_string(), contact), kept.clone());
        kept
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
        // Batches are served one at a time: one kept connection serves them all.
        let kept = Arc::new(tokio::sync::Mutex::new(Kept::default()));
        Self {
            core,
            limits,
            setup,
            status_cache: Arc::default(),
            stamps: Batcher::new(STAMPS_BATCH, move |keys| {
                read_stamps(store.clone(), kept.clone(), keys)
            }),
        }
    }

    /// The contact's status; a contact seen for the first time is looked up in the CRM.
    pub async fn contact_status(&self, tenant: &TenantRow, contact: i64) -> Result<ContactStatus> {
        let (read, parts) = self.read(tenant, contact).await?;
        Ok(match read {
            Read::Kept(kept) => parts.complete(kept.status.clone()),
            Read::Fresh(status) => parts.complete(*status),
        })
    }

    /// [`Status::contact_status`] serialised as the widget API answers it (JSON): the bytes
    /// of the last answer while neither the contact nor the parts added per read changed.
    pub async fn contact_status_json(&self, tenant: &TenantRow, contact: i64) -> Result<Bytes> {
        let (read, parts) = self.read(tenant, contact).await?;
        Ok(match read {
            Read::Kept(kept) => kept.answer(parts),
            Read::Fresh(status) => serialise(&parts.complete(*status)),
        })
    }

    /// The contact's part of its status (kept, or read) and the parts added at this read.
    async fn read(&self, tenant: &TenantRow, contact: i64) -> Result<(Read, PerRead)> {
        let now = clock::now_ms();
        let stamp = self
            .stamps
            .call((tenant.id.clone(), contact))
            .await
            .map_err(|e| AppError::Unavailable(anyhow::anyhow!(e)))?;
        let mut parts = PerRead {
            setup_report: None,
            deliveries: self
                .core
                .tenants
                .provider(tenant)
                .map(|p| p.deliveries())
                .unwrap_or_else(|_| vec![Delivery::Show]),
            fresh_minutes: tenant
                .crm_kind
                .has_tickets()
                .then(|| u32::try_from(tenant.policy.fresh_minutes).unwrap_or(30)),
        };
        let read = match stamp {
            Some(stamp) => {
                parts.setup_report = stamp.setup_report;
                match self
                    .status_cache
                    .get(&tenant.id, contact, stamp.version, now)
                {
                    Some(hit) => Read::Kept(hit),
                    None => {
                        let (fresh, until) = self.read_contact_status(tenant, contact, now).await?;
                        Read::Kept(self.status_cache.put(
                            &tenant.id,
                            contact,
                            stamp.version,
                            fresh,
                            until,
                        ))
                    }
                }
            }
            None => {
                self.look_up_new_contact(tenant, contact).await?;
                let (mut fresh, _) = self.read_contact_status(tenant, contact, now).await?;
                fresh.setup = self.setup.setup_gaps(&tenant.id).await?;
                Read::Fresh(Box::new(fresh))
            }
        };
        Ok((read, parts))
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
    kept: Arc<tokio::sync::Mutex<Kept>>,
    keys: Vec<(String, i64)>,
) -> std::result::Result<Vec<Option<StatusStamp>>, String> {
    let mut kept = kept.lock().await;
    store
        .status_stamps(&mut kept, &keys)
        .await
        .map_err(|e| e.to_string())
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
        let kept = |version, now| cache.get("acme", 7, version, now).map(|c| c.status.clone());
        assert_eq!(kept((1, 5), 999), Some(status()));
        assert_eq!(kept((1, 6), 999), None, "a write bumped the version");
        assert_eq!(kept((2, 5), 999), None, "the contact was made again");
        assert_eq!(kept((1, 5), 1_000), None, "its validity ended");
        assert!(
            cache.get("other", 7, (1, 5), 999).is_none(),
            "another account's contact"
        );
        cache.put("acme", 8, (1, 1), status(), None);
        assert!(
            cache.get("acme", 8, (1, 1), i64::MAX).is_some(),
            "nothing ends with time"
        );
    }

    #[test]
    fn a_kept_answer_is_rebuilt_when_a_part_added_at_each_read_changes() {
        let cache = StatusCache::new(10, Duration::from_secs(60));
        let kept = cache.put("acme", 7, (1, 5), status(), None);
        let answer = |parts: &PerRead| -> ContactStatus {
            serde_json::from_slice(&kept.answer(parts.clone())).unwrap()
        };
        let show = PerRead {
            setup_report: None,
            deliveries: vec![Delivery::Show],
            fresh_minutes: None,
        };
        assert_eq!(answer(&show).deliveries, [Delivery::Show]);
        assert_eq!(
            answer(&show),
            show.complete(status()),
            "the same answer again"
        );

        let email = PerRead {
            deliveries: vec![Delivery::Show, Delivery::Email],
            ..show.clone()
        };
        assert_eq!(answer(&email).deliveries, [Delivery::Show, Delivery::Email]);

        let desk = PerRead {
            fresh_minutes: Some(15),
            ..show.clone()
        };
        assert_eq!(answer(&desk).fresh_minutes, Some(15));

        let gaps = serde_json::json!({
            "complete": false, "checked_at": "2026-12-07T10:00:00Z", "gaps": [],
            "product": "Freshsales"
        });
        let unset = PerRead {
            setup_report: Some(gaps.to_string()),
            ..show.clone()
        };
        assert_eq!(answer(&unset).setup.map(|s| s.complete), Some(false));
        assert_eq!(answer(&show).setup, None, "the set-up completed since");
        assert_eq!(answer(&show).fresh_minutes, None);
    }
}
