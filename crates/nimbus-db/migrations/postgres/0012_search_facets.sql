-- The search index rows carry the facets the value aggregations group by (format, resource
-- type, delivery type), copied from their asset (every asset write rewrites its index rows),
-- so a broad search is counted and aggregated from the index alone (an index-only scan of
-- the primary key, which includes them), without a join to the asset rows; and each tag is
-- indexed whole (`e:tags`) with them. Tags longer than an exact term are indexed by the
-- start-up step that follows this migration. The tables are rebuilt rather than updated in
-- place: one compact copy instead of a second version of every row.
CREATE TABLE search_terms_v2 (
    env_id         BIGINT NOT NULL,
    field          TEXT COLLATE "C" NOT NULL,
    term           TEXT COLLATE "C" NOT NULL,
    asset_pk       BIGINT NOT NULL,
    format         TEXT COLLATE "C",
    resource_type  TEXT COLLATE "C" NOT NULL,
    delivery_type  TEXT COLLATE "C" NOT NULL
);
INSERT INTO search_terms_v2
    SELECT t.env_id, t.field, t.term, t.asset_pk, a.format, a.resource_type, a.delivery_type
    FROM search_terms t JOIN assets a ON a.id = t.asset_pk;
INSERT INTO search_terms_v2
    SELECT t.env_id, 'e:tags', t.tag, t.asset_pk, a.format, a.resource_type, a.delivery_type
    FROM asset_tags t JOIN assets a ON a.id = t.asset_pk
    WHERE octet_length(t.tag) <= 200;
DROP TABLE search_terms;
ALTER TABLE search_terms_v2 RENAME TO search_terms;
ALTER TABLE search_terms ADD PRIMARY KEY (env_id, field, term, asset_pk) INCLUDE (format, resource_type, delivery_type);
CREATE INDEX search_terms_by_asset ON search_terms(asset_pk);
-- The planner's estimate of `field = ... AND term = ...`: a word is common in one field and
-- rare in another, which independent statistics per column cannot tell.
ALTER TABLE search_terms ALTER COLUMN term SET STATISTICS 1000;
CREATE STATISTICS search_terms_field_term (mcv, dependencies) ON field, term FROM search_terms;

CREATE TABLE search_numbers_v2 (
    env_id         BIGINT NOT NULL,
    field          TEXT COLLATE "C" NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    asset_pk       BIGINT NOT NULL,
    format         TEXT COLLATE "C",
    resource_type  TEXT COLLATE "C" NOT NULL,
    delivery_type  TEXT COLLATE "C" NOT NULL
);
INSERT INTO search_numbers_v2
    SELECT n.env_id, n.field, n.value, n.asset_pk, a.format, a.resource_type, a.delivery_type
    FROM search_numbers n JOIN assets a ON a.id = n.asset_pk;
DROP TABLE search_numbers;
ALTER TABLE search_numbers_v2 RENAME TO search_numbers;
ALTER TABLE search_numbers ADD PRIMARY KEY (env_id, field, value, asset_pk) INCLUDE (format, resource_type, delivery_type);
-- A probe of one asset's number (`asset_pk = ? AND field = ? AND value >= ?`) answered from
-- the index alone.
CREATE INDEX search_numbers_by_asset ON search_numbers(asset_pk, field, value) INCLUDE (env_id);

-- Tag lists read in asset order from the index alone (merge joins, no visit of the rows).
DROP INDEX asset_tags_by_tag;
CREATE INDEX asset_tags_by_tag ON asset_tags(env_id, tag, asset_pk);

-- Range filters on the asset row (`uploaded_at>4w`, `created_at<...`, `bytes>...`) with a
-- facet test (`format:jpg`) or a value aggregation are answered from these indexes alone.
DROP INDEX assets_by_created;
CREATE INDEX assets_by_created ON assets(env_id, created_at) INCLUDE (format, resource_type, delivery_type);
DROP INDEX assets_by_uploaded;
CREATE INDEX assets_by_uploaded ON assets(env_id, version) INCLUDE (format, resource_type, delivery_type);
DROP INDEX assets_by_bytes;
CREATE INDEX assets_by_bytes ON assets(env_id, bytes) INCLUDE (format, resource_type, delivery_type);
