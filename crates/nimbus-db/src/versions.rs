//! The versions each asset was uploaded as, and by whom: one row per upload, written by the
//! after-write step with the upload's event, deleted with the asset.

use nimbus_app::ports::{AssetVersion, CatalogResult};
use nimbus_core::Asset;
use sqlx::{AnyConnection, Row as _};

use crate::{SqlCatalog, db_err};

pub(crate) async fn record(conn: &mut AnyConnection, pk: i64, a: &Asset, actor: &str, now: i64) -> CatalogResult<()> {
    sqlx::query(
        "INSERT INTO asset_versions (asset_pk, version, version_id, format, bytes, width, height, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(pk)
    .bind(a.version)
    .bind(a.version_id.as_str())
    .bind(a.format.as_deref())
    .bind(a.bytes)
    .bind(a.width)
    .bind(a.height)
    .bind(actor)
    .bind(now)
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

impl SqlCatalog {
    pub(crate) async fn versions_of(&self, env: i64, asset_id: &str) -> CatalogResult<Vec<AssetVersion>> {
        let rows = sqlx::query(
            "SELECT v.version, v.version_id, v.format, v.bytes, v.width, v.height, v.actor, v.created_at \
             FROM asset_versions v JOIN assets a ON a.id = v.asset_pk \
             WHERE a.env_id = $1 AND a.asset_id = $2 ORDER BY v.version DESC LIMIT 100",
        )
        .bind(env)
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AssetVersion {
                    version: r.try_get("version").map_err(db_err)?,
                    version_id: r.try_get("version_id").map_err(db_err)?,
                    format: r.try_get("format").map_err(db_err)?,
                    bytes: r.try_get("bytes").map_err(db_err)?,
                    width: r.try_get("width").map_err(db_err)?,
                    height: r.try_get("height").map_err(db_err)?,
                    actor: r.try_get("actor").map_err(db_err)?,
                    created_at: r.try_get("created_at").map_err(db_err)?,
                })
            })
            .collect()
    }
}
