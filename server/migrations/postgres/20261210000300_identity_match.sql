-- Verified means this contact passed, at the level asked for: the assurance level a verification
-- asked for; whether the holder named on the document is the CRM contact (`match`, `partial` or
-- `mismatch`: the outcome only, never the document's data); and, while the session is pending,
-- the CRM's names for the contact (sealed; cleared when the session ends) for providers that
-- return the document's names instead of their own comparison.
ALTER TABLE verifications ADD COLUMN requested_ial TEXT;
ALTER TABLE verifications ADD COLUMN identity_match TEXT;
ALTER TABLE verifications ADD COLUMN expected_holder_sealed TEXT;
