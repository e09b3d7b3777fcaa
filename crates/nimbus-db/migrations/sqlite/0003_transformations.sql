-- Strict transformations: new derivatives only from signed URLs, eager or allowed ones.
ALTER TABLE environments ADD COLUMN strict_transformations BIGINT NOT NULL DEFAULT 0;

-- Named transformations: t_{name} expands to the stored transformation.
CREATE TABLE named_transformations (
    env_id              BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    transformation      TEXT NOT NULL,
    allowed_for_strict  BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (env_id, name)
);
