CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    html_body     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    delivered_at  TEXT
);
CREATE INDEX outbox_undelivered_idx ON outbox (available_at) WHERE delivered_at IS NULL;
INSERT INTO outbox
SELECT id, kind, json_extract(payload, '$.recipient'), json_extract(payload, '$.subject'),
       json_extract(payload, '$.text_body'), json_extract(payload, '$.html_body'),
       created_at, available_at, attempts, last_error, done_at
FROM jobs WHERE kind = 'email';
DROP TABLE jobs;
