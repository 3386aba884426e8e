-- Access reviews: who reviews whom, a snapshot of each member's access when
-- the review began, and each decision with its outcome once completed.
CREATE TABLE access_review_settings (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    undecided      TEXT NOT NULL,
    every_days     INTEGER,
    due_in_days    INTEGER NOT NULL,
    next_start_at  TIMESTAMP,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX access_review_settings_next_idx ON access_review_settings (next_start_at);

CREATE TABLE access_reviews (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id          TEXT,
    group_name        TEXT,
    status            TEXT NOT NULL,
    undecided         TEXT NOT NULL,
    due_at            TIMESTAMP NOT NULL,
    started_by        TEXT,
    started_at        TIMESTAMP NOT NULL,
    completed_by      TEXT,
    completed_at      TIMESTAMP,
    next_reminder_at  TIMESTAMP
);
CREATE INDEX access_reviews_account_idx ON access_reviews (account_id, id);
CREATE INDEX access_reviews_reminder_idx ON access_reviews (next_reminder_at);

CREATE TABLE access_review_reviewers (
    review_id  TEXT NOT NULL REFERENCES access_reviews (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);

-- `assignments`, `permissions` and `kept` are JSON arrays: a snapshot, not
-- references, so that the report stays true after roles change.
CREATE TABLE access_review_items (
    review_id         TEXT NOT NULL REFERENCES access_reviews (id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL,
    email             TEXT NOT NULL,
    assignments       TEXT NOT NULL,
    permissions       TEXT NOT NULL,
    last_active_at    TIMESTAMP,
    last_reviewed_at  TIMESTAMP,
    decision          TEXT,
    kept              TEXT,
    comment           TEXT,
    decided_by        TEXT,
    decided_at        TIMESTAMP,
    outcome           TEXT,
    PRIMARY KEY (review_id, user_id)
);

ALTER TABLE memberships ADD COLUMN last_reviewed_at TIMESTAMP;
