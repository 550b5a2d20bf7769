-- A contact's status version: bumped in the same transaction as every write that can change
-- what its status read shows (a session written or deleted, an enrolment), so a replica's
-- cached read is checked with one indexed lookup. Hot columns the read does not show
-- (poll_attempts, next_poll_at, origin) do not bump it.
ALTER TABLE contacts ADD COLUMN status_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER verifications_status_insert AFTER INSERT ON verifications BEGIN
    UPDATE contacts SET status_version = status_version + 1
    WHERE tenant_id = NEW.tenant_id AND contact_id = NEW.contact_id;
END;

CREATE TRIGGER verifications_status_update AFTER UPDATE OF
    tenant_id, contact_id, deal_id, kind, state, provider_session_id, ial_level, ial_revision,
    document_type, match_confidence_bp, failure_reason, created_at, completed_at, valid_until,
    hosted_url_sealed, qr_payload_sealed, requested_by_sealed, session_expires_at, delivery,
    delivery_error, ticket_id, chat_conversation_id, requested_ial, identity_match
ON verifications BEGIN
    UPDATE contacts SET status_version = status_version + 1
    WHERE tenant_id = NEW.tenant_id AND contact_id = NEW.contact_id;
    UPDATE contacts SET status_version = status_version + 1
    WHERE tenant_id = OLD.tenant_id AND contact_id = OLD.contact_id
      AND (OLD.tenant_id <> NEW.tenant_id OR OLD.contact_id <> NEW.contact_id);
END;

CREATE TRIGGER verifications_status_delete AFTER DELETE ON verifications BEGIN
    UPDATE contacts SET status_version = status_version + 1
    WHERE tenant_id = OLD.tenant_id AND contact_id = OLD.contact_id;
END;

CREATE TRIGGER contacts_status_update AFTER UPDATE OF liveid_enrolled, credential_did_sealed ON contacts BEGIN
    UPDATE contacts SET status_version = status_version + 1
    WHERE tenant_id = NEW.tenant_id AND contact_id = NEW.contact_id;
END;
