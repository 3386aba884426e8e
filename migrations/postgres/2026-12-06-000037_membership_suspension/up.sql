-- A membership is active or suspended (by an administrator or a
-- directory): a suspended member keeps their roles and groups on record,
-- counts as a seat, and is refused everywhere in the account. A change of
-- status names the member for the authorization cache, as a change of
-- their roles does.
ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE memberships ADD COLUMN suspended_at TIMESTAMP;
CREATE INDEX memberships_status_idx ON memberships (account_id, status);
DROP TRIGGER memberships_authorization ON memberships;
CREATE TRIGGER memberships_authorization AFTER INSERT OR DELETE OR UPDATE OF account_id, user_id, status ON memberships
    FOR EACH ROW EXECUTE FUNCTION roster_membership_changed();
