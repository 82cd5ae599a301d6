-- How far each segment's latest rebuild has come, readable by every
-- instance's pages.
CREATE TABLE segment_rebuilds (
    segment_id BIGINT NOT NULL PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
    done BIGINT NOT NULL,
    total BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    error TEXT
);
