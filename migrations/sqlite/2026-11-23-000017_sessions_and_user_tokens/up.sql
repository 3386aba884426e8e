-- A session is one sign-in: the family of refresh tokens it rotates
-- through, with where it came from, so that users can see their sessions and
-- end them. Access tokens name it in their `sid` claim.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    user_agent    TEXT,
    client_ip     TEXT,
    ended_at      TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);

-- Sign-ins from before this migration become sessions without an origin.
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ended_at)
SELECT family_id, MIN(user_id), MIN(created_at), MAX(created_at), MAX(expires_at),
       CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END
FROM refresh_tokens
GROUP BY family_id;

-- Single-use emailed tokens of every purpose share one table: proving an
-- address (verify_email), resetting a password (reset_password) and moving
-- to a new address (change_email, whose `email` is the new one).
ALTER TABLE email_verifications RENAME TO user_tokens;
ALTER TABLE user_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT 'verify_email';
