-- A person's objection to the sharing of their data (set in the console, or by their
-- browser's Global Privacy Control signal), and every change of it with its source.
ALTER TABLE users ADD COLUMN share_opt_out_at BIGINT;
CREATE TABLE consent_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- 'objection' (the person, in the console) or 'gpc' (their browser's signal)
    kind TEXT NOT NULL,
    -- 1: objects from now on; 0: no longer objects
    objects     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX consent_events_by_user ON consent_events (user_id, id);
