-- What happens when a contact enters a segment, and the webhook outbox.
-- Kept in step with migrations/postgres.
CREATE TABLE segment_actions (
    id INTEGER PRIMARY KEY,
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'handoff', 'tag')),
    url TEXT,
    secret TEXT,
    tag TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX segment_actions_by_segment ON segment_actions (segment_id);

-- One row per (action, stay): written in the transaction that opens the
-- stay, delivered later by the outbox. The key is what receivers use to
-- drop a second copy.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    action_id BIGINT NOT NULL REFERENCES segment_actions(id) ON DELETE CASCADE,
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL UNIQUE,
    entered_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    give_up_at BIGINT NOT NULL,
    last_code BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_segment ON webhook_deliveries (segment_id, created_at);
CREATE INDEX webhook_deliveries_by_contact ON webhook_deliveries (contact_id);

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);

ALTER TABLE contacts ADD COLUMN owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX contacts_by_owner ON contacts (owner_id);

-- Who a lead was given to, and (later) its status, with who and when;
-- actor_id is NULL for changes the playbook made.
CREATE TABLE lead_changes (
    id INTEGER PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    status TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lead_changes_by_contact ON lead_changes (contact_id, at);
CREATE INDEX lead_changes_by_owner ON lead_changes (owner_id, at);

ALTER TABLE tracking_settings ADD COLUMN allow_private_webhooks BOOLEAN NOT NULL DEFAULT 0;
