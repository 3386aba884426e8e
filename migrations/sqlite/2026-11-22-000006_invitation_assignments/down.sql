CREATE TABLE invitation_roles (
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    role_id        TEXT NOT NULL REFERENCES roles (id),
    PRIMARY KEY (invitation_id, role_id)
);
INSERT INTO invitation_roles (invitation_id, role_id)
    SELECT DISTINCT invitation_id, role_id FROM invitation_assignments WHERE group_id IS NULL;
DROP TABLE invitation_assignments;
