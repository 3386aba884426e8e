-- Flows record their events here, in the transaction of their change, and
-- the sealer moves them into audit_events moments later, in batches,
-- giving each its place in its chain and its hash. A flow's share of the
-- audit log is one append to a table without secondary indexes, and
-- writes in one account never wait for each other's hashing.
CREATE TABLE audit_pending (
    position     BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL,
    chain        TEXT NOT NULL,
    account_id   TEXT,
    occurred_at  TIMESTAMP NOT NULL,
    action       TEXT NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    targets      TEXT NOT NULL,
    -- The ids in `targets`, space-separated.
    target_ids   TEXT NOT NULL,
    changes      TEXT NOT NULL,
    request_id   TEXT,
    client_ip    TEXT,
    user_agent   TEXT
);

CREATE FUNCTION audit_pending_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'recorded audit events cannot change';
END
$$;
CREATE TRIGGER audit_pending_unchanged BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_pending_unchanged();
