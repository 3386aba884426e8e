DROP INDEX memberships_activity_idx;
ALTER TABLE memberships DROP COLUMN last_active_at;
