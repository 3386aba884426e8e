DROP INDEX role_assignments_by_group_idx;
DROP TABLE group_members;
DROP TABLE groups;
