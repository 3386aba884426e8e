-- An account its owner deleted waits out a grace period (a row here):
-- nothing in it changes, its links, keys and webhooks stop, and an owner
-- may restore it (the row goes). After `erase_after` the job runner erases
-- it. The row's coming and going is an authorization change, as a change
-- of plan is (as in PostgreSQL's migration 42).
CREATE TABLE account_deletions (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    requested_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    requested_at  TEXT NOT NULL,
    erase_after   TEXT NOT NULL
);
CREATE INDEX account_deletions_erase_after_idx ON account_deletions (erase_after);
CREATE TRIGGER account_deletions_authorization_insert AFTER INSERT ON account_deletions BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT new.account_id
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;
CREATE TRIGGER account_deletions_authorization_delete AFTER DELETE ON account_deletions BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT old.account_id
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.account_id AND status = 'active';
END;
