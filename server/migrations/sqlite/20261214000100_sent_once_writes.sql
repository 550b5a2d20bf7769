-- Writes that happen once (notes, tasks, chat messages, workflow completions, platform events
-- acted on) stay as 'done' rows after they are sent; retention deletes them by when they were
-- sent, through this index.
CREATE INDEX sync_outbox_by_state_and_update ON sync_outbox (state, updated_at);
