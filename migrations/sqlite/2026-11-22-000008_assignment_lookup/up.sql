-- A member's roles are looked up on every request; the partial unique
-- indexes on role_assignments cannot serve that lookup.
CREATE INDEX role_assignments_membership_idx ON role_assignments (membership_id);
