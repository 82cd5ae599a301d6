-- What pages read as a segment's members and a tier's leads. Here the
-- triggers of 0011 write the counts themselves: SQLite has one writer, so
-- nobody queues on those rows. Postgres adds the changes not yet folded
-- in (see migrations/postgres). Kept in step with migrations/postgres.
CREATE VIEW segment_counts AS
    SELECT id AS segment_id, member_count AS members FROM segments;
CREATE VIEW tier_lead_counts AS
    SELECT tier_slug, leads FROM lead_counts;
