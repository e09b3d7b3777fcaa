-- Coarse geo-location of delivery views (privacy F13): views per environment, day and
-- country (ISO 3166 code, or "unknown"), looked up in the operator's optional MaxMind-format
-- database; the address is used for the lookup and forgotten. No asset, no visitor: counts
-- that name nobody.
CREATE TABLE delivery_countries (
    env_id   BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    country  TEXT NOT NULL,
    views    BIGINT NOT NULL,
    PRIMARY KEY (env_id, day, country)
);
