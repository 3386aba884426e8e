DROP TABLE role_permissions;
ALTER TABLE roles DROP COLUMN description;
ALTER TABLE roles DROP COLUMN kind;
