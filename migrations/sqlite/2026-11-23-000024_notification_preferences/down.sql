DROP TABLE notification_defaults;
DROP TABLE notification_preferences;
