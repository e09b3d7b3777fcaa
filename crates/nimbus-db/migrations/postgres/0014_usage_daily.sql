-- What each environment used per day (UTC): deliveries, derivatives rendered, and the bytes
-- stored when last counted. Nodes add their counts every minute; no person is in here.
CREATE TABLE usage_daily (
    env_id           BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    day              BIGINT NOT NULL,
    requests         BIGINT NOT NULL DEFAULT 0,
    transformations  BIGINT NOT NULL DEFAULT 0,
    bytes            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (env_id, day)
);
