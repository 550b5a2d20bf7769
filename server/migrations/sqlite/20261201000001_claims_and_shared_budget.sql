-- Write-back rows are claimed one at a time with a token: only the claimant finishes a row.
ALTER TABLE sync_outbox ADD COLUMN claim_token TEXT;

-- The Freshsales budget of each tenant, shared by every replica: two token buckets (the plan's
-- hourly limit and 400 per minute) in one row, taken with one atomic UPDATE.
CREATE TABLE rate_buckets (
    tenant_id     TEXT PRIMARY KEY,
    hour_tokens   REAL NOT NULL,
    minute_tokens REAL NOT NULL,
    updated_at    INTEGER NOT NULL,
    paused_until  INTEGER NOT NULL DEFAULT 0
);

-- The Freshsales account a tenant was first installed on: a later install or uninstall naming
-- another account is refused.
ALTER TABLE tenants ADD COLUMN account_url TEXT;
