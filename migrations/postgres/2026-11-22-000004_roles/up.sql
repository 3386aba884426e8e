-- Roles are built in (Owner, Administrator), templates the deployment
-- declares in its permissions file (no account), or an account's own
-- (custom, with their permissions stored in role_permissions).
ALTER TABLE roles ADD COLUMN kind TEXT NOT NULL DEFAULT 'custom';
ALTER TABLE roles ADD COLUMN description TEXT NOT NULL DEFAULT '';
UPDATE roles SET kind = 'built_in' WHERE built_in;

CREATE TABLE role_permissions (
    role_id     TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission  TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);
