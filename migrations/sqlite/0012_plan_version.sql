-- A number that moves whenever what a membership re-check needs moves: a
-- segment's rule, slug or name, or its actions. Each instance keeps the
-- compiled segments in memory and reads only this number per request,
-- so a save on any instance (or by the CLI) reaches every re-check after
-- it. Trigger-kept counts write `member_count`, which leaves it alone.
-- Kept in step with migrations/postgres.
CREATE TABLE segment_plan_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO segment_plan_version (id, version) VALUES (1, 1);

CREATE TRIGGER segment_plan_added AFTER INSERT ON segments
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
END;
CREATE TRIGGER segment_plan_changed AFTER UPDATE OF slug, name, rule ON segments
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
END;
CREATE TRIGGER segment_plan_removed AFTER DELETE ON segments
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
END;
CREATE TRIGGER segment_action_added AFTER INSERT ON segment_actions
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
END;
CREATE TRIGGER segment_action_changed AFTER UPDATE ON segment_actions
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
END;
CREATE TRIGGER segment_action_removed AFTER DELETE ON segment_actions
BEGIN
    UPDATE segment_plan_version SET version = version + 1;
END;
