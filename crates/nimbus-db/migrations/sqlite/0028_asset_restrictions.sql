-- Restricted assets (privacy F19, GDPR Art. 18): while a request about content that shows
-- someone is examined, the asset and every derivative answer 451 and it is left out of
-- search results. The asset itself is untouched; lifting the restriction restores it.
CREATE TABLE asset_restrictions (
    env_id        BIGINT NOT NULL,
    asset_id      TEXT NOT NULL,
    restricted_at BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    PRIMARY KEY (env_id, asset_id)
);
