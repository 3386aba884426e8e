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
CREATE TRIGGER audit_checkpoints_forward_only BEFORE UPDATE ON audit_checkpoints
WHEN NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints only move forward');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints only move forward');
END;

-- A recorded event leaves audit_pending only once sealed into audit_events.
CREATE TRIGGER audit_pending_sealed_only BEFORE DELETE ON audit_pending
WHEN NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'a recorded audit event leaves the queue only once sealed');
END;

-- Permits are written and removed by the retention job; never changed.
CREATE TRIGGER audit_purge_permits_unchanged BEFORE UPDATE ON audit_purge_permits
BEGIN
    SELECT RAISE(ABORT, 'recorded audit events cannot change');
END;
