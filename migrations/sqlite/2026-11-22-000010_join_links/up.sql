-- Shareable join links. Only the token's digest is stored. uses counts
-- the join requests filed through the link; the conditional update that
-- increments it is what keeps it within max_uses.
CREATE TABLE join_links (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    group_id     TEXT REFERENCES groups (id) ON DELETE CASCADE,
    expires_at   TEXT,
    max_uses     INTEGER,
    uses         INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    rotated_at   TEXT,
    disabled_at  TEXT
);
CREATE INDEX join_links_account_idx ON join_links (account_id, id);

-- A person's request to join, filed through a link. At most one pending
-- request per person and account.
CREATE TABLE join_requests (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    link_id      TEXT REFERENCES join_links (id) ON DELETE SET NULL,
    group_id     TEXT REFERENCES groups (id) ON DELETE SET NULL,
    message      TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    reason       TEXT
);
CREATE UNIQUE INDEX join_requests_one_pending_idx ON join_requests (account_id, user_id) WHERE status = 'pending';
CREATE INDEX join_requests_account_idx ON join_requests (account_id, id);
CREATE INDEX join_requests_user_idx ON join_requests (user_id, id);
