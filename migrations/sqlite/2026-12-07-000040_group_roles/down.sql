DROP INDEX role_assignments_via_group_idx;
ALTER TABLE role_assignments DROP COLUMN via_group_id;
DROP TABLE group_roles;
