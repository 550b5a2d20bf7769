-- An OAuth access token is refreshed by one replica at a time: the one that set this lease
-- (epoch ms) first. The index finds the accounts whose access tokens end soon.
ALTER TABLE tenants ADD COLUMN crm_refresh_lease_until INTEGER;
CREATE INDEX tenants_tokens_due ON tenants (crm_access_expires_at) WHERE crm_refresh_token_sealed IS NOT NULL;
