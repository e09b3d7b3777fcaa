//! Schema migrations: numbered SQL files per dialect, applied once each, in order, each in
//! its own transaction together with its bookkeeping row.

use nimbus_app::ports::CatalogResult;

use crate::{Dialect, SqlCatalog, db_err};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_metadata.sql")),
    (3, include_str!("../migrations/sqlite/0003_transformations.sql")),
    (4, include_str!("../migrations/sqlite/0004_search.sql")),
    (5, include_str!("../migrations/sqlite/0005_image_metadata.sql")),
    (6, include_str!("../migrations/sqlite/0006_access_mode.sql")),
    (7, include_str!("../migrations/sqlite/0007_derived_transformations.sql")),
    (8, include_str!("../migrations/sqlite/0008_derived_assets.sql")),
    (9, include_str!("../migrations/sqlite/0009_custom_headers.sql")),
    (10, include_str!("../migrations/sqlite/0010_jobs_events.sql")),
    (11, include_str!("../migrations/sqlite/0011_render_claims.sql")),
    (12, include_str!("../migrations/sqlite/0012_search_facets.sql")),
    (13, include_str!("../migrations/sqlite/0013_accounts.sql")),
    (14, include_str!("../migrations/sqlite/0014_usage_daily.sql")),
    (15, include_str!("../migrations/sqlite/0015_asset_versions.sql")),
    (16, include_str!("../migrations/sqlite/0016_erasure.sql")),
    (17, include_str!("../migrations/sqlite/0017_data_exports.sql")),
    (18, include_str!("../migrations/sqlite/0018_consents.sql")),
    (19, include_str!("../migrations/sqlite/0019_policies.sql")),
    (20, include_str!("../migrations/sqlite/0020_inactivity.sql")),
    (21, include_str!("../migrations/sqlite/0021_email_changes.sql")),
    (22, include_str!("../migrations/sqlite/0022_product_news.sql")),
    (23, include_str!("../migrations/sqlite/0023_remember.sql")),
    (24, include_str!("../migrations/sqlite/0024_delivery_analytics.sql")),
    (25, include_str!("../migrations/sqlite/0025_legal_requests.sql")),
    (26, include_str!("../migrations/sqlite/0026_delivery_countries.sql")),
    (27, include_str!("../migrations/sqlite/0027_subject_requests.sql")),
    (28, include_str!("../migrations/sqlite/0028_asset_restrictions.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_metadata.sql")),
    (3, include_str!("../migrations/postgres/0003_transformations.sql")),
    (4, include_str!("../migrations/postgres/0004_search.sql")),
    (5, include_str!("../migrations/postgres/0005_image_metadata.sql")),
    (6, include_str!("../migrations/postgres/0006_access_mode.sql")),
    (7, include_str!("../migrations/postgres/0007_derived_transformations.sql")),
    (8, include_str!("../migrations/postgres/0008_derived_assets.sql")),
    (9, include_str!("../migrations/postgres/0009_custom_headers.sql")),
    (10, include_str!("../migrations/postgres/0010_jobs_events.sql")),
    (11, include_str!("../migrations/postgres/0011_render_claims.sql")),
    (12, include_str!("../migrations/postgres/0012_search_facets.sql")),
    (13, include_str!("../migrations/postgres/0013_accounts.sql")),
    (14, include_str!("../migrations/postgres/0014_usage_daily.sql")),
    (15, include_str!("../migrations/postgres/0015_asset_versions.sql")),
    (16, include_str!("../migrations/postgres/0016_erasure.sql")),
    (17, include_str!("../migrations/postgres/0017_data_exports.sql")),
    (18, include_str!("../migrations/postgres/0018_consents.sql")),
    (19, include_str!("../migrations/postgres/0019_policies.sql")),
    (20, include_str!("../migrations/postgres/0020_inactivity.sql")),
    (21, include_str!("../migrations/postgres/0021_email_changes.sql")),
    (22, include_str!("../migrations/postgres/0022_product_news.sql")),
    (23, include_str!("../migrations/postgres/0023_remember.sql")),
    (24, include_str!("../migrations/postgres/0024_delivery_analytics.sql")),
    (25, include_str!("../migrations/postgres/0025_legal_requests.sql")),
    (26, include_str!("../migrations/postgres/0026_delivery_countries.sql")),
    (27, include_str!("../migrations/postgres/0027_subject_requests.sql")),
    (28, include_str!("../migrations/postgres/0028_asset_restrictions.sql")),
];

/// A step recorded among the migrations once it has finished: the search index holds every
/// asset written before migration 4.
pub(crate) const SEARCH_INDEX_FILLED: i64 = 1004;
/// Another such step: assets with a tag too long for migration 12's SQL (hashed exact terms)
/// re-indexed.
pub(crate) const LONG_TAGS_INDEXED: i64 = 1012;

/// Whether `version` is recorded.
pub(crate) async fn done(c: &SqlCatalog, version: i64) -> CatalogResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT version FROM nimbus_migrations WHERE version = $1")
        .bind(version)
        .fetch_optional(&c.pool)
        .await
        .map_err(db_err)?;
    Ok(found.is_some())
}

/// Records `version` (once; several nodes may race to do it).
pub(crate) async fn mark(c: &SqlCatalog, version: i64) -> CatalogResult<()> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    sqlx::query("INSERT INTO nimbus_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(version)
        .bind(now)
        .execute(&c.pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn run(c: &SqlCatalog) -> CatalogResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS nimbus_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&c.pool)
    .await
    .map_err(db_err)?;
    let steps = match c.dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    for (version, sql) in steps {
        let mut tx = c.write_tx().await?;
        if c.dialect == Dialect::Postgres {
            // Several nodes may start at once: one migrates, the others wait here.
            sqlx::raw_sql("LOCK TABLE nimbus_migrations IN EXCLUSIVE MODE")
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?;
        }
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM nimbus_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx.tx).await.map_err(db_err)?;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        sqlx::query("INSERT INTO nimbus_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        tracing::info!(version, "applied catalog migration");
    }
    Ok(())
}
