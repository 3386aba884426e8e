-- Where retention left a chain's start, signed like checkpoints (but over a
-- text of its own, so one cannot stand for the other): without it, deleting
-- every event of a chain and setting the anchor to the checkpoint would
-- verify. Anchors written before this have no seal and fail verification
-- until retention moves them. Anchors only move forward and are never
-- deleted.
ALTER TABLE audit_anchors ADD COLUMN seal TEXT;

CREATE FUNCTION audit_anchors_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit anchors only move forward';
END
$$;
CREATE TRIGGER audit_anchors_forward_only BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION audit_anchors_forward_only();
