DROP TRIGGER audit_purge_permits_unchanged;
DROP TRIGGER audit_pending_sealed_only;
DROP TABLE audit_checkpoints;
