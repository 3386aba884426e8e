ALTER TABLE audit_events
    ADD COLUMN actor_name TEXT NOT NULL DEFAULT '',
    ADD COLUMN targets TEXT NOT NULL DEFAULT '[]',
    ADD COLUMN changes TEXT NOT NULL DEFAULT '{}',
    ADD COLUMN client_ip TEXT,
    ADD COLUMN user_agent TEXT;
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events e SET actor_name = p.actor_name, targets = p.targets, changes = p.changes,
    client_ip = p.client_ip, user_agent = p.user_agent
    FROM audit_personal_data p WHERE p.chain = e.chain AND p.seq = e.seq;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
ALTER TABLE audit_events DROP COLUMN target_refs, DROP COLUMN details_digest;
DROP TABLE audit_personal_data;
