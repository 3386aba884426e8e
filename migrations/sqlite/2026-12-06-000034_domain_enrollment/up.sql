-- Who with an email at a verified domain comes into the account:
-- `manual` (nobody by themselves), `suggest` (they see the account and may
-- ask to join), `automatic` (they become members, with the domain's
-- default roles and groups). Invitations may be limited to the account's
-- verified domains.
ALTER TABLE account_domains ADD COLUMN enrollment TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE accounts ADD COLUMN invitations_restricted_to_domains BOOLEAN NOT NULL DEFAULT 0;
CREATE TABLE account_domain_roles (
    domain_id  TEXT NOT NULL REFERENCES account_domains (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (domain_id, role_id)
);
CREATE INDEX account_domain_roles_role_idx ON account_domain_roles (role_id);
CREATE TABLE account_domain_groups (
    domain_id  TEXT NOT NULL REFERENCES account_domains (id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (domain_id, group_id)
);
CREATE INDEX account_domain_groups_group_idx ON account_domain_groups (group_id);
