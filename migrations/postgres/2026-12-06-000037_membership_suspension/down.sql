DROP TRIGGER memberships_authorization ON memberships;
CREATE TRIGGER memberships_authorization AFTER INSERT OR DELETE OR UPDATE OF account_id, user_id ON memberships
    FOR EACH ROW EXECUTE FUNCTION roster_membership_changed();
DROP INDEX memberships_status_idx;
ALTER TABLE memberships DROP COLUMN suspended_at;
ALTER TABLE memberships DROP COLUMN status;
