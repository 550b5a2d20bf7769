-- A workflow action that waits for a verification's result (HubSpot's BLOCK): completed once,
-- with the result, or with `timeout` before the platform's own expiry (epoch ms).
CREATE TABLE waiting_actions (
    tenant_id TEXT NOT NULL,
    callback_id TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    completed_at INTEGER,
    result TEXT,
    PRIMARY KEY (tenant_id, callback_id)
);
CREATE INDEX waiting_actions_by_verification ON waiting_actions (verification_id) WHERE completed_at IS NULL;
CREATE INDEX waiting_actions_by_expiry ON waiting_actions (expires_at) WHERE completed_at IS NULL;
