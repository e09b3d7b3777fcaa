CREATE TABLE environments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cloud_name  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    api_key     TEXT PRIMARY KEY,
    env_id      BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    api_secret  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_by_env ON api_keys(env_id);

CREATE TABLE assets (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    env_id             BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    asset_id           TEXT NOT NULL UNIQUE,
    resource_type      TEXT NOT NULL,
    delivery_type      TEXT NOT NULL,
    public_id          TEXT NOT NULL,
    version            BIGINT NOT NULL,
    version_id         TEXT NOT NULL,
    format             TEXT,
    width              BIGINT,
    height             BIGINT,
    bytes              BIGINT NOT NULL,
    etag               TEXT NOT NULL,
    blob_key           TEXT NOT NULL,
    original_filename  TEXT,
    display_name       TEXT NOT NULL,
    asset_folder       TEXT NOT NULL,
    context            TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (env_id, resource_type, delivery_type, public_id)
);
CREATE INDEX assets_by_public_id ON assets(env_id, public_id);
CREATE INDEX assets_by_folder ON assets(env_id, asset_folder);
CREATE INDEX assets_by_blob ON assets(blob_key);

CREATE TABLE asset_tags (
    asset_pk  BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    env_id    BIGINT NOT NULL,
    tag       TEXT NOT NULL,
    position  BIGINT NOT NULL,
    PRIMARY KEY (asset_pk, tag)
);
CREATE INDEX asset_tags_by_tag ON asset_tags(env_id, tag);

CREATE TABLE folders (
    env_id      BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    parent      TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (env_id, path)
);
CREATE INDEX folders_by_parent ON folders(env_id, parent);

CREATE TABLE upload_presets (
    env_id      BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    unsigned    BIGINT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (env_id, name)
);
