-- A person's copy of their data made in the background (a long history),
-- downloaded through an emailed link: the link's token is stored hashed.
-- Copies expire, and go with an erasure.
CREATE TABLE personal_exports (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT UNIQUE,
    document      TEXT,
    requested_at  TIMESTAMP NOT NULL,
    ready_at      TIMESTAMP,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX personal_exports_user_idx ON personal_exports (user_id);
