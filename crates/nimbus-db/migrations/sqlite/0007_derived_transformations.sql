-- Transformations used by eager derivations, listed beside the named ones (`named: false`),
-- with their own `allowed_for_strict`.
CREATE TABLE derived_transformations (
    env_id              BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    transformation      TEXT NOT NULL,
    allowed_for_strict  BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (env_id, transformation)
);
