//! The verification engine: starting sessions, applying what the provider says (polling is the
//! truth; callbacks are hints), deriving contact status, and queueing the CRM write-back.

pub mod automation;
pub mod doctor;
mod install;
pub mod intake;
pub mod metrics;
pub mod sync;
pub mod tenant;

use std::{collections::HashMap, sync::Arc, time::Duration};

use idv_types::{
    Assurance, ContactStatus, DealStatus, Kind, SessionState, Stage, StartVerification,
    Verification,
};
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::{any::AnyRow, Row};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use self::{
    metrics::Metrics,
    sync::Write,
    tenant::{Policy, TenantRow},
};
use crate::{
    clock::{self, rfc3339, DAY_MS},
    crypto::Sealer,
    domain::status::NIST_REVISION,
    error::{AppError, Result},
    ports::{
        identity::{CreateIdv, CreateLiveId, Outcome, ResultFields, SessionReport},
        Connector, Crm, CrmConnection, CrmError, IdentityProvider, ProviderConnection,
        ProviderError,
    },
    store::{bp_to_confidence, confidence_to_bp, Store},
};

/// Tunables (tests shrink them).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL of this backend, for provider callbacks (`{base}/hooks/kosmos/{tenant}`).
    pub public_base_url: String,
    /// CRM write retry delays (the row goes dead after the last).
    pub retry_schedule: Vec<Duration>,
    /// How long a desired-state write waits for more changes before it is sent.
    pub coalesce: Duration,
    /// Poll delays for pending IDV sessions (the last repeats).
    pub idv_poll: Vec<Duration>,
    /// Poll delay for pending step-ups (they live 60–120 s).
    pub stepup_poll: Duration,
    /// LiveID session lifetime asked of the provider.
    pub stepup_ttl_secs: u32,
    /// Timeout of calls to 1Kosmos and Freshsales.
    pub http_timeout: Duration,
    /// How often the workers look for due work when not woken.
    pub tick: Duration,
    /// Accept any http(s) account URL at install (simulators on loopback). Off in production:
    /// only `https://*.myfreshworks.com` and `https://*.freshsales.io` are accepted.
    pub allow_any_account_url: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            public_base_url: "http://127.0.0.1:8080".into(),
            retry_schedule: vec![
                s(1),
                s(5),
                s(30),
                s(120),
                s(600),
                s(1800),
                s(3600),
                s(3 * 3600),
            ],
            coalesce: Duration::from_secs(2),
            idv_poll: vec![s(15), s(30), s(60), s(120), s(300)],
            stepup_poll: s(2),
            stepup_ttl_secs: 90,
            http_timeout: s(10),
            tick: Duration::from_millis(500),
            allow_any_account_url: false,
        }
    }
}

/// A tenant's clients, built by the [`Connector`] from its connection settings.
struct Clients {
    provider: Option<Arc<dyn IdentityProvider>>,
    crm: Option<Arc<dyn Crm>>,
}

/// Everything a request handler or worker needs.
pub struct Engine {
    pub store: Store,
    pub sealer: Sealer,
    pub settings: Settings,
    pub metrics: Metrics,
    pub wake_sync: Notify,
    pub wake_poll: Notify,
    limiter: sync::RateLimiter,
    connector: Arc<dyn Connector>,
    clients: Mutex<HashMap<String, Arc<Clients>>>,
    /// Tenants read in the last [`TENANT_TTL`] (every request and callback needs one).
    tenants: Mutex<HashMap<String, (std::time::Instant, TenantRow)>>,
    /// Each tenant's deal stages, read from Freshsales at most every [`STAGES_TTL`].
    stages: Mutex<HashMap<String, (std::time::Instant, Vec<Stage>)>>,
    intake: intake::Intake,
}

/// Deal stages change rarely; deal pages are polled often and each read costs API budget.
pub const STAGES_TTL: Duration = Duration::from_secs(300);

/// How long a tenant's row is reused before it is read again. Changes made through this
/// process apply at once; other replicas see them within this time.
pub const TENANT_TTL: Duration = Duration::from_secs(2);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// Columns of a verification row, in the order [`Engine::view`] reads them.
const VCOLS: &str = "id, tenant_id, contact_id, deal_id, kind, state, provider_session_id, ial_level, ial_revision, \
    document_type, match_confidence_bp, failure_reason, created_at, completed_at, valid_until, hosted_url_sealed, \
    qr_payload_sealed, requested_by_sealed, session_expires_at, poll_attempts";

/// A verification row.
#[derive(Debug, Clone)]
pub struct VerRow {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: i64,
    pub deal_id: Option<i64>,
    pub kind: Kind,
    pub state: SessionState,
    pub provider_session_id: Option<String>,
    pub poll_attempts: i64,
    /// A verified IDV session counts until then (the expiry job moves it to `expired`).
    pub valid_until: Option<i64>,
    row: Verification,
}

fn uid(prefix: &str) -> String {
    crate::domain::ids::new_id(prefix)
}

impl Engine {
    /// The services over `store`, reaching providers and CRMs through `connector`.
    pub fn new(
        store: Store,
        sealer: Sealer,
        settings: Settings,
        connector: Arc<dyn Connector>,
    ) -> Self {
        Self {
            connector,
            store,
            sealer,
            settings,
            metrics: Metrics::default(),
            wake_sync: Notify::new(),
            wake_poll: Notify::new(),
            limiter: sync::RateLimiter::default(),
            clients: Mutex::default(),
            tenants: Mutex::default(),
            stages: Mutex::default(),
            intake: intake::Intake::default(),
        }
    }

