DROP TRIGGER linked_roles_authorization ON linked_roles;
CREATE TRIGGER linked_roles_authorization AFTER INSERT OR DELETE OR UPDATE ON linked_roles
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
DROP TRIGGER group_members_authorization ON group_members;
CREATE TRIGGER group_members_authorization AFTER INSERT OR DELETE OR UPDATE ON group_members
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('group', 'group_id');
DROP TRIGGER memberships_authorization ON memberships;
CREATE TRIGGER memberships_authorization AFTER INSERT OR DELETE OR UPDATE OF account_id, user_id ON memberships
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
DROP FUNCTION roster_membership_changed();
CREATE OR REPLACE FUNCTION roster_account_of(via TEXT, id TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT CASE via
        WHEN 'account' THEN id
        WHEN 'membership' THEN (SELECT account_id FROM memberships WHERE memberships.id = $2)
        WHEN 'role' THEN (SELECT account_id FROM roles WHERE roles.id = $2)
        WHEN 'group' THEN (SELECT account_id FROM groups WHERE groups.id = $2)
        WHEN 'api_key' THEN (SELECT account_id FROM api_keys WHERE api_keys.id = $2)
    END
$$;
DROP FUNCTION roster_authorization_changed(TEXT);
CREATE FUNCTION roster_authorization_changed(account TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    seen TEXT := coalesce(current_setting('roster.authorization_changed', true), '');
    child TEXT;
BEGIN
    IF account IS NULL OR position(account IN seen) > 0 THEN
        RETURN;
    END IF;
    PERFORM set_config('roster.authorization_changed', seen || account || ' ', true);
    PERFORM pg_notify('roster_authorization', account);
    FOR child IN SELECT child_id FROM account_links WHERE parent_id = account AND status = 'active' LOOP
        PERFORM roster_authorization_changed(child);
    END LOOP;
END $$;
