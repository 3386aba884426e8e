DROP INDEX invitations_last_name_trgm_idx;
DROP INDEX invitations_first_name_trgm_idx;
DROP INDEX invitations_email_trgm_idx;
DROP INDEX users_last_name_trgm_idx;
DROP INDEX users_first_name_trgm_idx;
DROP INDEX users_email_trgm_idx;