    pub async fn tenant(&self, id: &str) -> Result<Option<TenantRow>> {
        if let Some((at, row)) = self.tenants.lock().get(id) {
            if at.elapsed() < TENANT_TTL {
                return Ok(Some(row.clone()));
            }
        }
        let row = tenant::load(&self.store, &self.sealer, id).await?;
        if let Some(r) = &row {
            self.tenants
                .lock()
                .insert(id.to_string(), (std::time::Instant::now(), r.clone()));
        }
        Ok(row)
    }

    /// The tenant a token hash belongs to (through the same cache).
    pub async fn tenant_by_token_hash(&self, hash: &str) -> Result<Option<TenantRow>> {
        let hit = self
            .tenants
            .lock()
            .values()
            .find(|(at, r)| at.elapsed() < TENANT_TTL && r.token_hash == hash)
            .map(|(_, r)| r.clone());
        if hit.is_some() {
            return Ok(hit);
        }
        match self.store.tenant_by_token_hash(hash).await? {
            Some(t) => self.tenant(&t.id).await,
            None => Ok(None),
        }
    }

    /// Forgets cached clients and the cached row after a tenant's settings change.
    pub fn forget_clients(&self, tenant: &str) {
        self.clients.lock().remove(tenant);
        self.tenants.lock().remove(tenant);
        self.stages.lock().remove(tenant);
    }

    fn clients(&self, t: &TenantRow) -> Arc<Clients> {
        if let Some(c) = self.clients.lock().get(&t.id) {
            return c.clone();
        }
        let c = Arc::new(Clients {
            provider: match (&t.kosmos_base_url, &t.kosmos_key) {
                (Some(base), Some(key)) => Some(self.connector.identity(&ProviderConnection {
                    base_url: base.clone(),
                    key: key.clone(),
                })),
                _ => None,
            },
            crm: match (&t.freshsales_base_url, &t.freshsales_key) {
                (Some(base), Some(key)) => Some(self.connector.crm(&CrmConnection {
                    base_url: base.clone(),
                    key: key.clone(),
                })),
                _ => None,
            },
        });
        self.clients.lock().insert(t.id.clone(), c.clone());
        c
    }

    /// The tenant's CRM, if it has a connection.
    pub fn crm(&self, t: &TenantRow) -> Option<Arc<dyn Crm>> {
        self.clients(t).crm.clone()
    }

    /// A CRM for a connection that is not stored yet (the install checks the key first).
    pub fn crm_for(&self, c: &CrmConnection) -> Arc<dyn Crm> {
        self.connector.crm(c)
    }

    pub fn provider(&self, t: &TenantRow) -> Result<Arc<dyn IdentityProvider>> {
        self.clients(t).provider.clone().ok_or_else(|| {
            AppError::Unprocessable("this account has no 1Kosmos connection; the operator sets it with `server tenant add`".into())
        })
    }

    fn crm_or_err(&self, t: &TenantRow) -> Result<Arc<dyn Crm>> {
        self.crm(t).ok_or_else(|| {
            AppError::Unprocessable(
                "this account has no CRM connection; reinstall the app with an API key".into(),
            )
        })
    }

