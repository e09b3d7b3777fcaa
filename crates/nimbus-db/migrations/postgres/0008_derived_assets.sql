-- The derivatives rendered for each version of an asset (eager or on the fly), for the
-- `derived` list of the Admin API's resource details. Rows of replaced versions stay until
-- the asset is deleted; the list shows the current version's.
CREATE TABLE derived_assets (
    env_id          BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    blob_key        TEXT NOT NULL,
    asset_id        TEXT NOT NULL,
    version_id      TEXT NOT NULL,
    transformation  TEXT NOT NULL,
    format          TEXT NOT NULL,
    bytes           BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (env_id, blob_key)
);
CREATE INDEX derived_assets_by_asset ON derived_assets (env_id, asset_id, version_id);
