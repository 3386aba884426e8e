-- When each member last made an authenticated request in the account,
-- written at most every few minutes; NULL: not since this was recorded.
ALTER TABLE memberships ADD COLUMN last_active_at TEXT;
CREATE INDEX memberships_activity_idx ON memberships (account_id, last_active_at);
