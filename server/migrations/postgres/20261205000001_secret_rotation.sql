-- A rotated webhook secret keeps working until its grace period ends (Unix ms), so deliveries
-- signed or sent with it meanwhile are not refused.
ALTER TABLE tenants ADD COLUMN kosmos_webhook_secret_prev_sealed TEXT;
ALTER TABLE tenants ADD COLUMN kosmos_webhook_secret_prev_until BIGINT;
ALTER TABLE tenants ADD COLUMN automator_secret_prev_sealed TEXT;
ALTER TABLE tenants ADD COLUMN automator_secret_prev_until BIGINT;
