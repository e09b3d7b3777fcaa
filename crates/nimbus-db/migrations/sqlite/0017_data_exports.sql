-- Archives of their own data that people asked for (the archive itself is in the blob
-- store under privacy/users/<user_id>/). Kept 7 days; one may be asked every 7 days.
CREATE TABLE data_exports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    requested_at  BIGINT NOT NULL,
    ready_at      BIGINT,
    bytes         BIGINT,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX data_exports_by_user ON data_exports (user_id, requested_at);
