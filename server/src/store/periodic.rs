//! The SQL of the periodic jobs' reads (expiry and the sweeps), named so that a test can read
//! their plans on both engines (`tests/api/reliability/plans.rs`); retention's deletes are
//! re-exported beside them.

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
