-- Every change that can alter an authorization decision names its account,
-- in the transaction that makes it, so that instances caching decisions
-- can drop them (api/src/access_cache.rs):
--
-- * `pg_notify('roster_authorization', account)` reaches every instance's
--   listener when the transaction commits (and never if it rolls back);
-- * the transaction-local setting `roster.authorization_changed` lists the
--   accounts for the instance that commits, which drops them at once.
--
-- Decisions about a linked child include its parent's roles, so a change in
-- a parent names its active children too. Columns that do not decide
-- anything (last activity, last use, names) are left out of UPDATE OF.
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

-- The account a row belongs to, through the table TG_ARGV names.
CREATE FUNCTION roster_account_of(via TEXT, id TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT CASE via
        WHEN 'account' THEN id
        WHEN 'membership' THEN (SELECT account_id FROM memberships WHERE memberships.id = $2)
        WHEN 'role' THEN (SELECT account_id FROM roles WHERE roles.id = $2)
        WHEN 'group' THEN (SELECT account_id FROM groups WHERE groups.id = $2)
        WHEN 'api_key' THEN (SELECT account_id FROM api_keys WHERE api_keys.id = $2)
    END
$$;

-- TG_ARGV: how to find the account (see roster_account_of) and the column
-- to find it by. Both the old and the new row count: a row that moves
-- changes what both sides may do.
CREATE FUNCTION roster_authorization_row_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM roster_authorization_changed(roster_account_of(TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[1]));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM roster_authorization_changed(roster_account_of(TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1]));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER memberships_authorization AFTER INSERT OR DELETE OR UPDATE OF account_id, user_id ON memberships
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
CREATE TRIGGER role_assignments_authorization AFTER INSERT OR DELETE OR UPDATE ON role_assignments
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('membership', 'membership_id');
CREATE TRIGGER roles_authorization AFTER DELETE OR UPDATE OF account_id, key, kind ON roles
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
CREATE TRIGGER role_permissions_authorization AFTER INSERT OR DELETE OR UPDATE ON role_permissions
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('role', 'role_id');
CREATE TRIGGER group_members_authorization AFTER INSERT OR DELETE OR UPDATE ON group_members
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('group', 'group_id');
CREATE TRIGGER api_keys_authorization
    AFTER DELETE OR UPDATE OF account_id, permissions, group_id, allowed_ips, created_by, expires_at, revoked_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
CREATE TRIGGER api_key_secrets_authorization AFTER DELETE OR UPDATE OF key_id, valid_until ON api_key_secrets
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('api_key', 'key_id');
CREATE TRIGGER linked_roles_authorization AFTER INSERT OR DELETE OR UPDATE ON linked_roles
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'account_id');
CREATE TRIGGER account_links_authorization AFTER INSERT OR DELETE OR UPDATE OF child_id, parent_id, status ON account_links
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'child_id');
CREATE TRIGGER accounts_authorization AFTER UPDATE OF plan ON accounts
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('account', 'id');
