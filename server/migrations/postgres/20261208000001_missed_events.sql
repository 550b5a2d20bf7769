-- The periodic check reads the contacts created and the deals updated since the last point it
-- reconciled (`reconciled_until`), never before the install (`reconcile_floor`): events the
-- serverless forwarder dropped are fed to the same intake, once.
ALTER TABLE tenants ADD COLUMN reconciled_until BIGINT;
ALTER TABLE tenants ADD COLUMN reconcile_floor BIGINT;
