-- Invitations are written in bursts (batches, imports) and twice in their
-- life (the status changes on accept, and that UPDATE cannot be HOT), so
-- their trigram indexes take GIN's pending list after all: entries are
-- appended there and merged in bulk, about 10 % more invite→accept flows
-- per second (BENCHMARKS.md). The list is kept small (256 kB instead of
-- the default 4 MB), so that what a search must also read stays small
-- (tenths of a millisecond at 500,000 invitations); migration 26's
-- objection was a 4 MB list of a million unmerged rows. Users' indexes
-- keep fastupdate off: sign-ups are rare.
ALTER INDEX invitations_email_trgm_idx SET (fastupdate = on, gin_pending_list_limit = 256);
ALTER INDEX invitations_first_name_trgm_idx SET (fastupdate = on, gin_pending_list_limit = 256);
ALTER INDEX invitations_last_name_trgm_idx SET (fastupdate = on, gin_pending_list_limit = 256);
