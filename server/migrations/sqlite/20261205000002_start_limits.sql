-- A tenant's start limits (JSON, see services/limits.rs); NULL means the defaults.
ALTER TABLE tenants ADD COLUMN start_limits TEXT;
