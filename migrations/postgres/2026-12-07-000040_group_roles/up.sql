-- Roles a group gives the people in it for as long as they are in it:
-- configured in Roster, whatever puts them in the group (the account's
-- directory, an administrator, an invitation).
CREATE TABLE group_roles (
    group_id  TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    -- Held inside the group (true) or account-wide (false).
    in_group  BOOLEAN NOT NULL,
    PRIMARY KEY (group_id, role_id, in_group)
);
CREATE INDEX group_roles_role_idx ON group_roles (role_id);

-- The group whose roles gave an assignment: leaving the group takes it back.
ALTER TABLE role_assignments ADD COLUMN via_group_id TEXT REFERENCES groups (id) ON DELETE CASCADE;
CREATE INDEX role_assignments_via_group_idx ON role_assignments (via_group_id) WHERE via_group_id IS NOT NULL;
