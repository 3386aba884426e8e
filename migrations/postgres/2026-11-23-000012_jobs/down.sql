CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    html_body     TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    available_at  TIMESTAMP NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    delivered_at  TIMESTAMP
);
CREATE INDEX outbox_undelivered_idx ON outbox (available_at) WHERE delivered_at IS NULL;
INSERT INTO outbox
SELECT id, kind, payload::json->>'recipient', payload::json->>'subject', payload::json->>'text_body',
       payload::json->>'html_body', created_at, available_at, attempts, last_error, done_at
FROM jobs WHERE kind = 'email';
DROP TABLE jobs;
