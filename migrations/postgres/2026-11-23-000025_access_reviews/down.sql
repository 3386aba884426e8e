ALTER TABLE memberships DROP COLUMN last_reviewed_at;
DROP TABLE access_review_items;
DROP TABLE access_review_reviewers;
DROP TABLE access_reviews;
DROP TABLE access_review_settings;
