DROP TABLE email_verifications;
DROP TABLE outbox;
DROP TABLE invitation_roles;
DROP TABLE invitations;
ALTER TABLE accounts DROP COLUMN invitation_email_policy;
ALTER TABLE accounts DROP COLUMN reminder_days;
ALTER TABLE accounts DROP COLUMN invitation_ttl_days;
