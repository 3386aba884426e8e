DROP TABLE linked_roles;
DROP TABLE account_links;
