-- Count changes appended, not applied. With the triggers of 0011 every
-- completion updated its tier's row in lead_counts and each segment's row
-- it moved, holding those rows until it committed, and completions
-- placing people in the same tier queued on them one at a time (the
-- benchmark saw dozens of sessions waiting on one lead count). Now the
-- triggers insert deltas, which never wait on each other; every instance
-- folds them into the counts once a second, in one statement, and the
-- views add what is not folded yet. Kept in step with migrations/sqlite.
CREATE TABLE segment_count_deltas (
    segment_id BIGINT NOT NULL,
    delta BIGINT NOT NULL
);
CREATE INDEX segment_count_deltas_by_segment ON segment_count_deltas (segment_id);

CREATE TABLE lead_count_deltas (
    tier_slug TEXT NOT NULL,
    delta BIGINT NOT NULL
);
CREATE INDEX lead_count_deltas_by_tier ON lead_count_deltas (tier_slug);

CREATE OR REPLACE FUNCTION segment_stays_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segment_count_deltas (segment_id, delta)
    SELECT segment_id, count(*) FROM new_stays WHERE exited_at IS NULL GROUP BY segment_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION segment_stays_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segment_count_deltas (segment_id, delta)
    SELECT segment_id, sum(delta) FROM (
        SELECT segment_id, 1 AS delta FROM new_stays WHERE exited_at IS NULL
        UNION ALL
        SELECT segment_id, -1 AS delta FROM old_stays WHERE exited_at IS NULL
    ) x GROUP BY segment_id HAVING sum(delta) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION segment_stays_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segment_count_deltas (segment_id, delta)
    SELECT segment_id, -count(*) FROM old_stays WHERE exited_at IS NULL GROUP BY segment_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION leads_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_count_deltas (tier_slug, delta)
    SELECT tier_slug, count(*) FROM new_leads GROUP BY tier_slug;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION leads_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_count_deltas (tier_slug, delta)
    SELECT tier_slug, sum(delta) FROM (
        SELECT tier_slug, 1 AS delta FROM new_leads
        UNION ALL
        SELECT tier_slug, -1 AS delta FROM old_leads
    ) x GROUP BY tier_slug HAVING sum(delta) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION leads_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_count_deltas (tier_slug, delta)
    SELECT tier_slug, -count(*) FROM old_leads GROUP BY tier_slug;
    RETURN NULL;
END $$;

CREATE VIEW segment_counts AS
    SELECT s.id AS segment_id,
           (s.member_count + COALESCE(
               (SELECT sum(d.delta) FROM segment_count_deltas d WHERE d.segment_id = s.id), 0
           ))::bigint AS members
    FROM segments s;

CREATE VIEW tier_lead_counts AS
    SELECT tier_slug, sum(leads)::bigint AS leads FROM (
        SELECT tier_slug, leads FROM lead_counts
        UNION ALL
        SELECT tier_slug, delta FROM lead_count_deltas
    ) x GROUP BY tier_slug;
