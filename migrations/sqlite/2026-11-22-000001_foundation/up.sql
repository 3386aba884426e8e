-- Ids are UUIDs stored as their canonical text and times are UTC
-- timestamps without zone: the only shapes diesel's MultiConnection maps
-- identically on PostgreSQL and SQLite (see persistence/src/lib.rs).

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    password_hash   TEXT,
    email_verified  BOOLEAN NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Built-in roles have no account; custom roles (a later migration) do.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    account_id  TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    built_in    BOOLEAN NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX roles_built_in_key_idx ON roles (key) WHERE account_id IS NULL;
CREATE UNIQUE INDEX roles_account_key_idx ON roles (account_id, key) WHERE account_id IS NOT NULL;

INSERT INTO roles (id, account_id, key, name, built_in, created_at) VALUES
    ('00000000-0000-4000-8000-000000000001', NULL, 'owner', 'Owner', 1, '2026-11-22 00:00:00'),
    ('00000000-0000-4000-8000-000000000002', NULL, 'administrator', 'Administrator', 1, '2026-11-22 00:00:00');

CREATE TABLE memberships (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    UNIQUE (account_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, account_id);

-- group_id stays NULL for account-wide assignments until groups arrive.
CREATE TABLE role_assignments (
    id             TEXT PRIMARY KEY,
    membership_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    role_id        TEXT NOT NULL REFERENCES roles (id),
    group_id       TEXT,
    created_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX role_assignments_account_wide_idx ON role_assignments (membership_id, role_id) WHERE group_id IS NULL;
CREATE UNIQUE INDEX role_assignments_group_idx ON role_assignments (membership_id, role_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX role_assignments_role_idx ON role_assignments (role_id);
