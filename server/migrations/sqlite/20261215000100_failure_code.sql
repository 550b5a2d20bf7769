-- Why a session failed, as the stable code of the reason table (`domain/reasons.rs`): the widget
-- and the card word it in the rep's language. Sessions that failed before keep their sentence only.
ALTER TABLE verifications ADD COLUMN failure_code TEXT;
