-- A tenant's identity provider beyond the design contract: the wire format and its settings
-- (JSON, e.g. {"kind":"blockid","community":"default","curve":"secp256k1"}) and its second
-- secret (BlockID's dvcID), sealed like the others.
ALTER TABLE tenants ADD COLUMN provider_settings TEXT;
ALTER TABLE tenants ADD COLUMN provider_secret_sealed TEXT;
