-- Changes to one member's roles name the member too (`account:user`), so
-- that instances forget only that member's cached decisions (and the
-- account's API keys, whose roles derive from their creators') instead of
-- everyone's in the account: an invitation accepted no longer makes every
-- administrator's next request read the database. Changes that reach every
-- member (role definitions, links, plans, API keys) still name the account.
DROP FUNCTION roster_authorization_changed(TEXT);
CREATE FUNCTION roster_authorization_changed(subject TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    seen TEXT := coalesce(current_setting('roster.authorization_changed', true), '');
    account TEXT := split_part(subject, ':', 1);
    member TEXT := split_part(subject, ':', 2);
    child TEXT;
BEGIN
    IF subject IS NULL OR position(subject || ' ' IN seen) > 0 THEN
        RETURN;
    END IF;
    PERFORM set_config('roster.authorization_changed', seen || subject || ' ', true);
    PERFORM pg_notify('roster_authorization', subject);
    FOR child IN SELECT child_id FROM account_links WHERE parent_id = account AND status = 'active' LOOP
        PERFORM roster_authorization_changed(child || CASE WHEN member = '' THEN '' ELSE ':' || member END);
    END LOOP;
END $$;

-- What a row names: its account, or its account and member.
CREATE OR REPLACE FUNCTION roster_account_of(via TEXT, id TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT CASE via
        WHEN 'account' THEN id
        WHEN 'membership' THEN (SELECT account_id || ':' || user_id FROM memberships WHERE memberships.id = $2)
        WHEN 'role' THEN (SELECT account_id FROM roles WHERE roles.id = $2)
        WHEN 'group' THEN (SELECT account_id FROM groups WHERE groups.id = $2)
        WHEN 'api_key' THEN (SELECT account_id FROM api_keys WHERE api_keys.id = $2)
    END
$$;

-- A membership row names its own member.
CREATE FUNCTION roster_membership_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM roster_authorization_changed(OLD.account_id || ':' || OLD.user_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM roster_authorization_changed(NEW.account_id || ':' || NEW.user_id);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER memberships_authorization ON memberships;
CREATE TRIGGER memberships_authorization AFTER INSERT OR DELETE OR UPDATE OF account_id, user_id ON memberships
    FOR EACH ROW EXECUTE FUNCTION roster_membership_changed();
DROP TRIGGER group_members_authorization ON group_members;
CREATE TRIGGER group_members_authorization AFTER INSERT OR DELETE OR UPDATE ON group_members
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('membership', 'membership_id');
DROP TRIGGER linked_roles_authorization ON linked_roles;
CREATE TRIGGER linked_roles_authorization AFTER INSERT OR DELETE OR UPDATE ON linked_roles
    FOR EACH ROW EXECUTE FUNCTION roster_authorization_row_changed('membership', 'membership_id');
-- role_assignments already went through 'membership', which now names the member.
