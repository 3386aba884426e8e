-- One queue for all background work: emails and webhooks written in the
-- transaction that causes them (the transactional outbox), spreadsheet
-- imports, and the periodic jobs (invitation reminders and expiry,
-- clean-up). A worker claims due rows with a lease; `attempts` and
-- `last_error` record failures; `done_at` marks finished rows until the
-- clean-up job removes them.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    done_at       TEXT
);
CREATE INDEX jobs_due_idx ON jobs (kind, available_at) WHERE done_at IS NULL;
CREATE INDEX jobs_done_idx ON jobs (done_at) WHERE done_at IS NOT NULL;

INSERT INTO jobs (id, kind, payload, created_at, available_at, attempts, last_error, done_at)
SELECT id, 'email',
       json_object('recipient', recipient, 'subject', subject, 'text_body', text_body, 'html_body', html_body),
       created_at, available_at, attempts, last_error, delivered_at
FROM outbox;

-- Imports still running continue as jobs.
INSERT INTO jobs (id, kind, payload, created_at, available_at)
SELECT 'import:' || id, 'import', json_object('import_id', id), created_at, created_at
FROM invitation_imports WHERE status <> 'completed';

DROP TABLE outbox;
