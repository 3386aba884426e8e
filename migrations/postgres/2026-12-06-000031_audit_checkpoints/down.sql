DROP TRIGGER audit_purge_permits_unchanged ON audit_purge_permits;
DROP TRIGGER audit_pending_sealed_only ON audit_pending;
DROP FUNCTION audit_pending_sealed_only();
DROP TABLE audit_checkpoints;
DROP FUNCTION audit_checkpoints_forward_only();
