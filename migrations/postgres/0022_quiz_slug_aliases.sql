-- The addresses a quiz had before it was renamed: links and embeds made
-- with an old address are sent on to the quiz's address now, unless
-- another quiz has taken that address since. Kept in step with the other
-- database's migrations.
CREATE TABLE quiz_slug_aliases (
    slug TEXT PRIMARY KEY,
    quiz_id BIGINT NOT NULL REFERENCES quizzes(id) ON DELETE CASCADE,
    renamed_at BIGINT NOT NULL
);
