-- The tier playbook: segments in order, first match wins. Kept in step with
-- migrations/postgres.
CREATE TABLE tiers (
    segment_id BIGINT NOT NULL PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
    position BIGINT NOT NULL UNIQUE,
    next_step TEXT NOT NULL,
    outcome_key TEXT
);
