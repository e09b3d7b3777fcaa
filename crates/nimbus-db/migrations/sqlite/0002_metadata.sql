-- Structured metadata: field definitions, conditional rules, and each asset's values.
ALTER TABLE environments ADD COLUMN metadata_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';

CREATE TABLE metadata_fields (
    env_id       BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    position     BIGINT NOT NULL,
    doc          TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (env_id, external_id)
);

-- External ids of deleted fields: they stay reserved, as Cloudinary's do.
CREATE TABLE metadata_field_tombstones (
    env_id       BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    deleted_at   BIGINT NOT NULL,
    PRIMARY KEY (env_id, external_id)
);

CREATE TABLE metadata_rules (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    env_id             BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    external_id        TEXT NOT NULL,
    metadata_field_id  TEXT NOT NULL,
    name               TEXT NOT NULL,
    condition          TEXT NOT NULL,
    result             TEXT NOT NULL,
    active             BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    UNIQUE (env_id, external_id)
);
CREATE INDEX metadata_rules_by_field ON metadata_rules(env_id, metadata_field_id, seq);
