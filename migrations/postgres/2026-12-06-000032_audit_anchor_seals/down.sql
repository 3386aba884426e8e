DROP TRIGGER audit_anchors_forward_only ON audit_anchors;
DROP FUNCTION audit_anchors_forward_only();
ALTER TABLE audit_anchors DROP COLUMN seal;
