-- A new address a person asked for, waiting for the link mailed to it (by the link's hash).
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    new_email TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX email_changes_by_user ON email_changes (user_id);
