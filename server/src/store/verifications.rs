//! Verifications: one provider session each (IDV or LiveID step-up). A contact's status is
//! derived from these rows.

use super::{confidence_to_bp, is_unique_violation, Conn, Store};
use crate::{
    clock,
    domain::{reasons::Failure, status::NIST_REVISION},
    error::Result,
};

/// The columns of a [`VerificationRow`].
const VCOLS: &str = "id, tenant_id, contact_id, deal_id, kind, state, provider_session_id, ial_level, ial_revision, \
    document_type, match_confidence_bp, failure_reason, created_at, completed_at, valid_until, hosted_url_sealed, \
    qr_payload_sealed, requested_by_sealed, session_expires_at, poll_attempts, delivery, delivery_error, ticket_id, \
    chat_conversation_id, requested_ial, identity_match, failure_code";

/// A verification row as stored (links and requester sealed, confidence in basis points).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRow {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: i64,
    pub deal_id: Option<i64>,
    pub kind: String,
    pub state: String,
    pub provider_session_id: Option<String>,
    pub ial_level: Option<String>,
    pub ial_revision: Option<String>,
    pub document_type: Option<String>,
    pub match_confidence_bp: Option<i64>,
    pub failure_reason: Option<String>,
    /// The reason table's code of a failure (`document_expired`), where one is known.
    pub failure_code: Option<String>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub valid_until: Option<i64>,
    pub hosted_url_sealed: Option<String>,
    pub qr_payload_sealed: Option<String>,
    pub requested_by_sealed: Option<String>,
    pub session_expires_at: Option<i64>,
    pub poll_attempts: i64,
    /// `show`, `email` or `sms` (IDV only).
    pub delivery: Option<String>,
    pub delivery_error: Option<String>,
    /// The help-desk ticket it was started from.
    pub ticket_id: Option<i64>,
    /// The chat conversation a bot started it for (`None`: not started in a chat).
    pub chat_conversation_id: Option<String>,
    /// IDV: the assurance level asked for.
    pub requested_ial: Option<String>,
    /// IDV: `match`, `partial` or `mismatch` (the document's holder against the CRM contact).
    pub identity_match: Option<String>,
}

/// A verification row to insert.
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: i64,
    pub kind: &'static str,
    pub state: &'static str,
    pub ial_level: Option<String>,
    pub document_type: Option<String>,
    pub match_confidence: Option<f64>,
    pub completed_at: Option<i64>,
    pub valid_until: Option<i64>,
    /// A failed session's reason (the table's entry) and the provider's detail.
    pub failure: Option<(Failure, Option<&'static str>)>,
}

/// An IDV session reserved before the provider is asked for it.
#[derive(Debug, Clone)]
pub struct PendingIdv<'a> {
    pub id: &'a str,
    pub tenant: &'a str,
    pub contact: i64,
    pub now: i64,
    pub requested_by_sealed: Option<String>,
    /// `show`, `email` or `sms`.
    pub delivery: &'a str,
    /// The help-desk ticket it is started from.
    pub ticket: Option<i64>,
    /// The chat conversation a bot starts it for.
    pub conversation: Option<&'a str>,
    /// The assurance level asked for.
    pub requested_ial: &'a str,
    /// The CRM's names for the contact, sealed (kept only while the session is pending).
    pub expected_holder_sealed: Option<String>,
}

/// A session the provider created, recorded on its pending row.
#[derive(Debug, Clone)]
pub struct SessionStarted<'a> {
    pub id: &'a str,
    pub provider_session_id: &'a str,
    /// The sealed hosted URL (IDV) or QR payload (step-up).
    pub link_sealed: Option<String>,
    /// Why the provider could not deliver the link as asked.
    pub delivery_error: Option<&'a str>,
    pub session_expires_at: Option<i64>,
    pub next_poll_at: i64,
    pub now: i64,
}

/// A pending session's terminal state.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    pub id: &'a str,
    pub state: &'a str,
    pub ial_level: Option<String>,
    pub document_type: Option<String>,
    pub match_confidence: Option<f64>,
    pub failure_reason: Option<&'a str>,
    pub failure_code: Option<&'a str>,
    pub now: i64,
    pub valid_until: Option<i64>,
    /// IDV: `match`, `partial` or `mismatch`, when the provider's answer told.
    pub identity_match: Option<&'a str>,
}

/// A verified session the expiry job moves to lapsed (stored as `expired` with its validity).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Expired {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: i64,
    pub valid_until: Option<i64>,
}

