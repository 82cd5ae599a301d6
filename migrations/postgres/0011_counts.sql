-- Segment counts kept by the database itself, so every way a stay opens,
-- closes or goes (a sync, a merge, an erasure, a cascade) moves the count
-- and the dashboard reads it instead of counting. Statement triggers with
-- transition tables: a rebuild that opens thousands of stays updates each
-- segment's row once, not once per stay. Kept in step with
-- migrations/sqlite.
CREATE FUNCTION segment_stays_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE segments s SET member_count = s.member_count + n.added
    FROM (SELECT segment_id, count(*) AS added FROM new_stays
          WHERE exited_at IS NULL GROUP BY segment_id) n
    WHERE s.id = n.segment_id;
    RETURN NULL;
END $$;

-- Updates never move a stay to another segment, so per segment the change
-- is the open stays after less the open stays before.
CREATE FUNCTION segment_stays_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE segments s SET member_count = s.member_count + d.delta
    FROM (SELECT segment_id, sum(delta) AS delta FROM (
              SELECT segment_id, 1 AS delta FROM new_stays WHERE exited_at IS NULL
              UNION ALL
              SELECT segment_id, -1 AS delta FROM old_stays WHERE exited_at IS NULL
          ) x GROUP BY segment_id) d
    WHERE s.id = d.segment_id AND d.delta <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION segment_stays_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE segments s SET member_count = s.member_count - g.gone
    FROM (SELECT segment_id, count(*) AS gone FROM old_stays
          WHERE exited_at IS NULL GROUP BY segment_id) g
    WHERE s.id = g.segment_id;
    RETURN NULL;
END $$;

CREATE TRIGGER segment_stays_opened AFTER INSERT ON segment_memberships
    REFERENCING NEW TABLE AS new_stays
    FOR EACH STATEMENT EXECUTE FUNCTION segment_stays_opened();
CREATE TRIGGER segment_stays_changed AFTER UPDATE ON segment_memberships
    REFERENCING OLD TABLE AS old_stays NEW TABLE AS new_stays
    FOR EACH STATEMENT EXECUTE FUNCTION segment_stays_changed();
CREATE TRIGGER segment_stays_removed AFTER DELETE ON segment_memberships
    REFERENCING OLD TABLE AS old_stays
    FOR EACH STATEMENT EXECUTE FUNCTION segment_stays_removed();

UPDATE segments SET member_count = (
    SELECT count(*) FROM segment_memberships m
    WHERE m.segment_id = segments.id AND m.exited_at IS NULL
);

CREATE INDEX segment_memberships_by_time ON segment_memberships (segment_id, entered_at);

-- Leads per tier, kept the same way (one lead changes per completion, so
-- row triggers).
CREATE TABLE lead_counts (
    tier_slug TEXT NOT NULL PRIMARY KEY,
    leads BIGINT NOT NULL DEFAULT 0
);
INSERT INTO lead_counts (tier_slug, leads) SELECT tier_slug, count(*) FROM leads GROUP BY tier_slug;

CREATE FUNCTION count_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE lead_counts SET leads = leads - 1 WHERE tier_slug = OLD.tier_slug;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO lead_counts (tier_slug, leads) VALUES (NEW.tier_slug, 1)
        ON CONFLICT (tier_slug) DO UPDATE SET leads = lead_counts.leads + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER leads_counted AFTER INSERT OR DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION count_leads();
CREATE TRIGGER leads_moved AFTER UPDATE OF tier_slug ON leads
    FOR EACH ROW WHEN (OLD.tier_slug IS DISTINCT FROM NEW.tier_slug)
    EXECUTE FUNCTION count_leads();

CREATE TABLE segment_daily_counts (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (segment_id, day)
);
