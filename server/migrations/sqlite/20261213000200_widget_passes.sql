-- Passes to the widget page a HubSpot card opens in its modal: a ticket (single use, a minute)
-- minted for a signed card call, traded once for a session (half an hour) the widget sends as
-- its bearer token. Only SHA-256 hashes are kept.
CREATE TABLE widget_passes (
    hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    record TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX widget_passes_expiry ON widget_passes (expires_at);
