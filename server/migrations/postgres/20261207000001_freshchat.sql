-- Freshchat: a tenant's connection (the API host, the bearer token sealed, the RSA public key of
-- its webhook settings, and the agent results are posted as, if any).
ALTER TABLE tenants ADD COLUMN freshchat_api_url TEXT;
ALTER TABLE tenants ADD COLUMN freshchat_token_sealed TEXT;
ALTER TABLE tenants ADD COLUMN freshchat_public_key TEXT;
ALTER TABLE tenants ADD COLUMN freshchat_agent_id TEXT;

-- The conversations a bot started (or reused) a verification from: its result is posted there,
-- and written onto the chat user's properties. Ids only. '' when the bot named no conversation.
CREATE TABLE chat_sessions (
    verification_id TEXT NOT NULL REFERENCES verifications(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL DEFAULT '',
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id         TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (verification_id, conversation_id)
);
CREATE INDEX chat_sessions_by_conversation ON chat_sessions (tenant_id, conversation_id);

-- The user of each conversation, as Freshchat's message_create webhooks report it (ids only).
CREATE TABLE chat_conversations (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    channel_id      TEXT,
    seen_at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id)
);
CREATE INDEX chat_conversations_seen ON chat_conversations (seen_at);
CREATE INDEX chat_conversations_by_user ON chat_conversations (tenant_id, user_id, seen_at);

-- How often a write-back row was claimed. A chat message whose earlier claim may have posted
-- it (a timeout, or a claimant that stopped before recording the send) is looked for in the
-- conversation before it is posted again.
ALTER TABLE sync_outbox ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
