DROP TABLE invitation_import_results;
DROP TABLE invitation_import_rows;
DROP TABLE invitation_imports;
DROP TABLE invitation_groups;
