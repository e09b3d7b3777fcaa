//! Upload presets; settings are stored as JSON pairs in their wire form.

use async_trait::async_trait;
use nimbus_app::events::{ConfigChange, WriteCtx};
use nimbus_app::ports::{CatalogError, CatalogResult, Preset, PresetRepo};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{SqlCatalog, db_err, outbox};

fn preset_row(r: &AnyRow) -> CatalogResult<Preset> {
    let settings: String = r.try_get("settings").map_err(db_err)?;
    Ok(Preset {
        name: r.try_get("name").map_err(db_err)?,
        unsigned: r.try_get::<i64, _>("unsigned").map_err(db_err)? != 0,
        settings: serde_json::from_str(&settings)
            .map_err(|_| CatalogError(format!("corrupt preset settings: {settings:?}")))?,
    })
}

#[async_trait]
impl PresetRepo for SqlCatalog {
    async fn put_preset(&self, w: &WriteCtx, p: &Preset, create: bool) -> CatalogResult<bool> {
        let (env, now) = (w.env(), w.now);
        let settings = serde_json::to_string(&p.settings).map_err(|e| CatalogError(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        let n = if create {
            sqlx::query("INSERT INTO upload_presets (env_id, name, unsigned, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING")
                .bind(env)
                .bind(p.name.as_str())
                .bind(i64::from(p.unsigned))
                .bind(settings)
                .bind(now)
                .execute(&mut *tx.tx)
                .await
        } else {
            sqlx::query("UPDATE upload_presets SET unsigned = $1, settings = $2, updated_at = $3 WHERE env_id = $4 AND name = $5")
                .bind(i64::from(p.unsigned))
                .bind(settings)
                .bind(now)
                .bind(env)
                .bind(p.name.as_str())
                .execute(&mut *tx.tx)
                .await
        }
        .map_err(db_err)?
        .rows_affected();
        if n > 0 {
            let name = p.name.clone();
            let change = if create { ConfigChange::PresetCreated(name) } else { ConfigChange::PresetUpdated(name) };
            outbox::record(&mut tx.tx, w, &[change.into()]).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn preset(&self, env: i64, name: &str) -> CatalogResult<Option<Preset>> {
        let row = sqlx::query("SELECT name, unsigned, settings FROM upload_presets WHERE env_id = $1 AND name = $2")
            .bind(env)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(preset_row).transpose()
    }

    async fn list_presets(&self, env: i64) -> CatalogResult<Vec<Preset>> {
        let rows = sqlx::query("SELECT name, unsigned, settings FROM upload_presets WHERE env_id = $1 ORDER BY name")
            .bind(env)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(preset_row).collect()
    }

    async fn delete_preset(&self, w: &WriteCtx, name: &str) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM upload_presets WHERE env_id = $1 AND name = $2")
            .bind(w.env())
            .bind(name)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n > 0 {
            outbox::record(&mut tx.tx, w, &[ConfigChange::PresetDeleted(name.to_owned()).into()]).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }
}
