-- How a hosted link was to reach the customer (show, email, sms), and why it did not when the
-- provider could not deliver it.
ALTER TABLE verifications ADD COLUMN delivery TEXT;
ALTER TABLE verifications ADD COLUMN delivery_error TEXT;
