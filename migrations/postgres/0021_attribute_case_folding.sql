-- `contains` ignores case in every script, but lower() under the "C"
-- collation (used so the result does not depend on the database's locale)
-- folds ASCII letters only: a text beyond ASCII keeps its folded copy
-- here, written by the server with the value (NULL for plain ASCII, which
-- lower() folds). Values stored before this migration are folded by the
-- server at start, found through the index below, which then stays empty.
-- Kept in step with migrations/sqlite.
ALTER TABLE contact_attributes ADD COLUMN value_folded TEXT;
CREATE INDEX contact_attributes_to_fold ON contact_attributes (contact_id, key)
    WHERE value_folded IS NULL AND octet_length(value_text) <> length(value_text);
