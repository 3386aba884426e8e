-- Responses to POSTs sent with an Idempotency-Key, per signed-in user, so
-- a retried request is answered with the first response instead of being
-- carried out twice. status is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    status        INTEGER,
    content_type  TEXT,
    location      TEXT,
    body          TEXT,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
