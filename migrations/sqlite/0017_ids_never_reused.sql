-- SQLite gives the next row the id of the newest row deleted, unless the
-- table says AUTOINCREMENT: after a merge or an erasure a new visitor
-- took the gone contact's id, and with it whatever still named that id
-- (the keys that count a quiz view once per contact, links to the
-- contact in the admin). Postgres never reuses an id; now SQLite doesn't
-- either. The tables are rebuilt as SQLite documents it, with foreign
-- keys off for the run (see SqlStore::migrate), so nothing referring to
-- them is touched. Postgres needs no counterpart.
CREATE TABLE contacts_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    visitor_id TEXT UNIQUE,
    email TEXT UNIQUE,
    name TEXT,
    consent BOOLEAN NOT NULL DEFAULT 0,
    hidden_fields TEXT NOT NULL DEFAULT '{}',
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL
);
INSERT INTO contacts_rebuilt
    (id, visitor_id, email, name, consent, hidden_fields, first_seen, last_seen, owner_id)
    SELECT id, visitor_id, email, name, consent, hidden_fields, first_seen, last_seen, owner_id
    FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;
CREATE INDEX contacts_by_last_seen ON contacts (last_seen, id);
CREATE INDEX contacts_anonymous_by_last_seen ON contacts (last_seen) WHERE email IS NULL;
CREATE INDEX contacts_by_owner ON contacts (owner_id) WHERE owner_id IS NOT NULL;

-- A discarded bot's session gave its id to the next respondent's.
CREATE TABLE quiz_sessions_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    quiz_id BIGINT NOT NULL REFERENCES quizzes(id),
    version_id BIGINT NOT NULL REFERENCES quiz_versions(id),
    started_at BIGINT NOT NULL,
    completed_at BIGINT,
    score DOUBLE PRECISION,
    current_question TEXT,
    answers TEXT NOT NULL DEFAULT '{}',
    browser_key TEXT
);
INSERT INTO quiz_sessions_rebuilt
    (id, contact_id, quiz_id, version_id, started_at, completed_at, score, current_question, answers, browser_key)
    SELECT id, contact_id, quiz_id, version_id, started_at, completed_at, score, current_question, answers, browser_key
    FROM quiz_sessions;
DROP TABLE quiz_sessions;
ALTER TABLE quiz_sessions_rebuilt RENAME TO quiz_sessions;
CREATE INDEX quiz_sessions_by_contact ON quiz_sessions (contact_id, quiz_id, started_at);
CREATE INDEX quiz_sessions_by_quiz ON quiz_sessions (quiz_id, started_at);
CREATE INDEX quiz_sessions_by_browser ON quiz_sessions (browser_key, quiz_id, started_at, id)
    WHERE browser_key IS NOT NULL;
