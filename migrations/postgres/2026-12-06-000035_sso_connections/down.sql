ALTER TABLE sessions DROP COLUMN sso_connection_id;
ALTER TABLE role_assignments DROP COLUMN sso_connection_id;
DROP TABLE sso_grants;
DROP TABLE sso_attempts;
DROP TABLE sso_identities;
DROP TABLE sso_connections;
