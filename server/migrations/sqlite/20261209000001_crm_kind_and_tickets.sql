-- The product an account installed the app in (its CRM connection speaks that product's API),
-- and the help-desk ticket a verification was started from (its result note goes there).
ALTER TABLE tenants ADD COLUMN crm_kind TEXT NOT NULL DEFAULT 'freshsales';
ALTER TABLE verifications ADD COLUMN ticket_id INTEGER;
