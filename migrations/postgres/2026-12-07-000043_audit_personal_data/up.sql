-- What an audit event says about people (names, emails, addresses, what
-- they typed) moves out of the hash chain, so that erasing a person leaves
-- every chain verifiable. The chain covers an event's stable ids and a
-- salted digest of this row; erasure overwrites the row with a pseudonym
-- and forgets the salt, after which the digest tells nothing.
--
-- Events sealed before this keep their hashes, which cover their personal
-- data itself (`details_digest` is NULL): they verify as before, and one
-- whose personal data is erased verifies by its links alone.
CREATE TABLE audit_personal_data (
    chain       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    actor_name  TEXT NOT NULL,
    targets     TEXT NOT NULL,
    changes     TEXT NOT NULL,
    client_ip   TEXT,
    user_agent  TEXT,
    -- Random, per event; NULL once erased.
    salt        TEXT,
    erased_at   TIMESTAMP,
    PRIMARY KEY (chain, seq)
);

INSERT INTO audit_personal_data (chain, seq, actor_name, targets, changes, client_ip, user_agent)
    SELECT chain, seq, actor_name, targets, changes, client_ip, user_agent FROM audit_events;

ALTER TABLE audit_events
    DROP COLUMN actor_name,
    DROP COLUMN targets,
    DROP COLUMN changes,
    DROP COLUMN client_ip,
    DROP COLUMN user_agent,
    -- `[{"type", "id"}]`: what the event is about, without labels.
    ADD COLUMN target_refs TEXT,
    ADD COLUMN details_digest TEXT;
