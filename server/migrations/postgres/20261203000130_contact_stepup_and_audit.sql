-- At most one pending step-up asked for on a contact page (no deal) per contact.
CREATE UNIQUE INDEX one_pending_contact_stepup ON verifications (tenant_id, contact_id) WHERE kind = 'stepup' AND state = 'pending' AND deal_id IS NULL;
-- Who started a session, as the backend knows it: 'automation' or 'widget' (the user a widget
-- names stays sealed in requested_by_sealed). The result's note tells the start from it; NULL
-- for sessions started before, whose start had a note of its own.
ALTER TABLE verifications ADD COLUMN origin TEXT;
-- The audit trail read newest first, by tenant (`server audit`, the widget's history panel).
CREATE INDEX audit_by_tenant_id ON audit_log (tenant_id, id);
