DROP TRIGGER memberships_authorization_update;
CREATE TRIGGER memberships_authorization_update AFTER UPDATE OF account_id, user_id ON memberships BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id || ':' || old.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || old.user_id FROM account_links WHERE parent_id = old.account_id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.account_id || ':' || new.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || new.user_id FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;
DROP INDEX memberships_status_idx;
ALTER TABLE memberships DROP COLUMN suspended_at;
ALTER TABLE memberships DROP COLUMN status;
