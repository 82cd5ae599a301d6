-- Where each completion was placed in the tier playbook, written in the
-- transaction that stores the completion. Kept in step with
-- migrations/postgres.
CREATE TABLE placements (
    session_id BIGINT NOT NULL PRIMARY KEY REFERENCES quiz_sessions(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    segment_id BIGINT REFERENCES segments(id) ON DELETE SET NULL,
    segment_slug TEXT NOT NULL,
    next_step TEXT NOT NULL,
    outcome_key TEXT,
    placed_at BIGINT NOT NULL
);
CREATE INDEX placements_by_segment ON placements (segment_id, placed_at);
