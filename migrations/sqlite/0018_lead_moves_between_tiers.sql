-- A lead placed again in another tier failed on SQLite: the leads upsert's
-- conflict handling overrides the `OR IGNORE` of the statements its
-- triggers run, so adding the new tier's count row when it was there
-- already broke the unique key, and the completion with it. The count row
-- is now added only when missing. Postgres's triggers were not affected.
DROP TRIGGER lead_added;
CREATE TRIGGER lead_added AFTER INSERT ON leads
BEGIN
    INSERT INTO lead_counts (tier_slug, leads) SELECT NEW.tier_slug, 0
        WHERE NOT EXISTS (SELECT 1 FROM lead_counts WHERE tier_slug = NEW.tier_slug);
    UPDATE lead_counts SET leads = leads + 1 WHERE tier_slug = NEW.tier_slug;
END;

DROP TRIGGER lead_moved;
CREATE TRIGGER lead_moved AFTER UPDATE OF tier_slug ON leads
WHEN OLD.tier_slug <> NEW.tier_slug
BEGIN
    UPDATE lead_counts SET leads = leads - 1 WHERE tier_slug = OLD.tier_slug;
    INSERT INTO lead_counts (tier_slug, leads) SELECT NEW.tier_slug, 0
        WHERE NOT EXISTS (SELECT 1 FROM lead_counts WHERE tier_slug = NEW.tier_slug);
    UPDATE lead_counts SET leads = leads + 1 WHERE tier_slug = NEW.tier_slug;
END;
