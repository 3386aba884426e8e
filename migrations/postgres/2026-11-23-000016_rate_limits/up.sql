-- One counter per limited key, shared by every instance on this database.
-- The key is the limit's name and a digest of what it counts by (an email,
-- a client address, an account), so that mistyped emails, or passwords
-- typed into the email field, are not stored readable. A window_start in
-- the future is a back-off: the key stays refused until a window after it.
CREATE TABLE rate_limits (
    key           TEXT PRIMARY KEY,
    window_start  TIMESTAMP NOT NULL,
    hits          INTEGER NOT NULL
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
