-- Authorized partners of an account (third parties acting for it; never
-- members) and the API keys granted to them.
CREATE TABLE partners (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- lower(name): one partner of a name per account.
    name_key     TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TEXT      NOT NULL
);
CREATE UNIQUE INDEX partners_name_idx ON partners (account_id, name_key);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    partner_id    TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- Space-separated permission keys the key carries.
    permissions   TEXT NOT NULL,
    group_id      TEXT REFERENCES groups (id) ON DELETE CASCADE,
    -- Space-separated addresses and CIDR blocks; empty: any.
    allowed_ips   TEXT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TEXT      NOT NULL,
    expires_at    TEXT      NOT NULL,
    revoked_at    TEXT     ,
    last_used_at  TEXT     ,
    last_used_ip  TEXT
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, id);

-- A key's secrets, as SHA-256 digests: one, or two while a rotation's
-- overlap lets the old one work until `valid_until`.
CREATE TABLE api_key_secrets (
    digest       TEXT PRIMARY KEY,
    key_id       TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    -- What lists show: `roster_` and the first random characters.
    shown        TEXT NOT NULL,
    created_at   TEXT      NOT NULL,
    valid_until  TEXT     
);
CREATE INDEX api_key_secrets_key_idx ON api_key_secrets (key_id);
