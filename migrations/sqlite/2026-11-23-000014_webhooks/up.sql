-- Webhook endpoints of an account, the event types each subscribes to,
-- and one delivery per event and endpoint (its attempts are jobs).
CREATE TABLE webhook_endpoints (
    id                        TEXT PRIMARY KEY,
    account_id                TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url                       TEXT NOT NULL,
    description               TEXT NOT NULL,
    -- Signing secrets, sealed (AES-256-GCM) with the server's secrets key:
    -- an HMAC key cannot be stored as a digest.
    secret_sealed             TEXT NOT NULL,
    previous_secret_sealed    TEXT,
    previous_secret_until     TEXT,
    enabled                   BOOLEAN NOT NULL,
    disabled_reason           TEXT,
    failing_since             TEXT,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id, id);

CREATE TABLE webhook_subscriptions (
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_subscriptions_lookup_idx ON webhook_subscriptions (account_id, event_type);

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id          TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    payload           TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_status_code  INTEGER,
    last_error        TEXT,
    last_duration_ms  INTEGER,
    created_at        TEXT NOT NULL,
    last_attempt_at   TEXT
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
