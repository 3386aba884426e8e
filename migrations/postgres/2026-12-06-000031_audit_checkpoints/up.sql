-- The newest sealed event of each chain, signed with the deployment's
-- secrets key by the sealer in the transaction that seals it, so that
-- `roster audit verify` notices events missing from a chain's end (which
-- the hash links alone cannot show). Checkpoints only move forward and are
-- never deleted.
CREATE TABLE audit_checkpoints (
    chain  TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL,
    seal   TEXT NOT NULL
);

CREATE FUNCTION audit_checkpoints_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit checkpoints only move forward';
END
$$;
CREATE TRIGGER audit_checkpoints_forward_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_forward_only();

-- A recorded event leaves audit_pending only once sealed into audit_events.
CREATE FUNCTION audit_pending_sealed_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_events e WHERE e.id = OLD.id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'a recorded audit event leaves the queue only once sealed';
END
$$;
CREATE TRIGGER audit_pending_sealed_only BEFORE DELETE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_pending_sealed_only();

-- Permits are written and removed by the retention job; never changed.
CREATE TRIGGER audit_purge_permits_unchanged BEFORE UPDATE ON audit_purge_permits
    FOR EACH ROW EXECUTE FUNCTION audit_pending_unchanged();
