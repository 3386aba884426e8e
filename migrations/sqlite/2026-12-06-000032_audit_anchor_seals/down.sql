DROP TRIGGER audit_anchors_no_delete;
DROP TRIGGER audit_anchors_forward_only;
ALTER TABLE audit_anchors DROP COLUMN seal;
