DROP TABLE directory_default_roles;
DROP INDEX groups_external_id_idx;
ALTER TABLE groups DROP COLUMN external_id;
DROP TABLE scim_users;
