-- The periodic jobs (every half second or so: expiry, the sweeps of unstarted and abandoned
-- sessions; and retention) find their rows through an index bounded by the range they read,
-- never by reading a table that grows to millions of rows.
CREATE INDEX verifications_expiring ON verifications (state, valid_until);
CREATE INDEX verifications_unstarted ON verifications (state, provider_session_id, created_at);
CREATE INDEX verifications_pending_ends ON verifications (session_expires_at, created_at)
    WHERE state = 'pending';
CREATE INDEX verifications_finished ON verifications (state, updated_at);
CREATE INDEX inbound_events_received ON inbound_events (received_at);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX audit_log_at ON audit_log (at);
