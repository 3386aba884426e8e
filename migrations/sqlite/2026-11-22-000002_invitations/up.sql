-- Invitation preferences live on the account row: read with every
-- invitation, changed rarely.
ALTER TABLE accounts ADD COLUMN invitation_ttl_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE accounts ADD COLUMN reminder_days TEXT NOT NULL DEFAULT '3,14,60';
ALTER TABLE accounts ADD COLUMN invitation_email_policy TEXT NOT NULL DEFAULT 'any';

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    status          TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    reminders_sent  INTEGER NOT NULL DEFAULT 0,
    decided_at      TEXT
);
-- The rule "one pending invitation per (account, email)" is the database's,
-- so concurrent invites cannot both pass a read-then-write check.
CREATE UNIQUE INDEX invitations_one_pending_idx ON invitations (account_id, email) WHERE status = 'pending';
CREATE INDEX invitations_account_idx ON invitations (account_id, id);
CREATE INDEX invitations_email_idx ON invitations (email, status);
CREATE INDEX invitations_pending_idx ON invitations (status, expires_at);

CREATE TABLE invitation_roles (
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    role_id        TEXT NOT NULL REFERENCES roles (id),
    PRIMARY KEY (invitation_id, role_id)
);

-- Transactional outbox: rows are written in the transaction that causes
-- them and delivered afterwards by a worker, at least once.
CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    html_body     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    delivered_at  TEXT
);
CREATE INDEX outbox_undelivered_idx ON outbox (available_at) WHERE delivered_at IS NULL;

CREATE TABLE email_verifications (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id);
