-- A membership is active or suspended (by an administrator or a
-- directory): a suspended member keeps their roles and groups on record,
-- counts as a seat, and is refused everywhere in the account. A change of
-- status names the member for the authorization cache, as a change of
-- their roles does (as in PostgreSQL's migration 37).
ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE memberships ADD COLUMN suspended_at TEXT;
CREATE INDEX memberships_status_idx ON memberships (account_id, status);
DROP TRIGGER memberships_authorization_update;
CREATE TRIGGER memberships_authorization_update AFTER UPDATE OF account_id, user_id, status ON memberships BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id || ':' || old.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || old.user_id FROM account_links WHERE parent_id = old.account_id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.account_id || ':' || new.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || new.user_id FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;
