-- The seam for work that outlives a request.
--
-- events: the outbox. Every catalog write records what it changed, and who asked, in the
-- same transaction; the relay turns unrelayed events into jobs (webhooks, blob deletion)
-- and marks them relayed, also in one transaction.
CREATE TABLE events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    env_id            BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    notification_url  TEXT,
    payload           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    relayed_at        BIGINT
);
CREATE INDEX events_pending ON events (id) WHERE relayed_at IS NULL;
CREATE INDEX events_by_env ON events (env_id, id);

-- jobs: the durable queue. A running job belongs to lease_owner until lease_until.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    env_id            BIGINT,
    kind TEXT NOT NULL,
    payload           TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    priority          INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    run_at            BIGINT NOT NULL,
    lease_owner       TEXT,
    lease_until       BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX jobs_queued ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_by_env ON jobs (env_id, id);

CREATE TABLE job_attempts (
    job_id            BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    attempt           INTEGER NOT NULL,
    owner             TEXT NOT NULL,
    started_at        BIGINT NOT NULL,
    finished_at       BIGINT,
    outcome           TEXT,
    detail            TEXT,
    PRIMARY KEY (job_id, attempt)
);

-- Notification triggers of an environment (Cloudinary's Admin API `triggers`): every event
-- of event_type is also sent to uri.
CREATE TABLE triggers (
    id TEXT PRIMARY KEY,
    env_id            BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    uri               TEXT NOT NULL,
    event_type TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX triggers_by_env ON triggers (env_id, event_type);
