-- Back to stays indexed by contact alone (0023 undone). With the segment
-- and the exit in this index, SQLite planned the exits of a listed
-- re-check (`contact_id IN (...)` of a segment's open stays) as a scan of
-- every stay whenever its statistics were older than the stays: each
-- ingested batch took 150-190 ms instead of 20-60 ms at a million
-- contacts. Kept in step with the other database's migrations.
DROP INDEX segment_memberships_by_contact;
CREATE INDEX segment_memberships_by_contact ON segment_memberships (contact_id);
