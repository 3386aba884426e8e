-- The company's contacts: primary (at most one), billing, technical,
-- security, legal. Phone numbers are stored in E.164.
CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX contacts_account_idx ON contacts (account_id, id);
CREATE UNIQUE INDEX contacts_primary_idx ON contacts (account_id) WHERE kind = 'primary';
