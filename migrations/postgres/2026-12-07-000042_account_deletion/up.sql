-- An account its owner deleted waits out a grace period (a row here):
-- nothing in it changes, its links, keys and webhooks stop, and an owner
-- may restore it (the row goes). After `erase_after` the job runner erases
-- it. The row's coming and going is an authorization change, as a change
-- of plan is.
CREATE TABLE account_deletions (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    requested_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    requested_at  TIMESTAMP NOT NULL,
    erase_after   TIMESTAMP NOT NULL
);
CREATE INDEX account_deletions_erase_after_idx ON account_deletions (erase_after);
CREATE TRIGGER account_deletions_authorization AFTER INSERT OR DELETE ON account_deletions
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
