-- What an audit line says as facts (JSON: the level, the channel, who, a state, a stage, a reason
-- code), for the widget to word in the rep's language; `detail` keeps the English words.
ALTER TABLE audit_log ADD COLUMN facts TEXT;
