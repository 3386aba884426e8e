DROP TABLE personal_exports;
