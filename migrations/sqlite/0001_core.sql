-- quizfunnel core schema (SQLite). Kept in step with migrations/postgres.
-- Times are UTC milliseconds since the Unix epoch, so rule windows compare
-- the same way on both databases.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('owner', 'marketer', 'sales')),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE quizzes (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    draft TEXT NOT NULL,
    draft_revision BIGINT NOT NULL DEFAULT 1,
    published_version_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE quiz_versions (
    id INTEGER PRIMARY KEY,
    quiz_id BIGINT NOT NULL REFERENCES quizzes(id),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    UNIQUE (quiz_id, version)
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    visitor_id TEXT UNIQUE,
    email TEXT UNIQUE,
    name TEXT,
    consent BOOLEAN NOT NULL DEFAULT 0,
    hidden_fields TEXT NOT NULL DEFAULT '{}',
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);

-- One row per attribute so rules compare typed values with plain indexed SQL
-- on both databases. value_num is set whenever the value reads as a number.
CREATE TABLE contact_attributes (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('string', 'number', 'bool', 'date')),
    value_text TEXT NOT NULL,
    value_num DOUBLE PRECISION,
    PRIMARY KEY (contact_id, key)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    occurred_at BIGINT NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX events_by_contact ON events (contact_id, name, occurred_at);
CREATE INDEX events_by_name ON events (name, occurred_at);

CREATE TABLE quiz_sessions (
    id INTEGER PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    quiz_id BIGINT NOT NULL REFERENCES quizzes(id),
    version_id BIGINT NOT NULL REFERENCES quiz_versions(id),
    started_at BIGINT NOT NULL,
    completed_at BIGINT,
    score DOUBLE PRECISION,
    current_question TEXT
);
CREATE INDEX quiz_sessions_by_contact ON quiz_sessions (contact_id, quiz_id, started_at);

CREATE TABLE session_category_scores (
    session_id BIGINT NOT NULL REFERENCES quiz_sessions(id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (session_id, category)
);

-- One row per chosen option; free-text answers use option_key ''.
CREATE TABLE answers (
    session_id BIGINT NOT NULL REFERENCES quiz_sessions(id) ON DELETE CASCADE,
    question_key TEXT NOT NULL,
    option_key TEXT NOT NULL DEFAULT '',
    value_text TEXT,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, question_key, option_key)
);

CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    rule TEXT NOT NULL,
    member_count BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- One row per stay: a contact who leaves and comes back has two rows.
CREATE TABLE segment_memberships (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    entered_at BIGINT NOT NULL,
    exited_at BIGINT
);
CREATE UNIQUE INDEX segment_memberships_current
    ON segment_memberships (segment_id, contact_id) WHERE exited_at IS NULL;
CREATE INDEX segment_memberships_by_contact ON segment_memberships (contact_id);
