-- Bearer tokens with which an account's directory (Okta, Entra ID, …)
-- provisions it over SCIM 2.0: one account each, stored as digests, shown
-- once, revocable; they can do SCIM and nothing else.
CREATE TABLE scim_tokens (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_digest  TEXT NOT NULL UNIQUE,
    created_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX scim_tokens_account_idx ON scim_tokens (account_id);
