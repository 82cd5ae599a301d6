-- A re-check asks, for each contact a rule matches, whether that contact
-- has a stay in the segment closed after the check's moment. By contact
-- alone, that read every stay row of the contact; with the segment and
-- the exit in the index it reads the index only. Every other use of the
-- contact-only index has the contact first, so this one serves them too.
-- Kept in step with the other database's migrations.
DROP INDEX segment_memberships_by_contact;
CREATE INDEX segment_memberships_by_contact
    ON segment_memberships (contact_id, segment_id, exited_at);
