-- Changes to one member's roles name the member too (`account:user`), so
-- that the cache forgets only that member's decisions (and the account's
-- API keys, whose roles derive from their creators') instead of everyone's
-- in the account; changes that reach every member still name the account.
-- As in PostgreSQL's migration 29; the triggers of migration 28 are
-- replaced, and the pending list and the log hold subjects.

DROP TRIGGER memberships_authorization_insert;
DROP TRIGGER memberships_authorization_delete;
DROP TRIGGER memberships_authorization_update;
DROP TRIGGER role_assignments_authorization_insert;
DROP TRIGGER role_assignments_authorization_delete;
DROP TRIGGER role_assignments_authorization_update;
DROP TRIGGER roles_authorization_delete;
DROP TRIGGER roles_authorization_update;
DROP TRIGGER role_permissions_authorization_insert;
DROP TRIGGER role_permissions_authorization_delete;
DROP TRIGGER role_permissions_authorization_update;
DROP TRIGGER group_members_authorization_insert;
DROP TRIGGER group_members_authorization_delete;
DROP TRIGGER group_members_authorization_update;
DROP TRIGGER api_keys_authorization_delete;
DROP TRIGGER api_keys_authorization_update;
DROP TRIGGER api_key_secrets_authorization_delete;
DROP TRIGGER api_key_secrets_authorization_update;
DROP TRIGGER linked_roles_authorization_insert;
DROP TRIGGER linked_roles_authorization_delete;
DROP TRIGGER linked_roles_authorization_update;
DROP TRIGGER account_links_authorization_insert;
DROP TRIGGER account_links_authorization_delete;
DROP TRIGGER account_links_authorization_update;
DROP TRIGGER accounts_authorization_update;
DROP TABLE authorization_pending;
CREATE TABLE authorization_pending (subject TEXT PRIMARY KEY) WITHOUT ROWID;
ALTER TABLE authorization_log RENAME COLUMN account_id TO subject;

CREATE TRIGGER memberships_authorization_insert AFTER INSERT ON memberships BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.account_id || ':' || new.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || new.user_id FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;

CREATE TRIGGER memberships_authorization_delete AFTER DELETE ON memberships BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id || ':' || old.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || old.user_id FROM account_links WHERE parent_id = old.account_id AND status = 'active';
END;

CREATE TRIGGER memberships_authorization_update AFTER UPDATE OF account_id, user_id ON memberships BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id || ':' || old.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || old.user_id FROM account_links WHERE parent_id = old.account_id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.account_id || ':' || new.user_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || ':' || new.user_id FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;

CREATE TRIGGER role_assignments_authorization_insert AFTER INSERT ON role_assignments BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = new.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = new.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = new.membership_id) AND status = 'active';
END;

CREATE TRIGGER role_assignments_authorization_delete AFTER DELETE ON role_assignments BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = old.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = old.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = old.membership_id) AND status = 'active';
END;

CREATE TRIGGER role_assignments_authorization_update AFTER UPDATE ON role_assignments BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = old.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = old.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = old.membership_id) AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = new.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = new.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = new.membership_id) AND status = 'active';
END;

CREATE TRIGGER roles_authorization_delete AFTER DELETE ON roles BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.account_id AND status = 'active';
END;

CREATE TRIGGER roles_authorization_update AFTER UPDATE OF account_id, key, kind ON roles BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.account_id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.account_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;

CREATE TRIGGER role_permissions_authorization_insert AFTER INSERT ON role_permissions BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM roles WHERE id = new.role_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM roles WHERE id = new.role_id) AND status = 'active';
END;

CREATE TRIGGER role_permissions_authorization_delete AFTER DELETE ON role_permissions BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM roles WHERE id = old.role_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM roles WHERE id = old.role_id) AND status = 'active';
END;

CREATE TRIGGER role_permissions_authorization_update AFTER UPDATE ON role_permissions BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM roles WHERE id = old.role_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM roles WHERE id = old.role_id) AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM roles WHERE id = new.role_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM roles WHERE id = new.role_id) AND status = 'active';
END;

CREATE TRIGGER group_members_authorization_insert AFTER INSERT ON group_members BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = new.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = new.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = new.membership_id) AND status = 'active';
END;

CREATE TRIGGER group_members_authorization_delete AFTER DELETE ON group_members BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = old.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = old.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = old.membership_id) AND status = 'active';
END;

CREATE TRIGGER group_members_authorization_update AFTER UPDATE ON group_members BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = old.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = old.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = old.membership_id) AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = new.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = new.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = new.membership_id) AND status = 'active';
END;

CREATE TRIGGER api_keys_authorization_delete AFTER DELETE ON api_keys BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.account_id AND status = 'active';
END;

CREATE TRIGGER api_keys_authorization_update AFTER UPDATE OF account_id, permissions, group_id, allowed_ips, created_by, expires_at, revoked_at ON api_keys BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.account_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.account_id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.account_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = new.account_id AND status = 'active';
END;

CREATE TRIGGER api_key_secrets_authorization_delete AFTER DELETE ON api_key_secrets BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM api_keys WHERE id = old.key_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM api_keys WHERE id = old.key_id) AND status = 'active';
END;

CREATE TRIGGER api_key_secrets_authorization_update AFTER UPDATE OF key_id, valid_until ON api_key_secrets BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM api_keys WHERE id = old.key_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM api_keys WHERE id = old.key_id) AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id FROM api_keys WHERE id = new.key_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = (SELECT account_id FROM api_keys WHERE id = new.key_id) AND status = 'active';
END;

CREATE TRIGGER linked_roles_authorization_insert AFTER INSERT ON linked_roles BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = new.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = new.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = new.membership_id) AND status = 'active';
END;

CREATE TRIGGER linked_roles_authorization_delete AFTER DELETE ON linked_roles BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = old.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = old.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = old.membership_id) AND status = 'active';
END;

CREATE TRIGGER linked_roles_authorization_update AFTER UPDATE ON linked_roles BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = old.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = old.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = old.membership_id) AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT (SELECT account_id || ':' || user_id FROM memberships WHERE id = new.membership_id) AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || (SELECT ':' || user_id FROM memberships WHERE id = new.membership_id) FROM account_links WHERE parent_id = (SELECT account_id FROM memberships WHERE id = new.membership_id) AND status = 'active';
END;

CREATE TRIGGER account_links_authorization_insert AFTER INSERT ON account_links BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.child_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = new.child_id AND status = 'active';
END;

CREATE TRIGGER account_links_authorization_delete AFTER DELETE ON account_links BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.child_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.child_id AND status = 'active';
END;

CREATE TRIGGER account_links_authorization_update AFTER UPDATE OF child_id, parent_id, status ON account_links BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.child_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.child_id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.child_id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = new.child_id AND status = 'active';
END;

CREATE TRIGGER accounts_authorization_update AFTER UPDATE OF plan ON accounts BEGIN
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT old.id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = old.id AND status = 'active';
    INSERT OR IGNORE INTO authorization_pending (subject)
        SELECT subject FROM (SELECT new.id AS subject) WHERE subject IS NOT NULL
        UNION SELECT child_id || '' FROM account_links WHERE parent_id = new.id AND status = 'active';
END;
