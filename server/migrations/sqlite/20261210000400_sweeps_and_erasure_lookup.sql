-- Where the periodic check's reading of each CRM list stands. A sweep reads a list newest first
-- from page 1 down to the records older than `since_ms`, a few pages per check; `page` is the
-- next page to read, `started_at` when the sweep read its first page (the next sweep reads back
-- to a little before it). A reinstall starts afresh.
CREATE TABLE reconcile_sweeps (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    list       TEXT NOT NULL,
    since_ms   INTEGER NOT NULL,
    started_at INTEGER,
    page       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, list)
);

-- Audit lines by subject: whether a contact was erased (a late report of their creation starts
-- nothing), and the lines an erasure removes.
CREATE INDEX audit_by_subject ON audit_log (tenant_id, subject);
