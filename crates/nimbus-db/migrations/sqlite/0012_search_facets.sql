-- The search index rows carry the facets the value aggregations group by (format, resource
-- type, delivery type), copied from their asset (every asset write rewrites its index rows),
-- so a broad search is counted and aggregated from the index alone, without a join to the
-- asset rows; and each tag is indexed whole (`e:tags`) with them. Tags longer than an exact
-- term are indexed by the start-up step that follows this migration.
CREATE TABLE search_terms_v2 (
    env_id         BIGINT NOT NULL,
    field          TEXT NOT NULL,
    term           TEXT NOT NULL,
    asset_pk       BIGINT NOT NULL,
    format         TEXT,
    resource_type  TEXT NOT NULL,
    delivery_type  TEXT NOT NULL,
    PRIMARY KEY (env_id, field, term, asset_pk)
) WITHOUT ROWID;
INSERT INTO search_terms_v2
    SELECT t.env_id, t.field, t.term, t.asset_pk, a.format, a.resource_type, a.delivery_type
    FROM search_terms t JOIN assets a ON a.id = t.asset_pk;
INSERT OR IGNORE INTO search_terms_v2
    SELECT t.env_id, 'e:tags', t.tag, t.asset_pk, a.format, a.resource_type, a.delivery_type
    FROM asset_tags t JOIN assets a ON a.id = t.asset_pk
    WHERE length(CAST(t.tag AS BLOB)) <= 200;
DROP TABLE search_terms;
ALTER TABLE search_terms_v2 RENAME TO search_terms;
CREATE INDEX search_terms_by_asset ON search_terms(asset_pk);

CREATE TABLE search_numbers_v2 (
    env_id         BIGINT NOT NULL,
    field          TEXT NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    asset_pk       BIGINT NOT NULL,
    format         TEXT,
    resource_type  TEXT NOT NULL,
    delivery_type  TEXT NOT NULL,
    PRIMARY KEY (env_id, field, value, asset_pk)
) WITHOUT ROWID;
INSERT INTO search_numbers_v2
    SELECT n.env_id, n.field, n.value, n.asset_pk, a.format, a.resource_type, a.delivery_type
    FROM search_numbers n JOIN assets a ON a.id = n.asset_pk;
DROP TABLE search_numbers;
ALTER TABLE search_numbers_v2 RENAME TO search_numbers;
CREATE INDEX search_numbers_by_asset ON search_numbers(asset_pk);
