-- A tenant's connections named for what they are, not for the first vendor each held: the CRM
-- (Freshsales or Freshdesk today), the identity provider (the design contract or BlockID) and
-- the chat product. Sealed values keep the place they were sealed for (the seal names the
-- column's first name; see store::tenants::SealedColumn), so no value is re-sealed here.
ALTER TABLE tenants RENAME COLUMN freshsales_base_url TO crm_base_url;
ALTER TABLE tenants RENAME COLUMN freshsales_key_sealed TO crm_key_sealed;
ALTER TABLE tenants RENAME COLUMN kosmos_base_url TO provider_base_url;
ALTER TABLE tenants RENAME COLUMN kosmos_key_sealed TO provider_key_sealed;
ALTER TABLE tenants RENAME COLUMN kosmos_webhook_secret_sealed TO provider_webhook_secret_sealed;
ALTER TABLE tenants RENAME COLUMN kosmos_webhook_secret_prev_sealed TO provider_webhook_secret_prev_sealed;
ALTER TABLE tenants RENAME COLUMN kosmos_webhook_secret_prev_until TO provider_webhook_secret_prev_until;
ALTER TABLE tenants RENAME COLUMN freshchat_api_url TO chat_base_url;
ALTER TABLE tenants RENAME COLUMN freshchat_token_sealed TO chat_token_sealed;
ALTER TABLE tenants RENAME COLUMN freshchat_public_key TO chat_webhook_public_key;
ALTER TABLE tenants RENAME COLUMN freshchat_agent_id TO chat_agent_id;

-- A CRM reached by OAuth 2 (no API key): the refresh token (sealed), the access token it last
-- gave (sealed) and when that one ends (epoch ms).
ALTER TABLE tenants ADD COLUMN crm_refresh_token_sealed TEXT;
ALTER TABLE tenants ADD COLUMN crm_access_token_sealed TEXT;
ALTER TABLE tenants ADD COLUMN crm_access_expires_at BIGINT;
