//! Step-Up Auth: a LiveID session for a deal's primary contact.

use idv_types::Verification;
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use super::tenant::TenantRow;
use crate::{
    clock::{self},
    error::{AppError, Result},
    ports::identity::CreateLiveId,
};

use super::{is_unique_violation, parse_ts, provider_unavailable, uid, Engine, VCOLS};

impl Engine {
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
}