impl Store {
    /// Records a session as if it had run (the demo's history, the tests' scenes). A finished
    /// one was started when it finished, not when it was recorded: its history line and its
    /// facts give the same day.
    pub async fn insert_verification(&self, v: &NewVerification) -> Result<()> {
        let recorded = clock::now_ms();
        let now = v.completed_at.map_or(recorded, |at| at.min(recorded));
        sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, ial_level, ial_revision, \
             document_type, match_confidence_bp, created_at, updated_at, completed_at, valid_until, \
             failure_reason, failure_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14)",
        )
        .bind(&v.id)
        .bind(&v.tenant_id)
        .bind(v.contact_id)
        .bind(v.kind)
        .bind(v.state)
        .bind(v.ial_level.as_deref())
        .bind(v.ial_level.as_ref().map(|_| NIST_REVISION))
        .bind(v.document_type.as_deref())
        .bind(v.match_confidence.map(confidence_to_bp))
        .bind(now)
        .bind(v.completed_at)
        .bind(v.valid_until)
        .bind(v.failure.map(|(why, detail)| why.sentence(detail)))
        .bind(v.failure.map(|(why, _)| why.code()))
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Pending sessions by kind, for the gauges (an index range over the pending rows only).
    pub async fn pending_session_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT kind, COUNT(*) FROM verifications WHERE state = 'pending' GROUP BY kind",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn verification(&self, tenant: &str, id: &str) -> Result<Option<VerificationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A contact's latest sessions, newest first.
    pub async fn sessions_of(
        &self,
        tenant: &str,
        contact: i64,
        limit: i64,
    ) -> Result<Vec<VerificationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND contact_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(tenant)
        .bind(contact)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A contact's IDV sessions a new start may return instead (pending or verified), newest
    /// first: with `conversation`, only those a bot started for that conversation; without,
    /// the pending ones not started in a chat and every verified one.
    pub async fn reusable_idv(
        &self,
        tenant: &str,
        contact: i64,
        conversation: Option<&str>,
    ) -> Result<Vec<VerificationRow>> {
        let scope = match conversation {
            Some(_) => "chat_conversation_id = $3",
            None => "(chat_conversation_id IS NULL OR state = 'verified')",
        };
        let sql = format!(
            "SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'idv' \
             AND state IN ('pending', 'verified') AND {scope} ORDER BY created_at DESC, id DESC LIMIT 10"
        );
        let query = sqlx::query_as(&sql).bind(tenant).bind(contact);
        let query = match conversation {
            Some(c) => query.bind(c),
            None => query,
        };
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// The deal's pending step-up, if any.
    pub async fn pending_stepup(&self, tenant: &str, deal: i64) -> Result<Option<VerificationRow>> {
        Ok(sqlx::query_as(&format!("SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND deal_id = $2 AND kind = 'stepup' AND state = 'pending'"))
            .bind(tenant)
            .bind(deal)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The pending step-up asked for on the contact's own page (no deal), if any.
    pub async fn pending_contact_stepup(
        &self,
        tenant: &str,
        contact: i64,
    ) -> Result<Option<VerificationRow>> {
        Ok(sqlx::query_as(&format!("SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND contact_id = $2 AND deal_id IS NULL AND kind = 'stepup' AND state = 'pending'"))
            .bind(tenant)
            .bind(contact)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The deal's latest step-up, if any.
    pub async fn latest_stepup(&self, tenant: &str, deal: i64) -> Result<Option<VerificationRow>> {
        Ok(sqlx::query_as(&format!("SELECT {VCOLS} FROM verifications WHERE tenant_id = $1 AND deal_id = $2 AND kind = 'stepup' ORDER BY created_at DESC LIMIT 1"))
            .bind(tenant)
            .bind(deal)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// When a session's provider link expires (`None`: no known expiry).
    pub async fn session_expires_at(&self, id: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT session_expires_at FROM verifications WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Moves a pending session whose link ran out to `expired`.
    pub async fn expire_pending(&self, id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE verifications SET state = 'expired', completed_at = $2, updated_at = $2, expected_holder_sealed = NULL WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .bind(now)
            .execute(self.writer().await?.raw())
            .await?;
        Ok(())
    }

    /// Inserts a pending step-up for a deal, or for the contact alone (`deal` `None`); `false`
    /// if the deal (or the contact's page) has one already (one was started at the same time).
    pub async fn insert_pending_stepup(
        &self,
        id: &str,
        tenant: &str,
        contact: i64,
        deal: Option<i64>,
        now: i64,
        requested_by_sealed: Option<String>,
    ) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, deal_id, kind, state, created_at, updated_at, requested_by_sealed) \
             VALUES ($1, $2, $3, $4, 'stepup', 'pending', $5, $5, $6)",
        )
        .bind(id)
        .bind(tenant)
        .bind(contact)
        .bind(deal)
        .bind(now)
        .bind(requested_by_sealed)
        .execute(self.writer().await?.raw())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Claims up to 32 pending sessions due for a provider read, leased until `lease` so
    /// replicas do not read the same session at once.
    pub async fn claim_due_polls(&self, lease: i64, now: i64) -> Result<Vec<VerificationRow>> {
        Ok(sqlx::query_as(&super::periodic::claim_polls_sql(
            self.backend.claim_lock(),
            VCOLS,
        ))
        .bind(lease)
        .bind(now)
        .fetch_all(self.writer().await?.raw())
        .await?)
    }

    /// Counts a provider read of a pending session (on the pool, outside any transaction) and
    /// sets when to read it next.
    pub async fn record_poll(&self, id: &str, next_poll_at: i64) -> Result<()> {
        self.writer().await?.record_poll(id, next_poll_at).await
    }

    /// Makes the pending session a provider session id names due now; `false` if none is.
    pub async fn hint(&self, tenant: &str, provider_session: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE verifications SET next_poll_at = $3 WHERE tenant_id = $1 AND provider_session_id = $2 AND state = 'pending'")
            .bind(tenant)
            .bind(provider_session)
            .bind(now)
            .execute(self.writer().await?.raw())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Pending sessions created before `cutoff` that never got a provider session (a start cut
    /// short by a crash): their ids and tenants, at most `limit`.
    pub async fn unstarted_before(&self, cutoff: i64, limit: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(super::periodic::UNSTARTED_SQL)
            .bind(cutoff)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Pending sessions the provider should have ended long ago (at most `limit`): past their
    /// session's expiry before `expired_before`, or with no expiry known, created before
    /// `created_before`. With their tenant, for the local expiry sweep.
    pub async fn abandoned_pending(
        &self,
        expired_before: i64,
        created_before: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(super::periodic::ABANDONED_SQL)
            .bind(expired_before)
            .bind(created_before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Verified sessions past their validity (at most `limit`), for the expiry job.
    pub async fn due_for_expiry(&self, now: i64, limit: i64) -> Result<Vec<Expired>> {
        Ok(sqlx::query_as(super::periodic::EXPIRING_SQL)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

impl dyn Conn + '_ {
    /// Moves one verified session past its validity to `expired`, inside the caller's
    /// transaction; `false` if it is no longer due (another replica got there first).
    pub async fn expire_verified(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE verifications SET state = 'expired', updated_at = $2 \
             WHERE id = $1 AND state = 'verified' AND valid_until IS NOT NULL AND valid_until <= $2",
        )
        .bind(id)
        .bind(now)
        .execute(self.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a verified session before its validity ran out (the contact's identity changed):
    /// it reads as lapsed from now on. `false` if it is no longer verified.
    pub async fn end_verified(&mut self, id: &str, reason: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE verifications SET state = 'expired', valid_until = $2, failure_reason = $3, updated_at = $2 \
             WHERE id = $1 AND state = 'verified'",
        )
        .bind(id)
        .bind(now)
        .bind(reason)
        .execute(self.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn verification_by_id(&mut self, id: &str) -> Result<VerificationRow> {
        Ok(
            sqlx::query_as(&format!("SELECT {VCOLS} FROM verifications WHERE id = $1"))
                .bind(id)
                .fetch_one(self.raw())
                .await?,
        )
    }

    /// Cancels the contact's pending IDV session (a forced restart supersedes it); a chat's
    /// sessions are their conversations' and stay.
    pub async fn cancel_pending_idv(&mut self, tenant: &str, contact: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE verifications SET state = 'canceled', updated_at = $3, completed_at = $3, expected_holder_sealed = NULL WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'idv' AND state = 'pending' AND chat_conversation_id IS NULL")
            .bind(tenant)
            .bind(contact)
            .bind(now)
            .execute(self.raw())
            .await?;
        Ok(())
    }

    /// Inserts a pending IDV session; `false` if the contact has one already (in the same
    /// conversation, for a chat's: one was started at the same time). After `false` the
    /// transaction is unusable: drop it.
    pub async fn insert_pending_idv(&mut self, p: &PendingIdv<'_>) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, ial_level, created_at, updated_at, requested_by_sealed, delivery, ticket_id, \
             chat_conversation_id, requested_ial, expected_holder_sealed) \
             VALUES ($1, $2, $3, 'idv', 'pending', NULL, $4, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(p.id)
        .bind(p.tenant)
        .bind(p.contact)
        .bind(p.now)
        .bind(p.requested_by_sealed.as_deref())
        .bind(p.delivery)
        .bind(p.ticket)
        .bind(p.conversation)
        .bind(p.requested_ial)
        .bind(p.expected_holder_sealed.as_deref())
        .execute(self.raw())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Records the provider's IDV session on its pending row.
    pub async fn idv_started(&mut self, s: &SessionStarted<'_>) -> Result<()> {
        sqlx::query(
            "UPDATE verifications SET provider_session_id = $2, hosted_url_sealed = $3, session_expires_at = $4, \
             next_poll_at = $5, ial_level = NULL, updated_at = $6, delivery_error = $7 WHERE id = $1",
        )
        .bind(s.id)
        .bind(s.provider_session_id)
        .bind(s.link_sealed.as_deref())
        .bind(s.session_expires_at)
        .bind(s.next_poll_at)
        .bind(s.now)
        .bind(s.delivery_error)
        .execute(self.raw())
        .await?;
        Ok(())
    }

    /// Records how the last delivery of a pending session's link went (`None`: it went out).
    pub async fn set_delivery_error(
        &mut self,
        id: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE verifications SET delivery_error = $2, updated_at = $3 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(error)
        .bind(now)
        .execute(self.raw())
        .await?;
        Ok(())
    }

    /// Records who started a session: `automation` or `widget`.
    pub async fn set_origin(&mut self, id: &str, origin: &str) -> Result<()> {
        sqlx::query("UPDATE verifications SET origin = $2 WHERE id = $1")
            .bind(id)
            .bind(origin)
            .execute(self.raw())
            .await?;
        Ok(())
    }

    /// The CRM's names for a pending session's contact, sealed (`None` once it ended, or for
    /// sessions started before they were kept).
    pub async fn expected_holder_sealed(&mut self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT expected_holder_sealed FROM verifications WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .fetch_optional(self.raw())
        .await?
        .flatten())
    }

    /// Who started a session (`None`: started before this was kept).
    pub async fn origin(&mut self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT origin FROM verifications WHERE id = $1")
                .bind(id)
                .fetch_optional(self.raw())
                .await?
                .flatten(),
        )
    }

    /// Records the provider's LiveID session on its pending row.
    pub async fn stepup_started(&mut self, s: &SessionStarted<'_>) -> Result<()> {
        sqlx::query(
            "UPDATE verifications SET provider_session_id = $2, qr_payload_sealed = $3, session_expires_at = $4, next_poll_at = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(s.id)
        .bind(s.provider_session_id)
        .bind(s.link_sealed.as_deref())
        .bind(s.session_expires_at)
        .bind(s.next_poll_at)
        .bind(s.now)
        .execute(self.raw())
        .await?;
        Ok(())
    }

    /// Fails a session the provider would not start, if it is still pending.
    pub async fn fail_pending(&mut self, id: &str, reason: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE verifications SET state = 'failed', failure_reason = $2, completed_at = $3, updated_at = $3, expected_holder_sealed = NULL WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .bind(reason)
            .bind(now)
            .execute(self.raw())
            .await?;
        Ok(())
    }

    /// Fails a pending session that still has no provider session; `false` if it has one now
    /// or is no longer pending.
    pub async fn fail_unstarted(&mut self, id: &str, reason: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE verifications SET state = 'failed', failure_reason = $2, completed_at = $3, updated_at = $3, expected_holder_sealed = NULL WHERE id = $1 AND state = 'pending' AND provider_session_id IS NULL")
            .bind(id)
            .bind(reason)
            .bind(now)
            .execute(self.raw())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Cancels a pending session; `false` if it is no longer pending.
    pub async fn cancel(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE verifications SET state = 'canceled', completed_at = $2, updated_at = $2, expected_holder_sealed = NULL WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .bind(now)
            .execute(self.raw())
            .await?;
        Ok(done.rows_affected() != 0)
    }

    /// Counts a provider read of a pending session and sets when to read it next.
    pub async fn record_poll(&mut self, id: &str, next_poll_at: i64) -> Result<()> {
        sqlx::query("UPDATE verifications SET poll_attempts = poll_attempts + 1, next_poll_at = $2 WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .bind(next_poll_at)
            .execute(self.raw())
            .await?;
        Ok(())
    }

    /// Moves a pending session to its terminal state; `false` if it was no longer pending
    /// (terminal states never change back).
    pub async fn finish(&mut self, f: &Finish<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE verifications SET state = $2, ial_level = $3, ial_revision = $4, document_type = $5, match_confidence_bp = $6, \
             failure_reason = $7, completed_at = $8, updated_at = $8, valid_until = $9, next_poll_at = NULL, \
             identity_match = $10, failure_code = $11, expected_holder_sealed = NULL \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(f.id)
        .bind(f.state)
        .bind(f.ial_level.clone())
        .bind(f.ial_level.as_ref().map(|_| NIST_REVISION))
        .bind(f.document_type.clone())
        .bind(f.match_confidence.map(confidence_to_bp))
        .bind(f.failure_reason)
        .bind(f.now)
        .bind(f.valid_until)
        .bind(f.identity_match)
        .bind(f.failure_code)
        .execute(self.raw())
        .await?;
        Ok(done.rows_affected() != 0)
    }
}
