-- The stage a deal was in before the one the backend last saw (from the forwarder's events, the
-- widget's reads and automation's own moves): where a gated deal is moved back to, and what a
-- workflow's claimed previous stage is checked against.
ALTER TABLE deals ADD COLUMN previous_stage_id BIGINT;
