-- Invitations carry the same assignments as members: a role, account-wide
-- or inside one group. (invitation_roles keyed roles by invitation alone,
-- which cannot hold one role in two groups.)
CREATE TABLE invitation_assignments (
    id             TEXT PRIMARY KEY,
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    role_id        TEXT NOT NULL REFERENCES roles (id),
    group_id       TEXT REFERENCES groups (id) ON DELETE CASCADE
);
CREATE INDEX invitation_assignments_invitation_idx ON invitation_assignments (invitation_id);
CREATE INDEX invitation_assignments_role_idx ON invitation_assignments (role_id);
INSERT INTO invitation_assignments (id, invitation_id, role_id, group_id)
    SELECT invitation_id || ':' || role_id, invitation_id, role_id, NULL FROM invitation_roles;
DROP TABLE invitation_roles;
