-- The CRM account's set-up for this app, as the last check found it (JSON SetupReport), and
-- write-back rows that wait for it: a write the CRM refused for a missing field or module is
-- parked (not dead) and sent again once the set-up is complete.
ALTER TABLE tenants ADD COLUMN setup_report TEXT;
ALTER TABLE tenants ADD COLUMN setup_complete INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sync_outbox ADD COLUMN waiting_setup INTEGER NOT NULL DEFAULT 0;
