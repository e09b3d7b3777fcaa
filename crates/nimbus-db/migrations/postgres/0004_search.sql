-- The search index: words and exact values of an asset's text fields, and the numbers of its
-- metadata, one row each (see nimbus_core::search::index_entries). Written with the asset.
CREATE TABLE search_terms (
    env_id    BIGINT NOT NULL,
    field     TEXT COLLATE "C" NOT NULL,
    term      TEXT COLLATE "C" NOT NULL,
    asset_pk  BIGINT NOT NULL,
    PRIMARY KEY (env_id, field, term, asset_pk)
);
CREATE INDEX search_terms_by_asset ON search_terms(asset_pk);

CREATE TABLE search_numbers (
    env_id    BIGINT NOT NULL,
    field     TEXT COLLATE "C" NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    asset_pk  BIGINT NOT NULL,
    PRIMARY KEY (env_id, field, value, asset_pk)
);
CREATE INDEX search_numbers_by_asset ON search_numbers(asset_pk);

-- Sorting and range filters on the asset row.
CREATE INDEX assets_by_created ON assets(env_id, created_at);
CREATE INDEX assets_by_uploaded ON assets(env_id, version);
CREATE INDEX assets_by_bytes ON assets(env_id, bytes);
-- Format filters, and the value aggregations (format, resource_type, type) read from the
-- index alone.
CREATE INDEX assets_by_kind ON assets(env_id, format, resource_type, delivery_type);
