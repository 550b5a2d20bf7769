-- Tenants: one Freshsales account that installed the app. The widget's Bearer token is kept
-- only as a SHA-256 hash; secrets for outside services are sealed (see crypto.rs).
CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);

-- Contacts the backend has seen (no personal data: ids and enrolment only).
CREATE TABLE contacts (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    contact_id       BIGINT NOT NULL,
    liveid_enrolled  BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);

-- One provider session. A contact's status is derived from these rows.
CREATE TABLE verifications (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    contact_id          BIGINT NOT NULL,
    deal_id             BIGINT,
    kind                TEXT NOT NULL CHECK (kind IN ('idv', 'stepup')),
    state               TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'expired', 'canceled')),
    provider_session_id TEXT,
    ial_level           TEXT,
    ial_revision        TEXT,
    document_type       TEXT,
    match_confidence_bp BIGINT,   -- basis points: 9734 = 97.34 %
    credential_did      TEXT,
    failure_reason      TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    completed_at        BIGINT,
    valid_until         BIGINT
);
CREATE INDEX verifications_by_contact ON verifications (tenant_id, contact_id, kind, created_at);