    pub async fn audit(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (tenant_id, at, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(tenant)
            .bind(clock::now_ms())
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(conn)
            .await?;
        Ok(())
    }

    fn read_row(&self, r: &AnyRow) -> VerRow {
        let kind = Kind::parse(&r.get::<String, _>(4)).unwrap_or(Kind::Idv);
        let state = SessionState::parse(&r.get::<String, _>(5)).unwrap_or(SessionState::Failed);
        let level: Option<String> = r.get(7);
        let revision: Option<String> = r.get(8);
        let contact_id: i64 = r.get(2);
        let deal_id: Option<i64> = r.get(3);
        let session_expires: Option<i64> = r.get(18);
        let pending = state == SessionState::Pending;
        let view = Verification {
            id: r.get(0),
            kind,
            state,
            contact_id: contact_id as u64,
            deal_id: deal_id.map(|d| d as u64),
            created_at: rfc3339(r.get(12)),
            completed_at: r.get::<Option<i64>, _>(13).map(rfc3339),
            // Links only matter while the session can still be used.
            hosted_url: if pending {
                self.sealer
                    .open_opt(r.get::<Option<String>, _>(15).as_deref())
            } else {
                None
            },
            qr_payload: if pending {
                self.sealer
                    .open_opt(r.get::<Option<String>, _>(16).as_deref())
            } else {
                None
            },
            session_expires_at: session_expires.map(rfc3339),
            requested_by: self
                .sealer
                .open_opt(r.get::<Option<String>, _>(17).as_deref()),
            failure_reason: r.get(11),
            ial: level.map(|level| Assurance {
                level,
                revision: revision.unwrap_or_else(|| NIST_REVISION.into()),
            }),
            document_type: r.get(9),
            match_confidence: r.get::<Option<i64>, _>(10).map(bp_to_confidence),
        };
        VerRow {
            id: r.get(0),
            tenant_id: r.get(1),
            contact_id,
            deal_id,
            kind,
            state,
            provider_session_id: r.get(6),
            poll_attempts: r.get(19),
            valid_until: r.get(14),
            row: view,
        }
    }

    pub async fn verification(&self, tenant: &str, id: &str) -> Result<Option<VerRow>> {
        let row = sqlx::query(&format!(
            "SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        Ok(row.map(|r| self.read_row(&r)))
    }

    pub async fn verification_view(&self, tenant: &str, id: &str) -> Result<Verification> {
        self.verification(tenant, id)
            .await?
            .map(|v| v.row)
            .ok_or_else(|| {
                AppError::NotFound(format!("verification {id} is not known to this account"))
            })
    }

    async fn sessions_of(&self, tenant: &str, contact: i64, limit: i64) -> Result<Vec<VerRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND contact_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(tenant)
        .bind(contact)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.iter().map(|r| self.read_row(r)).collect())
    }

    /// The contact's status; a contact seen for the first time is looked up in Freshsales.
    pub async fn contact_status(&self, tenant: &TenantRow, contact: i64) -> Result<ContactStatus> {
        let status = match self.store.contact_status(&tenant.id, contact).await? {
            Some(s) => s,
            None => {
                let Some(crm) = self.crm(tenant) else {
                    return Err(AppError::NotFound(format!(
                        "contact {contact} is not known to this account"
                    )));
                };
                match crm.contact(contact as u64).await {
                    Ok(_) => {}
                    Err(CrmError::NotFound(_)) => {
                        return Err(AppError::NotFound(format!(
                            "contact {contact} does not exist in the CRM"
                        )))
                    }
                    Err(e) => return Err(crm_unavailable(e)),
                }
                self.store
                    .upsert_contact(&tenant.id, contact, false)
                    .await?;
                self.store
                    .contact_status(&tenant.id, contact)
                    .await?
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("contact row vanished")))?
            }
        };
        let mut status = status;
        let sessions = self.sessions_of(&tenant.id, contact, 20).await?;
        status.current = sessions
            .iter()
            .find(|s| s.kind == Kind::Idv && s.state == SessionState::Pending)
            .map(|s| s.row.clone());
        status.history = sessions.into_iter().map(|s| s.row).collect();
        Ok(status)
    }

    /// Starts document + selfie proofing for a contact (idempotent: a pending or valid session
    /// is returned instead, unless `force`). Returns the session and whether it is new.
    pub async fn start_idv(
        &self,
        tenant: &TenantRow,
        contact: i64,
        req: &StartVerification,
        idempotency_key: Option<&str>,
    ) -> Result<(Verification, bool)> {
        let ial = req
            .ial
            .clone()
            .unwrap_or_else(|| tenant.policy.default_ial.clone());
        if !matches!(ial.as_str(), "IAL1" | "IAL2") {
            return Err(AppError::Unprocessable("ial must be IAL1 or IAL2".into()));
        }
        const DOCS: [&str; 3] = ["drivers_license", "passport", "national_id"];
        if let Some(bad) = req
            .document_types
            .iter()
            .find(|d| !DOCS.contains(&d.as_str()))
        {
            return Err(AppError::Unprocessable(format!(
                "unknown document type {:?}; use drivers_license, passport or national_id",
                bad.chars().take(40).collect::<String>()
            )));
        }
        if let Some(by) = &req.requested_by {
            if by.len() > 254 {
                return Err(AppError::Unprocessable("requested_by is too long".into()));
            }
        }
        if let Some(key) = idempotency_key {
            if let Some(v) = self.by_idempotency_key(&tenant.id, key).await? {
                return Ok((v, false));
            }
        }
        if !req.force {
            let sessions = self.sessions_of(&tenant.id, contact, 10).await?;
            let now = clock::now_ms();
            if let Some(existing) = sessions
                .iter()
                .filter(|s| s.kind == Kind::Idv && s.state != SessionState::Canceled)
                .find(|s| {
                    s.state == SessionState::Pending
                        || (s.state == SessionState::Verified
                            && s.valid_until.is_none_or(|v| v > now))
                })
            {
                return Ok((existing.row.clone(), false));
            }
        }
        let provider = self.provider(tenant)?;
        let crm = self.crm_or_err(tenant)?;
        let person = match crm.contact(contact as u64).await {
            Ok(c) => c,
            Err(CrmError::NotFound(_)) => {
                return Err(AppError::NotFound(format!(
                    "contact {contact} does not exist in the CRM"
                )))
            }
            Err(e) => return Err(crm_unavailable(e)),
        };
        self.store.upsert_contact_keep(&tenant.id, contact).await?;

        // Reserve the row (and the idempotency key) before calling the provider, so concurrent
        // starts for one contact make one session.
        let id = uid("ver");
        let now = clock::now_ms();
        let mut tx = self.store.begin().await?;
        if let Some(key) = idempotency_key {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (tenant_id, key, verification_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, key) DO NOTHING",
            )
            .bind(&tenant.id)
            .bind(key)
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                drop(tx);
                return self
                    .wait_for_idempotent(&tenant.id, key)
                    .await
                    .map(|v| (v, false));
            }
        }
        if req.force {
            // A forced restart supersedes the pending session.
            sqlx::query("UPDATE verifications SET state = 'canceled', updated_at = $3, completed_at = $3 WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'idv' AND state = 'pending'")
                .bind(&tenant.id)
                .bind(contact)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, ial_level, created_at, updated_at, requested_by_sealed) \
             VALUES ($1, $2, $3, 'idv', 'pending', NULL, $4, $4, $5)",
        )
        .bind(&id)
        .bind(&tenant.id)
        .bind(contact)
        .bind(now)
        .bind(req.requested_by.as_deref().map(|r| self.sealer.seal(r)))
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            if is_unique_violation(&e) {
                drop(tx);
                // Someone else started one a moment ago: return theirs.
                let sessions = self.sessions_of(&tenant.id, contact, 5).await?;
                if let Some(p) = sessions
                    .into_iter()
                    .find(|s| s.kind == Kind::Idv && s.state == SessionState::Pending)
                {
                    return Ok((p.row, false));
                }
                return Err(AppError::Conflict(
                    "a verification for this contact was started at the same time; retry".into(),
                ));
            }
            return Err(e.into());
        }
        tx.commit().await?;

        let phone = person.phone.clone();
        let created = provider
            .create_idv(&CreateIdv {
                reference: id.clone(),
                first_name: person.first_name.clone(),
                last_name: person.last_name.clone(),
                email: person.email.clone(),
                phone,
                ial: ial.clone(),
                document_types: if req.document_types.is_empty() {
                    DOCS.iter().map(|d| d.to_string()).collect()
                } else {
                    req.document_types.clone()
                },
                callback_url: Some(format!(
                    "{}/hooks/kosmos/{}",
                    self.settings.public_base_url, tenant.id
                )),
                send_email: req.send_email,
            })
            .await;
        let session = match created {
            Ok(s) => s,
            Err(e) => {
                let mut conn = self.store.pool().acquire().await?;
                sqlx::query("UPDATE verifications SET state = 'failed', failure_reason = $2, completed_at = $3, updated_at = $3 WHERE id = $1 AND state = 'pending'")
                    .bind(&id)
                    .bind(format!("could not start: {e}"))
                    .bind(clock::now_ms())
                    .execute(&mut *conn)
                    .await?;
                self.audit(&mut conn, &tenant.id, "start_failed", &id, &e.to_string())
                    .await?;
                return Err(provider_unavailable(e));
            }
        };
        let expires = parse_ts(&session.expires_at);
        let mut tx = self.store.begin().await?;
        sqlx::query(
            "UPDATE verifications SET provider_session_id = $2, hosted_url_sealed = $3, session_expires_at = $4, \
             next_poll_at = $5, ial_level = NULL, updated_at = $6 WHERE id = $1",
        )
        .bind(&id)
        .bind(&session.session_id)
        .bind(session.url.as_deref().map(|u| self.sealer.seal(u)))
        .bind(expires)
        .bind(clock::now_ms() + self.idv_poll_delay(0).as_millis() as i64)
        .bind(clock::now_ms())
        .execute(&mut *tx)
        .await?;
        let who = req
            .requested_by
            .clone()
            .unwrap_or_else(|| "automation".into());
        self.audit(
            &mut tx,
            &tenant.id,
            "start_idv",
            &id,
            &format!("contact {contact} {ial}"),
        )
        .await?;
        self.queue_contact_writes(&mut tx, tenant, contact).await?;
        sync::enqueue(
            &mut tx,
            self,
            &tenant.id,
            &format!("note:{id}:started"),
            &Write::Note {
                target: "contact".into(),
                id: contact as u64,
                text: format!("Identity verification ({ial}) started by {who}. Session {id}."),
            },
        )
        .await?;
        tx.commit().await?;
        self.wake_sync.notify_one();
        let v = self.verification_view(&tenant.id, &id).await?;
        Ok((v, true))
    }

    async fn by_idempotency_key(&self, tenant: &str, key: &str) -> Result<Option<Verification>> {
        let row = sqlx::query(
            "SELECT verification_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
        )
        .bind(tenant)
        .bind(key)
        .fetch_optional(self.store.pool())
        .await?;
        match row {
            Some(r) => Ok(self
                .verification(tenant, &r.get::<String, _>(0))
                .await?
                .map(|v| v.row)),
            None => Ok(None),
        }
    }

    async fn wait_for_idempotent(&self, tenant: &str, key: &str) -> Result<Verification> {
        for _ in 0..50 {
            if let Some(v) = self.by_idempotency_key(tenant, key).await? {
                return Ok(v);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(AppError::Conflict(
            "a request with this Idempotency-Key is still being processed; retry".into(),
        ))
    }

    fn idv_poll_delay(&self, attempt: i64) -> Duration {
        let s = &self.settings.idv_poll;
        s.get(attempt as usize)
            .or(s.last())
            .copied()
            .unwrap_or(Duration::from_secs(60))
    }

    /// Starts a LiveID step-up for a deal's primary contact.
    pub async fn start_stepup(
        &self,
        tenant: &TenantRow,
        deal: i64,
        requested_by: Option<&str>,
    ) -> Result<(Verification, bool)> {
        let info = self.deal_info(tenant, deal, true).await?;
        let contact = info.primary_contact.ok_or_else(|| {
            AppError::Unprocessable(
                "this deal has no contact; add one before asking for a step-up".into(),
            )
        })?;
        self.store.upsert_contact_keep(&tenant.id, contact).await?;
        let did = self.credential_did(&tenant.id, contact).await?.ok_or_else(|| AppError::NotEnrolled(format!(
            "contact {contact} is not enrolled in 1Kosmos LiveID yet: run Verify Identity on the contact first"
        )))?;
        // A pending, unexpired step-up for this deal is returned as is.
        let now = clock::now_ms();
        if let Some(r) = sqlx::query(&format!("SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND deal_id = $2 AND kind = 'stepup' AND state = 'pending'"))
            .bind(&tenant.id)
            .bind(deal)
            .fetch_optional(self.store.pool())
            .await?
        {
            let existing = self.read_row(&r);
            let live = sqlx::query("SELECT session_expires_at FROM verifications WHERE id = $1")
                .bind(&existing.id)
                .fetch_one(self.store.pool())
                .await?
                .get::<Option<i64>, _>(0)
                .is_none_or(|e| e > now);
            if live {
                return Ok((existing.row, false));
            }
            sqlx::query("UPDATE verifications SET state = 'expired', completed_at = $2, updated_at = $2 WHERE id = $1 AND state = 'pending'")
                .bind(&existing.id)
                .bind(now)
                .execute(self.store.pool())
                .await?;
        }
        let provider = self.provider(tenant)?;
        let id = uid("ver");
        let inserted = sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, deal_id, kind, state, created_at, updated_at, requested_by_sealed) \
             VALUES ($1, $2, $3, $4, 'stepup', 'pending', $5, $5, $6)",
        )
        .bind(&id)
        .bind(&tenant.id)
        .bind(contact)
        .bind(deal)
        .bind(now)
        .bind(requested_by.map(|r| self.sealer.seal(r)))
        .execute(self.store.pool())
        .await;
        if let Err(e) = inserted {
            if is_unique_violation(&e) {
                return Err(AppError::Conflict(
                    "a step-up for this deal was started at the same time; refresh".into(),
                ));
            }
            return Err(e.into());
        }
        let created = provider
            .create_liveid(&CreateLiveId {
                reference: id.clone(),
                did: did.expose_secret().to_string(),
                callback_url: Some(format!(
                    "{}/hooks/kosmos/{}",
                    self.settings.public_base_url, tenant.id
                )),
                ttl_seconds: self.settings.stepup_ttl_secs,
            })
            .await;
        let mut conn = self.store.pool().acquire().await?;
        let session = match created {
            Ok(s) => s,
            Err(e) => {
                sqlx::query("UPDATE verifications SET state = 'failed', failure_reason = $2, completed_at = $3, updated_at = $3 WHERE id = $1")
                    .bind(&id)
                    .bind(format!("could not start: {e}"))
                    .bind(clock::now_ms())
                    .execute(&mut *conn)
                    .await?;
                return Err(provider_unavailable(e));
            }
        };
        sqlx::query(
            "UPDATE verifications SET provider_session_id = $2, qr_payload_sealed = $3, session_expires_at = $4, next_poll_at = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(&id)
        .bind(&session.session_id)
        .bind(session.qr_payload.as_deref().map(|u| self.sealer.seal(u)))
        .bind(parse_ts(&session.expires_at))
        .bind(clock::now_ms() + self.settings.stepup_poll.as_millis() as i64)
        .bind(clock::now_ms())
        .execute(&mut *conn)
        .await?;
        self.audit(
            &mut conn,
            &tenant.id,
            "start_stepup",
            &id,
            &format!("deal {deal} contact {contact}"),
        )
        .await?;
        drop(conn);
        self.wake_poll.notify_one();
        Ok((self.verification_view(&tenant.id, &id).await?, true))
    }

    async fn credential_did(&self, tenant: &str, contact: i64) -> Result<Option<SecretString>> {
        let row = sqlx::query("SELECT credential_did_sealed, liveid_enrolled FROM contacts WHERE tenant_id = $1 AND contact_id = $2")
            .bind(tenant)
            .bind(contact)
            .fetch_optional(self.store.pool())
            .await?;
        Ok(row.and_then(|r| {
            if r.get::<i64, _>(1) == 0 {
                return None;
            }
            self.sealer
                .open_opt(r.get::<Option<String>, _>(0).as_deref())
                .map(SecretString::from)
        }))
    }

    /// Cancels a pending session.
    pub async fn cancel(&self, tenant: &TenantRow, id: &str) -> Result<Verification> {
        let v = self.verification(&tenant.id, id).await?.ok_or_else(|| {
            AppError::NotFound(format!("verification {id} is not known to this account"))
        })?;
        let mut tx = self.store.begin().await?;
        let now = clock::now_ms();
        let done = sqlx::query("UPDATE verifications SET state = 'canceled', completed_at = $2, updated_at = $2 WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::Conflict(format!(
                "verification {id} is already {} and cannot be canceled",
                v.state.as_str()
            )));
        }
        self.audit(&mut tx, &tenant.id, "cancel", id, "").await?;
        if v.kind == Kind::Idv {
            self.queue_contact_writes(&mut tx, tenant, v.contact_id)
                .await?;
            self.queue_history(&mut tx, &tenant.id, id).await?;
        }
        tx.commit().await?;
        self.wake_sync.notify_one();
        self.verification_view(&tenant.id, id).await
    }

    /// Applies what the provider says about a session. Terminal states never change back; a
    /// late or duplicate report is recorded in the audit log and changes nothing.
    pub async fn apply_report(
        &self,
        tenant: &TenantRow,
        v: &VerRow,
        report: &SessionReport,
    ) -> Result<bool> {
        let now = clock::now_ms();
        let mut tx = self.store.begin().await?;
        let (state, fields, reason): (&str, Option<&ResultFields>, Option<&str>) = match &report
            .outcome
        {
            Outcome::Pending => {
                let delay = if v.kind == Kind::Stepup {
                    self.settings.stepup_poll
                } else {
                    self.idv_poll_delay(v.poll_attempts + 1)
                };
                sqlx::query("UPDATE verifications SET poll_attempts = poll_attempts + 1, next_poll_at = $2 WHERE id = $1 AND state = 'pending'")
                    .bind(&v.id)
                    .bind(now + delay.as_millis() as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(false);
            }
            Outcome::Verified(f) => ("verified", Some(f), None),
            Outcome::Failed { reason } => ("failed", None, Some(reason.as_str())),
            Outcome::Expired => ("expired", None, None),
        };
        let valid_until = (state == "verified" && v.kind == Kind::Idv)
            .then(|| now + tenant.policy.validity_days * DAY_MS);
        let done = sqlx::query(
            "UPDATE verifications SET state = $2, ial_level = $3, ial_revision = $4, document_type = $5, match_confidence_bp = $6, \
             failure_reason = $7, completed_at = $8, updated_at = $8, valid_until = $9, next_poll_at = NULL \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(&v.id)
        .bind(state)
        .bind(fields.and_then(|f| f.ial.clone()))
        .bind(fields.and_then(|f| f.ial.as_ref()).map(|_| NIST_REVISION))
        .bind(fields.and_then(|f| f.document_type.clone()))
        .bind(fields.and_then(|f| f.match_confidence).map(confidence_to_bp))
        .bind(reason)
        .bind(now)
        .bind(valid_until)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            self.audit(&mut tx, &tenant.id, "late_report_ignored", &v.id, state)
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        self.audit(&mut tx, &tenant.id, "result", &v.id, state)
            .await?;
        if let (Some(f), Kind::Idv) = (fields, v.kind) {
            if let Some(did) = &f.credential_did {
                sqlx::query("UPDATE contacts SET liveid_enrolled = 1, credential_did_sealed = $3 WHERE tenant_id = $1 AND contact_id = $2")
                    .bind(&tenant.id)
                    .bind(v.contact_id)
                    .bind(self.sealer.seal(did))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.queue_contact_writes(&mut tx, tenant, v.contact_id)
            .await?;
        self.queue_history(&mut tx, &tenant.id, &v.id).await?;
        let what = match (v.kind, state) {
            (Kind::Idv, "verified") => "Identity verified".to_string(),
            (Kind::Idv, s) => format!("Identity verification {s}"),
            (Kind::Stepup, "verified") => "LiveID step-up passed".to_string(),
            (Kind::Stepup, s) => format!("LiveID step-up {s}"),
        };
        let detail = match (fields, reason) {
            (Some(f), _) => format!(
                " ({}, {}, match {:.0} %)",
                f.ial.as_deref().unwrap_or("IAL?"),
                f.document_type.as_deref().unwrap_or("LiveID"),
                f.match_confidence.unwrap_or(0.0) * 100.0
            ),
            (None, Some(r)) => format!(": {r}"),
            _ => String::new(),
        };
        let (target, target_id) = match (v.kind, v.deal_id) {
            (Kind::Stepup, Some(d)) => ("deal", d),
            _ => ("contact", v.contact_id),
        };
        sync::enqueue(
            &mut tx,
            self,
            &tenant.id,
            &format!("note:{}:{state}", v.id),
            &Write::Note {
                target: target.into(),
                id: target_id as u64,
                text: format!("{what}{detail}. Session {}.", v.id),
            },
        )
        .await?;
        tx.commit().await?;
        self.metrics.results.inc();
        self.wake_sync.notify_one();
        Ok(true)
    }

    /// Recomputes a contact's fields and upserts their desired state.
    pub async fn queue_contact_writes(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: &TenantRow,
        contact: i64,
    ) -> Result<()> {
        let status = self
            .store
            .contact_status_on(conn, &tenant.id, contact)
            .await?;
        let Some(status) = status else { return Ok(()) };
        let did = sqlx::query(
            "SELECT credential_did_sealed FROM contacts WHERE tenant_id = $1 AND contact_id = $2",
        )
        .bind(&tenant.id)
        .bind(contact)
        .fetch_optional(&mut *conn)
        .await?
        .and_then(|r| {
            self.sealer
                .open_opt(r.get::<Option<String>, _>(0).as_deref())
        });
        let fields = crate::domain::fields::contact_fields(&status, did);
        sync::enqueue(
            conn,
            self,
            &tenant.id,
            &format!("contact:{contact}"),
            &Write::ContactFields {
                contact_id: contact as u64,
                fields,
            },
        )
        .await
    }

    async fn queue_history(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: &str,
        id: &str,
    ) -> Result<()> {
        let row = sqlx::query(&format!("SELECT {VCOLS} FROM verifications WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        let v = self.read_row(&row).row;
        let record = json!({
            "name": format!("{} {}", if v.kind == Kind::Idv { "IDV" } else { "Step-up" }, v.id),
            "custom_field": {
                "cf_session_id": v.id,
                "cf_kind": v.kind.as_str(),
                "cf_state": v.state.as_str(),
                "cf_contact_id": v.contact_id,
                "cf_deal_id": v.deal_id,
                "cf_ial": v.ial.as_ref().map(|a| format!("{} ({})", a.level, a.revision)),
                "cf_document_type": v.document_type,
                "cf_match_confidence": v.match_confidence,
                "cf_started_at": v.created_at,
                "cf_completed_at": v.completed_at,
                "cf_failure_reason": v.failure_reason,
            }
        });
        sync::enqueue(
            conn,
            self,
            tenant,
            &format!("history:{id}"),
            &Write::History {
                verification_id: id.into(),
                record,
            },
        )
        .await
    }

    /// Reads due pending sessions from the provider and applies the answers.
    pub async fn poll_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let lock = if self.store.backend() == crate::store::Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // Claim with a lease so replicas do not read the same session at once.
        let rows = sqlx::query(&format!(
            "UPDATE verifications SET next_poll_at = $1 WHERE id IN (\
               SELECT id FROM verifications WHERE state = 'pending' AND provider_session_id IS NOT NULL \
               AND next_poll_at <= $2 ORDER BY next_poll_at LIMIT 32{lock}) RETURNING {VCOLS}"
        ))
        .bind(now + 30_000)
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        let claimed: Vec<VerRow> = rows.iter().map(|r| self.read_row(r)).collect();
        let n = claimed.len();
        for v in claimed {
            if let Err(e) = self.poll_one(&v).await {
                tracing::warn!(verification = %v.id, error = %e, "poll failed");
            }
        }
        Ok(n)
    }

    async fn poll_one(&self, v: &VerRow) -> Result<()> {
        let Some(tenant) = self.tenant(&v.tenant_id).await? else {
            return Ok(());
        };
        let provider = self.provider(&tenant)?;
        let session = v.provider_session_id.as_deref().unwrap_or_default();
        self.metrics.provider_reads.inc();
        let report = match v.kind {
            Kind::Idv => provider.get_idv(session).await,
            Kind::Stepup => provider.get_liveid(session).await,
        };
        match report {
            Ok(r) => {
                self.apply_report(&tenant, v, &r).await?;
            }
            Err(ProviderError::NotFound(_)) => {
                // The provider no longer knows the session: it cannot finish any more.
                let gone = SessionReport {
                    session_id: session.to_string(),
                    outcome: Outcome::Failed {
                        reason: "the identity provider no longer knows this session".into(),
                    },
                };
                self.apply_report(&tenant, v, &gone).await?;
            }
            Err(e) => {
                let delay = match &e {
                    ProviderError::RateLimited(s) => Duration::from_secs(*s),
                    _ if v.kind == Kind::Stepup => self.settings.stepup_poll,
                    _ => self.idv_poll_delay(v.poll_attempts + 1),
                };
                sqlx::query("UPDATE verifications SET poll_attempts = poll_attempts + 1, next_poll_at = $2 WHERE id = $1 AND state = 'pending'")
                    .bind(&v.id)
                    .bind(clock::now_ms() + delay.as_millis() as i64)
                    .execute(self.store.pool())
                    .await?;
                tracing::info!(verification = %v.id, error = %e, "provider read failed; will retry");
            }
        }
        Ok(())
    }

    /// A callback's hint: read this session now.
    pub async fn hint(&self, tenant: &str, provider_session: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE verifications SET next_poll_at = $3 WHERE tenant_id = $1 AND provider_session_id = $2 AND state = 'pending'")
            .bind(tenant)
            .bind(provider_session)
            .bind(clock::now_ms())
            .execute(self.store.pool())
            .await?;
        if done.rows_affected() > 0 {
            self.wake_poll.notify_one();
        }
        Ok(done.rows_affected() > 0)
    }

    /// Moves verified sessions past their validity to `expired` and queues the writes.
    pub async fn expire_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let rows = sqlx::query(
            "UPDATE verifications SET state = 'expired', updated_at = $1 WHERE state = 'verified' AND valid_until IS NOT NULL AND valid_until <= $1 \
             RETURNING id, tenant_id, contact_id",
        )
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        for r in &rows {
            let (id, tenant_id, contact): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
            let Some(tenant) = self.tenant(&tenant_id).await? else {
                continue;
            };
            let mut tx = self.store.begin().await?;
            self.audit(&mut tx, &tenant_id, "expired", &id, "validity ran out")
                .await?;
            self.queue_contact_writes(&mut tx, &tenant, contact).await?;
            self.queue_history(&mut tx, &tenant_id, &id).await?;
            tx.commit().await?;
        }
        if !rows.is_empty() {
            self.wake_sync.notify_one();
        }
        Ok(rows.len())
    }

    /// A deal's stage and primary contact, cached for 30 s (the widget polls deal pages).
    pub async fn deal_info(&self, tenant: &TenantRow, deal: i64, fresh: bool) -> Result<DealInfo> {
        let now = clock::now_ms();
        if !fresh {
            if let Some(r) = sqlx::query("SELECT stage_id, primary_contact, fetched_at FROM deals WHERE tenant_id = $1 AND deal_id = $2")
                .bind(&tenant.id)
                .bind(deal)
                .fetch_optional(self.store.pool())
                .await?
            {
                if now - r.get::<i64, _>(2) < 30_000 {
                    return Ok(DealInfo { stage_id: r.get(0), primary_contact: r.get(1) });
                }
            }
        }
        let crm = self.crm_or_err(tenant)?;
        let d = match crm.deal(deal as u64).await {
            Ok(d) => d,
            Err(CrmError::NotFound(_)) => {
                return Err(AppError::NotFound(format!(
                    "deal {deal} does not exist in the CRM"
                )))
            }
            Err(e) => return Err(crm_unavailable(e)),
        };
        let info = DealInfo {
            stage_id: d.stage_id.map(|s| s as i64),
            primary_contact: d.primary_contact.map(|c| c as i64),
        };
        sqlx::query(
            "INSERT INTO deals (tenant_id, deal_id, stage_id, primary_contact, fetched_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, deal_id) DO UPDATE SET stage_id = excluded.stage_id, primary_contact = excluded.primary_contact, fetched_at = excluded.fetched_at",
        )
        .bind(&tenant.id)
        .bind(deal)
        .bind(info.stage_id)
        .bind(info.primary_contact)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(info)
    }

    /// The tenant's stages, with the gated ones resolved from names or ids.
    pub async fn stages(&self, tenant: &TenantRow) -> Result<(Vec<Stage>, Vec<Stage>)> {
        let cached = self
            .stages
            .lock()
            .get(&tenant.id)
            .filter(|(at, _)| at.elapsed() < STAGES_TTL)
            .map(|(_, s)| s.clone());
        let all = match cached {
            Some(all) => all,
            None => {
                let crm = self.crm_or_err(tenant)?;
                let all: Vec<Stage> = crm
                    .stages()
                    .await
                    .map_err(crm_unavailable)?
                    .into_iter()
                    .map(|s| Stage {
                        id: s.id,
                        name: s.name,
                    })
                    .collect();
                self.stages
                    .lock()
                    .insert(tenant.id.clone(), (std::time::Instant::now(), all.clone()));
                all
            }
        };
        let gated = crate::domain::gate::gated_stages(&all, &tenant.policy.gated_stages);
        Ok((all, gated))
    }

    pub async fn deal_status(&self, tenant: &TenantRow, deal: i64) -> Result<DealStatus> {
        let info = self.deal_info(tenant, deal, false).await?;
        let (all, gated) = self.stages(tenant).await?;
        let stage = info
            .stage_id
            .and_then(|id| all.iter().find(|s| s.id as i64 == id).cloned());
        // The step-up first: a step-up shown as passed is then always in the contact's status.
        let stepup = sqlx::query(&format!("SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND deal_id = $2 AND kind = 'stepup' ORDER BY created_at DESC LIMIT 1"))
            .bind(&tenant.id)
            .bind(deal)
            .fetch_optional(self.store.pool())
            .await?
            .map(|r| self.read_row(&r).row);
        let primary = match info.primary_contact {
            Some(c) => Some(self.contact_status(tenant, c).await?),
            None => None,
        };
        let is_gated = stage.as_ref().is_some_and(|s| gated.contains(s));
        let gate_satisfied =
            crate::domain::gate::gate_satisfied(is_gated, primary.as_ref().map(|p| p.status));
        Ok(DealStatus {
            deal_id: deal as u64,
            stage,
            gated_stages: gated,
            gated: is_gated,
            gate_satisfied,
            primary_contact: primary,
            stepup,
        })
    }

    /// Runs the poller, expiry job and CRM sync worker until `cancel` fires.
    pub fn spawn_workers(
        self: &Arc<Self>,
        cancel: CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let poller = {
            let e = self.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move {
                loop {
                    let busy = match e.poll_once().await {
                        Ok(n) => n > 0,
                        Err(err) => {
                            tracing::warn!(error = %err, "poller");
                            false
                        }
                    };
                    if let Err(err) = e.expire_once().await {
                        tracing::warn!(error = %err, "expiry job");
                    }
                    if busy {
                        continue;
                    }
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = e.wake_poll.notified() => {},
                        () = tokio::time::sleep(e.settings.tick) => {},
                    }
                }
            })
        };
        let syncer = {
            let e = self.clone();
            tokio::spawn(async move {
                loop {
                    let busy = match e.sync_once().await {
                        Ok(n) => n > 0,
                        Err(err) => {
                            tracing::warn!(error = %err, "sync worker");
                            false
                        }
                    };
                    if busy {
                        continue;
                    }
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = e.wake_sync.notified() => {},
                        () = tokio::time::sleep(e.settings.tick) => {},
                    }
                }
            })
        };
        vec![poller, syncer]
    }
}

/// A deal's stage and primary contact.
#[derive(Debug, Clone, Copy)]
pub struct DealInfo {
    pub stage_id: Option<i64>,
    pub primary_contact: Option<i64>,
}

fn parse_ts(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn crm_unavailable(e: CrmError) -> AppError {
    match e {
        CrmError::Unauthorized(_) | CrmError::Unprocessable(_) => {
            AppError::Unprocessable(e.to_string())
        }
        other => AppError::Upstream(other.to_string()),
    }
}

fn provider_unavailable(e: ProviderError) -> AppError {
    match e {
        ProviderError::Unauthorized | ProviderError::Rejected(_) => {
            AppError::Unprocessable(e.to_string())
        }
        other => AppError::Upstream(other.to_string()),
    }
}
