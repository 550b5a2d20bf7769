-- A chat bot's verification belongs to the conversation it was started for: only that
-- conversation's bot may reuse it or read its state, and only there is its result posted. A
-- contact may have one pending verification started at the desk (or by automation) and, beside
-- it, one per conversation.
ALTER TABLE verifications ADD COLUMN chat_conversation_id TEXT;

-- The bot's own sessions keep the conversation they were started from (their first link).
UPDATE verifications SET chat_conversation_id = (
    SELECT cs.conversation_id FROM chat_sessions cs
    WHERE cs.verification_id = verifications.id AND cs.conversation_id <> ''
    ORDER BY cs.created_at, cs.conversation_id LIMIT 1
) WHERE origin = 'chat';

-- Links to any other conversation (a session a bot adopted by an email typed in a chat) are
-- dropped: nothing more is posted there.
DELETE FROM chat_sessions WHERE NOT EXISTS (
    SELECT 1 FROM verifications v
    WHERE v.id = chat_sessions.verification_id
      AND v.chat_conversation_id = chat_sessions.conversation_id
);

DROP INDEX one_pending_idv;
CREATE UNIQUE INDEX one_pending_idv ON verifications (tenant_id, contact_id)
    WHERE kind = 'idv' AND state = 'pending' AND chat_conversation_id IS NULL;
CREATE UNIQUE INDEX one_pending_chat_idv ON verifications (tenant_id, contact_id, chat_conversation_id)
    WHERE kind = 'idv' AND state = 'pending' AND chat_conversation_id IS NOT NULL;
