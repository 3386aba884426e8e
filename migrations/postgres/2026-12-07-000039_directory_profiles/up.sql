-- What an account's directory (SCIM) says about each person it provisions,
-- beside Roster's own profile: its id for them (externalId) and the names
-- it sent. Whether the directory made the Roster user decides whether its
-- names also become the user's own (a directory does not rename someone
-- who came with their own account).
CREATE TABLE scim_users (
    membership_id  TEXT PRIMARY KEY REFERENCES memberships (id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    external_id    TEXT,
    given_name     TEXT,
    family_name    TEXT,
    display_name   TEXT,
    made_user      BOOLEAN NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX scim_users_external_id_idx ON scim_users (account_id, external_id);

-- The directory's id for a group it pushed.
ALTER TABLE groups ADD COLUMN external_id TEXT;
CREATE INDEX groups_external_id_idx ON groups (account_id, external_id);

-- The roles a person provisioned by the directory starts with; none
-- configured: the built-in member role.
CREATE TABLE directory_default_roles (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role_id     TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, role_id)
);
CREATE INDEX directory_default_roles_role_idx ON directory_default_roles (role_id);
