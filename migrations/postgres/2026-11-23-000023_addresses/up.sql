-- The company's addresses: business, billing and shipping, one default per
-- kind. `lines` holds one to three lines separated by line breaks (a
-- line itself has none).
CREATE TABLE addresses (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    lines        TEXT NOT NULL,
    city         TEXT NOT NULL,
    region       TEXT NOT NULL,
    postal_code  TEXT NOT NULL,
    country      TEXT NOT NULL,
    is_default   BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX addresses_account_idx ON addresses (account_id, id);
CREATE UNIQUE INDEX addresses_default_idx ON addresses (account_id, kind) WHERE is_default;
