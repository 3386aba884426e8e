DROP TABLE account_domain_groups;
DROP TABLE account_domain_roles;
ALTER TABLE accounts DROP COLUMN invitations_restricted_to_domains;
ALTER TABLE account_domains DROP COLUMN enrollment;
