-- The audit log: one append-only chain of events per account (and one per
-- user for what a user does outside any account). Each event carries the
-- hash of its chain's previous event.
CREATE TABLE audit_events (
    id           TEXT PRIMARY KEY,
    chain        TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    account_id   TEXT,
    occurred_at  TIMESTAMP NOT NULL,
    action       TEXT NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    targets      TEXT NOT NULL,
    changes      TEXT NOT NULL,
    request_id   TEXT,
    client_ip    TEXT,
    user_agent   TEXT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_events_chain_idx ON audit_events (chain, seq);
CREATE INDEX audit_events_action_idx ON audit_events (chain, action, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (chain, actor_id, seq);
CREATE INDEX audit_events_time_idx ON audit_events (chain, occurred_at);

-- The ids an event is about, for filtering by target.
CREATE TABLE audit_event_targets (
    chain      TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    target_id  TEXT NOT NULL,
    PRIMARY KEY (chain, target_id, seq)
);

-- Where a chain starts after retention purged its oldest events.
CREATE TABLE audit_anchors (
    chain  TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);

-- Written by the retention job inside its transaction: the only deletes
-- the append-only triggers let through.
CREATE TABLE audit_purge_permits (
    chain      TEXT PRIMARY KEY,
    up_to_seq  BIGINT NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM audit_purge_permits p WHERE p.chain = OLD.chain AND OLD.seq <= p.up_to_seq
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_targets_append_only BEFORE UPDATE OR DELETE ON audit_event_targets
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
