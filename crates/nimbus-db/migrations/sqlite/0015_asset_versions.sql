-- Each version an asset was uploaded as, and who uploaded it (an actor label such as
-- `user:12` or `key:1234`; none for versions from before this table). Written by the
-- catalog's after-write step with the upload's event; goes with its asset.
CREATE TABLE asset_versions (
    asset_pk    BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    version_id  TEXT NOT NULL,
    format      TEXT,
    bytes       BIGINT NOT NULL,
    width       BIGINT,
    height      BIGINT,
    actor       TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (asset_pk, version)
);
INSERT INTO asset_versions (asset_pk, version, version_id, format, bytes, width, height, actor, created_at)
    SELECT id, version, version_id, format, bytes, width, height, NULL, updated_at FROM assets;
