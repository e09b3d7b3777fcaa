//! Asset folders, kept as rows with their parent so listing children is an index lookup.

use async_trait::async_trait;
use nimbus_app::events::{ConfigChange, WriteCtx};
use nimbus_app::ports::{CatalogResult, FolderRepo};
use sqlx::Row as _;

use crate::{SqlCatalog, db_err, outbox};

/// `a/b/c` -> `a/b`; root folders have parent `""`.
fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

#[async_trait]
impl FolderRepo for SqlCatalog {
    async fn ensure_folder(&self, w: &WriteCtx, path: &str) -> CatalogResult<bool> {
        let (env, now) = (w.env(), w.now);
        // Ancestors of an existing folder exist too (a folder is deleted only when empty), so
        // the common case is one read and no write transaction.
        if self.folder_exists(env, path).await? {
            return Ok(false);
        }
        let mut tx = self.write_tx().await?;
        let mut created_last = false;
        let mut end = 0;
        let segs: Vec<&str> = path.split('/').collect();
        for (i, seg) in segs.iter().enumerate() {
            end += seg.len() + usize::from(i > 0);
            let p = &path[..end];
            let n = sqlx::query("INSERT INTO folders (env_id, path, parent, name, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                .bind(env)
                .bind(p)
                .bind(parent_of(p))
                .bind(*seg)
                .bind(now)
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            created_last = n > 0;
            if created_last {
                outbox::record(&mut tx.tx, w, &[ConfigChange::FolderCreated(p.to_owned()).into()]).await?;
            }
        }
        tx.commit().await?;
        Ok(created_last)
    }

    async fn folder_exists(&self, env: i64, path: &str) -> CatalogResult<bool> {
        let n: Option<i64> = sqlx::query_scalar("SELECT env_id FROM folders WHERE env_id = $1 AND path = $2")
            .bind(env)
            .bind(path)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n.is_some())
    }

    async fn list_folders(&self, env: i64, parent: Option<&str>) -> CatalogResult<Vec<String>> {
        let rows = sqlx::query("SELECT path FROM folders WHERE env_id = $1 AND parent = $2 ORDER BY path")
            .bind(env)
            .bind(parent.unwrap_or(""))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| r.try_get::<String, _>("path").map_err(db_err)).collect()
    }

    async fn all_folders(&self, env: i64) -> CatalogResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT path, created_at FROM folders WHERE env_id = $1 ORDER BY path")
            .bind(env)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("path").map_err(db_err)?,
                    r.try_get::<i64, _>("created_at").map_err(db_err)?,
                ))
            })
            .collect()
    }

    async fn folder_has_content(&self, env: i64, path: &str) -> CatalogResult<bool> {
        let sub = format!("{path}/");
        let sub_end = format!("{path}/{}", char::MAX);
        let assets: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM assets WHERE env_id = $1 AND (asset_folder = $2 OR (asset_folder >= $3 AND asset_folder < $4)) LIMIT 1",
        )
        .bind(env)
        .bind(path)
        .bind(sub.as_str())
        .bind(sub_end.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if assets.is_some() {
            return Ok(true);
        }
        let folders: Option<i64> =
            sqlx::query_scalar("SELECT env_id FROM folders WHERE env_id = $1 AND parent = $2 LIMIT 1")
                .bind(env)
                .bind(path)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(folders.is_some())
    }

    async fn delete_folder(&self, w: &WriteCtx, path: &str) -> CatalogResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM folders WHERE env_id = $1 AND path = $2")
            .bind(w.env())
            .bind(path)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n > 0 {
            outbox::record(&mut tx.tx, w, &[ConfigChange::FolderDeleted(path.to_owned()).into()]).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }
}
