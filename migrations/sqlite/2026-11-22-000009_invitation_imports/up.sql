-- An invitation can make the invitee a plain member of groups, without a
-- role inside them (a spreadsheet row's "Design" rather than "Design:developer").
CREATE TABLE invitation_groups (
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, group_id)
);
CREATE INDEX invitation_groups_group_idx ON invitation_groups (group_id);

-- A spreadsheet upload. next_row is the cursor of the background job: the
-- rows before it have their result, written in the same transaction as
-- their invitations, so a crash never invites a row twice or loses one.
CREATE TABLE invitation_imports (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uploaded_by   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name     TEXT,
    status        TEXT NOT NULL,
    total         INTEGER NOT NULL,
    processed     INTEGER NOT NULL DEFAULT 0,
    invited       INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    next_row      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    completed_at  TEXT
);
CREATE INDEX invitation_imports_account_idx ON invitation_imports (account_id, id);
CREATE INDEX invitation_imports_open_idx ON invitation_imports (created_at) WHERE status <> 'completed';

-- The rows as read from the file; rejection_* is set for rows refused
-- before any database check (malformed, invalid email, duplicate).
CREATE TABLE invitation_import_rows (
    import_id          TEXT NOT NULL REFERENCES invitation_imports (id) ON DELETE CASCADE,
    row_number         INTEGER NOT NULL,
    email              TEXT NOT NULL,
    first_name         TEXT NOT NULL,
    last_name          TEXT NOT NULL,
    roles              TEXT NOT NULL,
    groups             TEXT NOT NULL,
    rejection_code     TEXT,
    rejection_message  TEXT,
    PRIMARY KEY (import_id, row_number)
);

-- One result per row, never two: the key refuses a second.
CREATE TABLE invitation_import_results (
    import_id      TEXT NOT NULL REFERENCES invitation_imports (id) ON DELETE CASCADE,
    row_number     INTEGER NOT NULL,
    email          TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    code           TEXT NOT NULL,
    message        TEXT NOT NULL,
    invitation_id  TEXT REFERENCES invitations (id) ON DELETE SET NULL,
    PRIMARY KEY (import_id, row_number)
);
