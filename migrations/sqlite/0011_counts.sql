-- Segment counts kept by the database itself, so every way a stay opens,
-- closes or goes (a sync, a merge, an erasure, a cascade) moves the count
-- and the dashboard reads it instead of counting. Kept in step with
-- migrations/postgres.
CREATE TRIGGER segment_stay_opened AFTER INSERT ON segment_memberships
WHEN NEW.exited_at IS NULL
BEGIN
    UPDATE segments SET member_count = member_count + 1 WHERE id = NEW.segment_id;
END;

CREATE TRIGGER segment_stay_closed AFTER UPDATE OF exited_at ON segment_memberships
WHEN OLD.exited_at IS NULL AND NEW.exited_at IS NOT NULL
BEGIN
    UPDATE segments SET member_count = member_count - 1 WHERE id = NEW.segment_id;
END;

CREATE TRIGGER segment_stay_removed AFTER DELETE ON segment_memberships
WHEN OLD.exited_at IS NULL
BEGIN
    UPDATE segments SET member_count = member_count - 1 WHERE id = OLD.segment_id;
END;

UPDATE segments SET member_count = (
    SELECT count(*) FROM segment_memberships m
    WHERE m.segment_id = segments.id AND m.exited_at IS NULL
);

-- Counts per day for the trend charts walk a segment's stays by time.
CREATE INDEX segment_memberships_by_time ON segment_memberships (segment_id, entered_at);

-- Leads per tier, kept the same way.
CREATE TABLE lead_counts (
    tier_slug TEXT NOT NULL PRIMARY KEY,
    leads BIGINT NOT NULL DEFAULT 0
);
INSERT INTO lead_counts (tier_slug, leads) SELECT tier_slug, count(*) FROM leads GROUP BY tier_slug;

CREATE TRIGGER lead_added AFTER INSERT ON leads
BEGIN
    INSERT OR IGNORE INTO lead_counts (tier_slug, leads) VALUES (NEW.tier_slug, 0);
    UPDATE lead_counts SET leads = leads + 1 WHERE tier_slug = NEW.tier_slug;
END;

CREATE TRIGGER lead_moved AFTER UPDATE OF tier_slug ON leads
WHEN OLD.tier_slug <> NEW.tier_slug
BEGIN
    UPDATE lead_counts SET leads = leads - 1 WHERE tier_slug = OLD.tier_slug;
    INSERT OR IGNORE INTO lead_counts (tier_slug, leads) VALUES (NEW.tier_slug, 0);
    UPDATE lead_counts SET leads = leads + 1 WHERE tier_slug = NEW.tier_slug;
END;

CREATE TRIGGER lead_removed AFTER DELETE ON leads
BEGIN
    UPDATE lead_counts SET leads = leads - 1 WHERE tier_slug = OLD.tier_slug;
END;

-- Each segment's count at the end of each day, for the trend charts:
-- past days worked out once from the stays, today's kept current.
CREATE TABLE segment_daily_counts (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (segment_id, day)
);
