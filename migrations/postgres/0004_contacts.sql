-- Contacts: visitor ids, tracking settings, indexes for the admin.
-- Kept in step with migrations/sqlite.

-- Every visitor id a contact was seen under. contacts.visitor_id keeps the
-- first one for reference; this table is what lookups use, so a merged
-- contact keeps all of its browsers.
CREATE TABLE contact_visitors (
    visitor_id TEXT PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    first_seen BIGINT NOT NULL
);
CREATE INDEX contact_visitors_by_contact ON contact_visitors (contact_id);
INSERT INTO contact_visitors (visitor_id, contact_id, first_seen)
    SELECT visitor_id, id, first_seen FROM contacts WHERE visitor_id IS NOT NULL;

-- One row. The site key is public (it is in /t.js): it only lets browsers
-- on the allowed origins (one per line) send events for their own visitor.
CREATE TABLE tracking_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    site_key TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '',
    retention_days BIGINT NOT NULL DEFAULT 180
);
INSERT INTO tracking_settings (id, site_key) VALUES (1, 'qfs_' || md5(random()::text || clock_timestamp()::text));

-- A contact's timeline, newest first, paged by (occurred_at, id).
CREATE INDEX events_timeline ON events (contact_id, occurred_at, id);
-- The admin list, newest activity first; the retention job.
CREATE INDEX contacts_by_last_seen ON contacts (last_seen, id);
CREATE INDEX contacts_anonymous_by_last_seen ON contacts (last_seen) WHERE email IS NULL;
