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

-- Leads per tier, kept the same way, a statement at a time (a bulk import
-- updates each tier's row once).
CREATE TABLE lead_counts (
    tier_slug TEXT NOT NULL PRIMARY KEY,
    leads BIGINT NOT NULL DEFAULT 0
);
INSERT INTO lead_counts (tier_slug, leads) SELECT tier_slug, count(*) FROM leads GROUP BY tier_slug;

CREATE FUNCTION leads_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_counts (tier_slug, leads)
    SELECT tier_slug, count(*) FROM new_leads GROUP BY tier_slug
    ON CONFLICT (tier_slug) DO UPDATE SET leads = lead_counts.leads + excluded.leads;
    RETURN NULL;
END $$;

CREATE FUNCTION leads_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_counts (tier_slug, leads)
    SELECT tier_slug, sum(delta) FROM (
        SELECT tier_slug, 1 AS delta FROM new_leads
        UNION ALL
        SELECT tier_slug, -1 AS delta FROM old_leads
    ) x GROUP BY tier_slug
    ON CONFLICT (tier_slug) DO UPDATE SET leads = lead_counts.leads + excluded.leads;
    RETURN NULL;
END $$;

CREATE FUNCTION leads_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lead_counts c SET leads = c.leads - g.gone
    FROM (SELECT tier_slug, count(*) AS gone FROM old_leads GROUP BY tier_slug) g
    WHERE c.tier_slug = g.tier_slug;
    RETURN NULL;
END $$;

CREATE TRIGGER leads_added AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_added();
CREATE TRIGGER leads_changed AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_changed();
CREATE TRIGGER leads_removed AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_removed();

CREATE TABLE segment_daily_counts (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (segment_id, day)
);
