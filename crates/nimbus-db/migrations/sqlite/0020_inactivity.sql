-- Inactive-account cleanup: the reminder last sent (days before the account's deletion) in
-- the current stretch of inactivity; signing in clears it.
ALTER TABLE users ADD COLUMN inactivity_notice_days BIGINT;
