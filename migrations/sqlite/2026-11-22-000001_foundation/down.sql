DROP TABLE role_assignments;
DROP TABLE memberships;
DROP TABLE roles;
DROP TABLE accounts;
DROP TABLE refresh_tokens;
DROP TABLE users;
