-- Where retention left a chain's start, signed like checkpoints (but over a
-- text of its own, so one cannot stand for the other): without it, deleting
-- every event of a chain and setting the anchor to the checkpoint would
-- verify. Anchors written before this have no seal and fail verification
-- until retention moves them. Anchors only move forward and are never
-- deleted.
ALTER TABLE audit_anchors ADD COLUMN seal TEXT;

CREATE TRIGGER audit_anchors_forward_only BEFORE UPDATE ON audit_anchors
WHEN NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'audit anchors only move forward');
END;
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors only move forward');
END;
