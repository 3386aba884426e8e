-- SQLite's invitation search index; PostgreSQL's came with migration 26.
SELECT 1;
