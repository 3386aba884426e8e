-- Linked accounts: a parent (a global account) and its children (regional
-- accounts). A link is requested by an owner of the parent and becomes
-- active when an owner of the child accepts it. One parent per child, one
-- level deep: a parent is nobody's child.
CREATE TABLE account_links (
    id            TEXT PRIMARY KEY,
    parent_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    child_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- pending | active
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  TIMESTAMP NOT NULL,
    accepted_by   TEXT,
    accepted_at   TIMESTAMP,
    CHECK (parent_id <> child_id)
);
CREATE UNIQUE INDEX account_links_child_idx ON account_links (child_id);
CREATE INDEX account_links_parent_idx ON account_links (parent_id);

-- A parent member's account-wide role that applies in every linked child.
-- It lasts as long as the member holds the role (the membership's role
-- changes remove the marks of roles it no longer holds).
CREATE TABLE linked_roles (
    membership_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    role_id        TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    -- The parent account, for listing a child's inherited people.
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (membership_id, role_id)
);
CREATE INDEX linked_roles_account_idx ON linked_roles (account_id, membership_id);
