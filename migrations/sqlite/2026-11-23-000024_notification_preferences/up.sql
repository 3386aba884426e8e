-- Which non-transactional emails a member gets (a row: they chose), and
-- the account's defaults for members who never chose. No row: on.
CREATE TABLE notification_preferences (
    membership_id  TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    topic          TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (membership_id, topic)
);
CREATE TABLE notification_defaults (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    topic       TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, topic)
);
