-- Contacts without an owner (nearly all: visitors, until a lead is given
-- to someone) need no entry in the owner index, as every lookup names an
-- owner. At a million contacts that was 10 MB, and an entry written for
-- each new visitor. Kept in step with migrations/sqlite.
DROP INDEX contacts_by_owner;
CREATE INDEX contacts_by_owner ON contacts (owner_id) WHERE owner_id IS NOT NULL;
