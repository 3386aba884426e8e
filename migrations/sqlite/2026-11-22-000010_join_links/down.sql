DROP TABLE join_requests;
DROP TABLE join_links;
