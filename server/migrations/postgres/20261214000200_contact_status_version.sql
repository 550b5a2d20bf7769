-- A contact's status version: bumped in the same transaction as every write that can change
-- what its status read shows (a session written or deleted, an enrolment), so a replica's
-- cached read is checked with one indexed lookup. Hot columns the read does not show
-- (poll_attempts, next_poll_at, origin) do not bump it.
ALTER TABLE contacts ADD COLUMN status_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_contact_status() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE contacts SET status_version = status_version + 1
        WHERE tenant_id = OLD.tenant_id AND contact_id = OLD.contact_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF TG_OP = 'INSERT' OR OLD.tenant_id <> NEW.tenant_id OR OLD.contact_id <> NEW.contact_id THEN
            UPDATE contacts SET status_version = status_version + 1
            WHERE tenant_id = NEW.tenant_id AND contact_id = NEW.contact_id;
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER verifications_status_insert_delete AFTER INSERT OR DELETE ON verifications
    FOR EACH ROW EXECUTE FUNCTION bump_contact_status();

CREATE TRIGGER verifications_status_update AFTER UPDATE OF
    tenant_id, contact_id, deal_id, kind, state, provider_session_id, ial_level, ial_revision,
    document_type, match_confidence_bp, failure_reason, created_at, completed_at, valid_until,
    hosted_url_sealed, qr_payload_sealed, requested_by_sealed, session_expires_at, delivery,
    delivery_error, ticket_id, chat_conversation_id, requested_ial, identity_match
ON verifications FOR EACH ROW EXECUTE FUNCTION bump_contact_status();

CREATE FUNCTION bump_own_status() RETURNS trigger AS $$
BEGIN
    NEW.status_version := OLD.status_version + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_status_update BEFORE UPDATE OF liveid_enrolled, credential_did_sealed ON contacts
    FOR EACH ROW EXECUTE FUNCTION bump_own_status();
