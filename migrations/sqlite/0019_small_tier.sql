-- Below how many contacts the admin warns that a tier is too small to act
-- on or measure; marketers set it on the playbook. Kept in step with
-- migrations/postgres.
ALTER TABLE tracking_settings ADD COLUMN small_tier BIGINT NOT NULL DEFAULT 30;
