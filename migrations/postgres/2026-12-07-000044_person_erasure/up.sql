-- A person who erased themselves keeps their row, under a pseudonym and
-- with nothing of theirs left: accounts' records (invitations they sent,
-- keys and links they made) still point at it.
ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;

-- What the job runner needs to take an erased person out of the audit
-- log and of queued payloads once the events about their leaving are
-- sealed: their ids, emails and names, as JSON. The row goes when that
-- is done, moments later.
CREATE TABLE person_erasures (
    user_id       TEXT PRIMARY KEY,
    person        TEXT NOT NULL,
    requested_at  TIMESTAMP NOT NULL
);

-- What a person did and what is about them, across every chain: for their
-- own copy (GET /v1/me/export) and for their erasure.
CREATE INDEX audit_events_actor_any_idx ON audit_events (actor_id);
CREATE INDEX audit_event_targets_target_idx ON audit_event_targets (target_id);
