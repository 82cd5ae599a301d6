-- A number that moves whenever what a membership re-check needs moves: a
-- segment's rule, slug or name, or its actions. Each instance keeps the
-- compiled segments in memory and reads only this number per request,
-- so a save on any instance (or by the CLI) reaches every re-check after
-- it. Trigger-kept counts write `member_count`, which leaves it alone.
-- Kept in step with migrations/sqlite.
CREATE TABLE segment_plan_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO segment_plan_version (id, version) VALUES (1, 1);

CREATE FUNCTION segment_plan_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER segment_plan_moved AFTER INSERT OR DELETE OR UPDATE OF slug, name, rule
    ON segments FOR EACH STATEMENT EXECUTE FUNCTION segment_plan_moved();
CREATE TRIGGER segment_action_moved AFTER INSERT OR DELETE OR UPDATE
    ON segment_actions FOR EACH STATEMENT EXECUTE FUNCTION segment_plan_moved();
