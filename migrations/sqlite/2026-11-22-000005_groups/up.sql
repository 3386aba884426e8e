CREATE TABLE groups (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
-- Group names are unique per account, whatever their case.
CREATE UNIQUE INDEX groups_account_name_idx ON groups (account_id, lower(name));

-- Membership of a group is membership of the account first: removing
-- someone from the account removes them from its groups.
CREATE TABLE group_members (
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    membership_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (group_id, membership_id)
);
CREATE INDEX group_members_membership_idx ON group_members (membership_id);
CREATE INDEX role_assignments_by_group_idx ON role_assignments (group_id) WHERE group_id IS NOT NULL;
