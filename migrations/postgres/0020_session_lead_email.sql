-- The email a respondent gave on their result page for this session: the
-- page says where the result went only to whoever gave it there, never
-- the address of someone else on the same contact (a shared link or
-- device). Kept in step with migrations/sqlite.
ALTER TABLE quiz_sessions ADD COLUMN lead_email TEXT;
