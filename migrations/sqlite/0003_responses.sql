-- Respondents' progress through a quiz. Kept in step with migrations/postgres.

-- The answers so far as JSON (question key -> answer), so a step is read
-- in one row; the answers table keeps one queryable row per choice.
ALTER TABLE quiz_sessions ADD COLUMN answers TEXT NOT NULL DEFAULT '{}';
CREATE INDEX quiz_sessions_by_quiz ON quiz_sessions (quiz_id, started_at);
