-- A deal stage's id is text: HubSpot's are words (`closedwon`), Freshsales' numbers. The
-- stages move to text columns; the integer columns they came from are no longer read.
ALTER TABLE deals ADD COLUMN stage TEXT;
ALTER TABLE deals ADD COLUMN previous_stage TEXT;
UPDATE deals SET stage = CAST(stage_id AS TEXT), previous_stage = CAST(previous_stage_id AS TEXT);
