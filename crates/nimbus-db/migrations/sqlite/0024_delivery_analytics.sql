-- Cookieless delivery analytics (privacy F12): views and unique visitors per delivered
-- asset and day. `visitors` is filled when the day's count is final (two days on).
CREATE TABLE delivery_daily (
    env_id   BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    asset_id TEXT NOT NULL,
    views    BIGINT NOT NULL,
    visitors BIGINT,
    PRIMARY KEY (env_id, day, asset_id)
);
-- The visitors of a day, each a hash of the day's salt, the environment, the client's
-- address and browser (never the address itself); deleted with the salt once the day's
-- count is final, after which nobody can tell whose they were.
CREATE TABLE delivery_visitors (
    env_id   BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    asset_id TEXT NOT NULL,
    visitor  BIGINT NOT NULL,
    PRIMARY KEY (env_id, day, asset_id, visitor)
);
-- One random salt per day (hex), the day's and the previous day's kept.
CREATE TABLE analytics_salts (
    day  BIGINT PRIMARY KEY,
    salt TEXT NOT NULL
);
