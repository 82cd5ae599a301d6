-- A quiz session belongs to the browser that started it, not to whoever
-- the contact turns out to be: the visitor id travels in links and anyone
-- may type anyone's email, so neither may show a session's answers or
-- result. The key is a secret the browser holds in an HttpOnly cookie.
-- Sessions started before this have no key and are no longer resumed.
-- Kept in step with migrations/postgres.
ALTER TABLE quiz_sessions ADD COLUMN browser_key TEXT;
CREATE INDEX quiz_sessions_by_browser ON quiz_sessions (browser_key, quiz_id, started_at, id)
    WHERE browser_key IS NOT NULL;
