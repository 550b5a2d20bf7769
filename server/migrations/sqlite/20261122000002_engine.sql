-- Tenant connections and policy. Secrets are sealed (crypto.rs); never stored in plain text.
ALTER TABLE tenants ADD COLUMN freshsales_base_url TEXT;
ALTER TABLE tenants ADD COLUMN freshsales_key_sealed TEXT;
ALTER TABLE tenants ADD COLUMN kosmos_base_url TEXT;
ALTER TABLE tenants ADD COLUMN kosmos_key_sealed TEXT;
ALTER TABLE tenants ADD COLUMN kosmos_webhook_secret_sealed TEXT;
ALTER TABLE tenants ADD COLUMN automator_secret_sealed TEXT;
ALTER TABLE tenants ADD COLUMN hourly_limit INTEGER NOT NULL DEFAULT 1000;
ALTER TABLE tenants ADD COLUMN rate_window_secs INTEGER NOT NULL DEFAULT 3600;
ALTER TABLE tenants ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tenants ADD COLUMN installed INTEGER NOT NULL DEFAULT 1;

ALTER TABLE contacts ADD COLUMN credential_did_sealed TEXT;

ALTER TABLE verifications ADD COLUMN hosted_url_sealed TEXT;
ALTER TABLE verifications ADD COLUMN qr_payload_sealed TEXT;
ALTER TABLE verifications ADD COLUMN requested_by_sealed TEXT;
ALTER TABLE verifications ADD COLUMN session_expires_at INTEGER;
ALTER TABLE verifications ADD COLUMN next_poll_at INTEGER;
ALTER TABLE verifications ADD COLUMN poll_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX verifications_due ON verifications (state, next_poll_at);
CREATE UNIQUE INDEX verifications_by_session ON verifications (tenant_id, provider_session_id);
-- At most one pending IDV session per contact, and one pending step-up per deal.
CREATE UNIQUE INDEX one_pending_idv ON verifications (tenant_id, contact_id) WHERE kind = 'idv' AND state = 'pending';
CREATE UNIQUE INDEX one_pending_stepup ON verifications (tenant_id, deal_id) WHERE kind = 'stepup' AND state = 'pending';

CREATE TABLE deals (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    deal_id         INTEGER NOT NULL,
    stage_id        INTEGER,
    primary_contact INTEGER,
    fetched_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, deal_id)
);

CREATE TABLE idempotency_keys (
    tenant_id       TEXT NOT NULL,
    key             TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- Inbound webhook deliveries already accepted (dedupe on the sender's id).
CREATE TABLE inbound_events (
    tenant_id   TEXT NOT NULL,
    source      TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, source, event_id)
);

-- CRM write-back: one desired-state row per remote record, versioned. Workers send the latest.
CREATE TABLE sync_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    record_key      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    sent_version    INTEGER NOT NULL DEFAULT 0,
    remote_id       INTEGER,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (tenant_id, record_key)
);
CREATE INDEX sync_outbox_due ON sync_outbox (state, next_attempt_at);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, at);
