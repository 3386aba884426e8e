ALTER INDEX invitations_email_trgm_idx SET (fastupdate = off);
ALTER INDEX invitations_email_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX invitations_first_name_trgm_idx SET (fastupdate = off);
ALTER INDEX invitations_first_name_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX invitations_last_name_trgm_idx SET (fastupdate = off);
ALTER INDEX invitations_last_name_trgm_idx RESET (gin_pending_list_limit);
