//! The SQL of the periodic jobs' reads (expiry, the sweeps, and the claims of the poller and the
//! outbox), named so that a test can read their plans on both engines
//! (`tests/api/reliability/plans.rs`); retention's deletes are re-exported beside them.

pub use super::retention::{
    DELETE_AUDIT_SQL, DELETE_FINISHED_SQL, DELETE_IDEMPOTENCY_SQL, DELETE_INBOUND_SQL,
    DELETE_SENT_ONCE_SQL,
};

/// Pending sessions without a provider session created before `$1` (at most `$2`).
pub const UNSTARTED_SQL: &str = "SELECT id, tenant_id FROM verifications \
             WHERE state = 'pending' AND provider_session_id IS NULL AND created_at <= $1 \
             ORDER BY created_at LIMIT $2";

/// Pending sessions past their end by the grace (`$1`) or, without an end, created before `$2` (at most `$3`).
pub const ABANDONED_SQL: &str = "SELECT id, tenant_id FROM verifications \
             WHERE state = 'pending' AND provider_session_id IS NOT NULL \
             AND ((session_expires_at IS NOT NULL AND session_expires_at <= $1) \
                  OR (session_expires_at IS NULL AND created_at <= $2)) \
             ORDER BY created_at LIMIT $3";

/// Verified sessions whose validity ended by `$1` (at most `$2`).
pub const EXPIRING_SQL: &str = "SELECT id, tenant_id, contact_id, valid_until FROM verifications \
             WHERE state = 'verified' AND valid_until IS NOT NULL AND valid_until <= $1 \
             ORDER BY valid_until LIMIT $2";

/// Workflow actions still waiting whose platform expiry is by `$1` (at most `$2`).
pub const ACTIONS_DUE_SQL: &str =
    "SELECT tenant_id, callback_id, verification_id FROM waiting_actions \
             WHERE completed_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2";

/// Accounts reached by OAuth whose access token ends by `$1` and whose refresh no replica holds
/// at `$2` (at most 100).
pub const TOKENS_DUE_SQL: &str = "SELECT id, crm_access_expires_at FROM tenants \
             WHERE crm_refresh_token_sealed IS NOT NULL AND crm_access_expires_at <= $1 \
             AND (crm_refresh_lease_until IS NULL OR crm_refresh_lease_until <= $2) \
             ORDER BY crm_access_expires_at LIMIT 100";

/// The poller's claim: up to 32 pending sessions due for a provider read by `$2`, leased until
/// `$1` (`lock`: the engine's row lock of the inner read, [`super::Backend::claim_lock`]).
pub fn claim_polls_sql(lock: &str, returning: &str) -> String {
    format!(
        "UPDATE verifications SET next_poll_at = $1 WHERE id IN (\
           SELECT id FROM verifications WHERE state = 'pending' AND provider_session_id IS NOT NULL \
           AND next_poll_at <= $2 ORDER BY next_poll_at LIMIT 32{lock}) RETURNING {returning}"
    )
}

/// The outbox's claim: the pending row due first by `$2`, leased until `$1` to the claim `$3`.
pub fn claim_outbox_sql(lock: &str) -> String {
    format!(
        "UPDATE sync_outbox SET next_attempt_at = $1, claim_token = $3, claims = claims + 1 WHERE id IN (\
           SELECT id FROM sync_outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
           ORDER BY next_attempt_at LIMIT 1{lock}) \
         RETURNING id, tenant_id, record_key, kind, payload, version, remote_id, attempts, claim_token, claims"
    )
}
