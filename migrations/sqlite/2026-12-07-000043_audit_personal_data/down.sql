ALTER TABLE audit_events ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN targets TEXT NOT NULL DEFAULT '[]';
ALTER TABLE audit_events ADD COLUMN changes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE audit_events ADD COLUMN client_ip TEXT;
ALTER TABLE audit_events ADD COLUMN user_agent TEXT;
DROP TRIGGER audit_events_no_update;
UPDATE audit_events SET
    actor_name = (SELECT p.actor_name FROM audit_personal_data p WHERE p.chain = audit_events.chain AND p.seq = audit_events.seq),
    targets = (SELECT p.targets FROM audit_personal_data p WHERE p.chain = audit_events.chain AND p.seq = audit_events.seq),
    changes = (SELECT p.changes FROM audit_personal_data p WHERE p.chain = audit_events.chain AND p.seq = audit_events.seq),
    client_ip = (SELECT p.client_ip FROM audit_personal_data p WHERE p.chain = audit_events.chain AND p.seq = audit_events.seq),
    user_agent = (SELECT p.user_agent FROM audit_personal_data p WHERE p.chain = audit_events.chain AND p.seq = audit_events.seq)
    WHERE EXISTS (SELECT 1 FROM audit_personal_data p WHERE p.chain = audit_events.chain AND p.seq = audit_events.seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
ALTER TABLE audit_events DROP COLUMN target_refs;
ALTER TABLE audit_events DROP COLUMN details_digest;
DROP TABLE audit_personal_data;
