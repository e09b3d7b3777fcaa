-- "Remember me" (privacy F14): a session the person asked to keep lasts until this time,
-- without the idle and absolute timeouts; NULL for an ordinary session.
ALTER TABLE sessions ADD COLUMN remember_until BIGINT;
