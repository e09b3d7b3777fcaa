//! Assets and their tags.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use nimbus_app::ports::{
    AssetKey, AssetPatch, AssetRepo, BasedOn, CatalogResult, ListQuery, MetadataGuard, Page, Patched, Renamed, Saved,
    TagCommand, Usage,
};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::binds::{Binds, IN_CHUNK};
use crate::rows::{self, ASSET_COLS, attach_tags, context_to_json, metadata_to_text};
use crate::write::{Touched, after_write};
use crate::{SqlCatalog, db_err};
use nimbus_app::events::{AssetRef, Change, Event, Unreferenced, WriteCtx};

/// Upper bound for "starts with" ranges: `p <= x < p || MAX` selects the ids starting with `p`.
const PREFIX_END: char = char::MAX;

/// The tags of the given rows, in their order of addition.
async fn tags_of(conn: &mut AnyConnection, pks: &[i64]) -> CatalogResult<HashMap<i64, Vec<String>>> {
    let mut by_pk = HashMap::new();
    for chunk in pks.chunks(IN_CHUNK) {
        let mut b = Binds::default();
        let list = b.int_list(chunk.iter().copied());
        let sql = format!("SELECT asset_pk, tag FROM asset_tags WHERE asset_pk IN {list} ORDER BY asset_pk, position");
        for r in b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)? {
            by_pk
                .entry(r.try_get("asset_pk").map_err(db_err)?)
                .or_insert_with(Vec::new)
                .push(r.try_get("tag").map_err(db_err)?);
        }
    }
    Ok(by_pk)
}

async fn set_tags(conn: &mut AnyConnection, env: i64, pk: i64, tags: &[String]) -> CatalogResult<()> {
    sqlx::query("DELETE FROM asset_tags WHERE asset_pk = $1").bind(pk).execute(&mut *conn).await.map_err(db_err)?;
    insert_tags(conn, env, pk, tags).await
}

async fn insert_tags(conn: &mut AnyConnection, env: i64, pk: i64, tags: &[String]) -> CatalogResult<()> {
    for (i, t) in tags.iter().enumerate() {
        sqlx::query(
            "INSERT INTO asset_tags (asset_pk, env_id, tag, position) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(pk)
        .bind(env)
        .bind(t.as_str())
        .bind(i as i64)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

fn key_filter(b: &mut Binds, env: i64, key: AssetKey<'_>) -> String {
    format!(
        "env_id = {} AND resource_type = {} AND delivery_type = {} AND public_id = {}",
        b.int(env),
        b.text(key.resource_type.as_str()),
        b.text(key.delivery_type.as_str()),
        b.text(key.public_id.as_str())
    )
}

async fn fetch_one(
    conn: &mut AnyConnection,
    env: i64,
    key: AssetKey<'_>,
    lock: &str,
) -> CatalogResult<Option<(i64, Asset)>> {
    let mut b = Binds::default();
    let sql = format!("SELECT {ASSET_COLS} FROM assets WHERE {}{lock}", key_filter(&mut b, env, key));
    let row: Option<AnyRow> = b.apply(&sql).fetch_optional(&mut *conn).await.map_err(db_err)?;
    let Some(row) = row else { return Ok(None) };
    let mut one = vec![rows::asset(&row)?];
    attach_tags(conn, &mut one).await?;
    Ok(one.pop())
}

/// An asset row found by its public id.
struct Found {
    pk: i64,
    asset: AssetRef,
    blob_key: String,
    version_id: String,
}

/// The rows of `ids` (of one resource and delivery type) that exist, each once; row-locked
/// on dialects that lock.
async fn find_locked(
    conn: &mut AnyConnection,
    env: i64,
    rt: ResourceType,
    dt: DeliveryType,
    ids: &[PublicId],
    lock: &str,
) -> CatalogResult<Vec<Found>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let mut b = Binds::default();
        let sql = format!(
            "SELECT id, asset_id, public_id, version, version_id, blob_key FROM assets WHERE env_id = {} AND resource_type = {} AND delivery_type = {} AND public_id IN {}{lock}",
            b.int(env),
            b.text(rt.as_str()),
            b.text(dt.as_str()),
            b.text_list(chunk.iter().map(PublicId::as_str)),
        );
        let rows = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
        for r in &rows {
            let pk: i64 = r.try_get("id").map_err(db_err)?;
            // An id listed twice, in two chunks, is found twice.
            if !seen.insert(pk) {
                continue;
            }
            let pid: String = r.try_get("public_id").map_err(db_err)?;
            let id = PublicId::parse(&pid)
                .map_err(|_| nimbus_app::ports::CatalogError(format!("corrupt catalog row: public_id = {pid:?}")))?;
            out.push(Found {
                pk,
                asset: AssetRef {
                    asset_id: r.try_get("asset_id").map_err(db_err)?,
                    public_id: id,
                    resource_type: rt,
                    delivery_type: dt,
                    version: r.try_get("version").map_err(db_err)?,
                },
                blob_key: r.try_get("blob_key").map_err(db_err)?,
                version_id: r.try_get("version_id").map_err(db_err)?,
            });
        }
    }
    Ok(out)
}

/// Deletes asset rows, their tags and derivative records, by position (the caller's
/// after-write step removes their index rows).
async fn delete_rows(conn: &mut AnyConnection, pks: &[i64]) -> CatalogResult<()> {
    if pks.is_empty() {
        return Ok(());
    }
    for chunk in pks.chunks(IN_CHUNK) {
        let mut b = Binds::default();
        let sql = format!(
            "DELETE FROM derived_assets WHERE asset_id IN (SELECT asset_id FROM assets WHERE id IN {})",
            b.int_list(chunk.iter().copied())
        );
        b.apply(&sql).execute(&mut *conn).await.map_err(db_err)?;
        for table_col in ["asset_tags WHERE asset_pk", "assets WHERE id"] {
            let mut b = Binds::default();
            let sql = format!("DELETE FROM {table_col} IN {}", b.int_list(chunk.iter().copied()));
            b.apply(&sql).execute(&mut *conn).await.map_err(db_err)?;
        }
    }
    Ok(())
}

async fn insert(conn: &mut AnyConnection, env: i64, a: &Asset) -> CatalogResult<Option<i64>> {
    let pk: Option<i64> = sqlx::query_scalar(
        "INSERT INTO assets (env_id, asset_id, resource_type, delivery_type, public_id, version, version_id, format, width, height, bytes, etag, blob_key, original_filename, display_name, asset_folder, context, metadata, image_metadata, created_at, updated_at, access_mode, headers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) \
         ON CONFLICT (env_id, resource_type, delivery_type, public_id) DO NOTHING RETURNING id",
    )
    .bind(env)
    .bind(a.asset_id.as_str())
    .bind(a.resource_type.as_str())
    .bind(a.delivery_type.as_str())
    .bind(a.public_id.as_str())
    .bind(a.version)
    .bind(a.version_id.as_str())
    .bind(a.format.clone())
    .bind(a.width)
    .bind(a.height)
    .bind(a.bytes)
    .bind(a.etag.as_str())
    .bind(a.blob_key.as_str())
    .bind(a.original_filename.clone())
    .bind(a.display_name.as_str())
    .bind(a.asset_folder.as_str())
    .bind(context_to_json(&a.context))
    .bind(metadata_to_text(&a.metadata))
    .bind(context_to_json(&a.image_metadata))
    .bind(a.created_at)
    .bind(a.updated_at)
    .bind(a.access_mode.as_str())
    .bind(context_to_json(&a.headers))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(pk)
}

/// Inserts new assets with their tags and index rows; existing keys are skipped. A bulk load
/// (benchmarks, imports): no events.
pub(crate) async fn import(conn: &mut AnyConnection, env: i64, assets: &[Asset]) -> CatalogResult<u64> {
    let mut added: Vec<(i64, &Asset)> = Vec::with_capacity(assets.len());
    for a in assets {
        if let Some(pk) = insert(conn, env, a).await? {
            insert_tags(conn, env, pk, &a.tags).await?;
            added.push((pk, a));
        }
    }
    let w = WriteCtx::new(&nimbus_app::events::Caller::system(env), 0);
    after_write(conn, &w, &[Touched::Assets(&added)], &[]).await?;
    Ok(added.len() as u64)
}

/// Replaces the content columns of row `pk` with `a`'s (asset id and creation time stay).
async fn replace(conn: &mut AnyConnection, pk: i64, a: &Asset) -> CatalogResult<()> {
    sqlx::query(
        "UPDATE assets SET version = $1, version_id = $2, format = $3, width = $4, height = $5, bytes = $6, etag = $7, blob_key = $8, \
         original_filename = $9, display_name = $10, asset_folder = $11, context = $12, metadata = $13, updated_at = $14, \
         image_metadata = $15, access_mode = $16, headers = $17 WHERE id = $18",
    )
    .bind(a.version)
    .bind(a.version_id.as_str())
    .bind(a.format.clone())
    .bind(a.width)
    .bind(a.height)
    .bind(a.bytes)
    .bind(a.etag.as_str())
    .bind(a.blob_key.as_str())
    .bind(a.original_filename.clone())
    .bind(a.display_name.as_str())
    .bind(a.asset_folder.as_str())
    .bind(context_to_json(&a.context))
    .bind(metadata_to_text(&a.metadata))
    .bind(a.updated_at)
    .bind(context_to_json(&a.image_metadata))
    .bind(a.access_mode.as_str())
    .bind(context_to_json(&a.headers))
    .bind(pk)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// An id filter split for `IN` lists: chunks of at most [`IN_CHUNK`] ids, or one empty chunk
/// (no filter) for an empty list.
fn filter_chunks(ids: &[String]) -> Vec<&[String]> {
    if ids.is_empty() { vec![ids] } else { ids.chunks(IN_CHUNK).collect() }
}

/// One statement of a listing: the query's filters, with `public_ids` and `asset_ids` (when
/// not empty) in place of the query's lists; at most `fetch` rows in page order.
fn list_sql(env: i64, q: &ListQuery, public_ids: &[String], asset_ids: &[String], fetch: i64) -> (String, Binds) {
    let mut b = Binds::default();
    let mut conds = vec![format!("env_id = {}", b.int(env))];
    if let Some(rt) = q.resource_type {
        conds.push(format!("resource_type = {}", b.text(rt.as_str())));
    }
    if let Some(dt) = q.delivery_type {
        conds.push(format!("delivery_type = {}", b.text(dt.as_str())));
    }
    if let Some(p) = &q.prefix {
        conds.push(format!(
            "public_id >= {} AND public_id < {}",
            b.text(p.as_str()),
            b.text(format!("{p}{PREFIX_END}"))
        ));
    }
    if let Some(t) = &q.tag {
        conds.push(format!(
            "id IN (SELECT asset_pk FROM asset_tags WHERE env_id = {} AND tag = {})",
            b.int(env),
            b.text(t.as_str())
        ));
    }
    if !public_ids.is_empty() {
        conds.push(format!("public_id IN {}", b.text_list(public_ids.iter().map(String::as_str))));
    }
    if !asset_ids.is_empty() {
        conds.push(format!("asset_id IN {}", b.text_list(asset_ids.iter().map(String::as_str))));
    }
    if let Some(f) = &q.asset_folder {
        conds.push(format!("asset_folder = {}", b.text(f.as_str())));
    }
    if let Some(after) = q.after {
        let op = if q.ascending { ">" } else { "<" };
        conds.push(format!("id {op} {}", b.int(after)));
    }
    let order = if q.ascending { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {ASSET_COLS} FROM assets WHERE {} ORDER BY id {order} LIMIT {}",
        conds.join(" AND "),
        b.int(fetch)
    );
    (sql, b)
}

#[async_trait]
impl AssetRepo for SqlCatalog {
    async fn save_asset(
        &self,
        w: &WriteCtx,
        asset: &Asset,
        overwrite: bool,
        guard: Option<&MetadataGuard>,
    ) -> CatalogResult<Saved> {
        let env = w.env();
        let mut tx = self.write_tx().await?;
        if let Some(g) = guard {
            if crate::metadata::locked_version(&mut tx.tx, env, self.dialect).await? != g.schema_version {
                tx.rollback().await?;
                return Ok(Saved::Stale);
            }
        }
        let stale = |found: Option<&nimbus_core::MetadataValues>| match guard.map(|g| &g.based_on) {
            None | Some(BasedOn::Anything) => false,
            Some(BasedOn::NewAsset) => found.is_some(),
            Some(BasedOn::Stored(m)) => found != Some(m),
        };
        let key = AssetKey {
            resource_type: asset.resource_type,
            delivery_type: asset.delivery_type,
            public_id: &asset.public_id,
        };
        let saved = if let Some(pk) = insert(&mut tx.tx, env, asset).await? {
            if stale(None) {
                tx.rollback().await?;
                return Ok(Saved::Stale);
            }
            insert_tags(&mut tx.tx, env, pk, &asset.tags).await?;
            let uploaded = Event::Uploaded { asset: Box::new(asset.clone()), overwritten: false, replaced: None };
            after_write(&mut tx.tx, w, &[Touched::Assets(&[(pk, asset)])], &[uploaded]).await?;
            Saved::Inserted(asset.clone())
        } else {
            let (pk, old) = fetch_one(&mut tx.tx, env, key, self.dialect.for_update())
                .await?
                .ok_or_else(|| nimbus_app::ports::CatalogError("asset vanished during save".into()))?;
            if overwrite && stale(Some(&old.metadata)) {
                tx.rollback().await?;
                return Ok(Saved::Stale);
            }
            if overwrite {
                let stored = Asset {
                    asset_id: old.asset_id.clone(),
                    created_at: old.created_at,
                    version: asset.version.max(old.version + 1),
                    ..asset.clone()
                };
                replace(&mut tx.tx, pk, &stored).await?;
                set_tags(&mut tx.tx, env, pk, &asset.tags).await?;
                let uploaded = Event::Uploaded {
                    asset: Box::new(stored.clone()),
                    overwritten: true,
                    replaced: Some(Unreferenced::from(&old)),
                };
                after_write(&mut tx.tx, w, &[Touched::Assets(&[(pk, &stored)])], &[uploaded]).await?;
                Saved::Replaced { asset: stored, old_blob: old.blob_key }
            } else {
                tx.rollback().await?;
                return Ok(Saved::Existing(old));
            }
        };
        tx.commit().await?;
        Ok(saved)
    }

    async fn asset(&self, env: i64, key: AssetKey<'_>) -> CatalogResult<Option<Asset>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        Ok(fetch_one(&mut conn, env, key, "").await?.map(|(_, a)| a))
    }

    async fn asset_versions(&self, env: i64, asset_id: &str) -> CatalogResult<Vec<nimbus_app::ports::AssetVersion>> {
        self.versions_of(env, asset_id).await
    }

    async fn asset_by_id(&self, env: i64, asset_id: &str) -> CatalogResult<Option<Asset>> {
        let q = ListQuery { asset_ids: vec![asset_id.to_owned()], limit: 1, ..Default::default() };
        Ok(self.list_assets(env, &q).await?.assets.pop())
    }

    async fn list_assets(&self, env: i64, q: &ListQuery) -> CatalogResult<Page> {
        let limit = q.limit.max(1) as i64;
        // Context filters are applied after the fetch (context is stored as JSON text).
        let fetch = if q.context.is_some() { i64::MAX / 2 } else { limit + 1 };
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        // Long id lists are read a chunk at a time: every row of the whole list's page is
        // among its chunk's first `fetch` rows, so the chunks' pages merged in page order,
        // once each, and cut to `fetch` are the page of the whole list.
        let (pid_chunks, aid_chunks) = (filter_chunks(&q.public_ids), filter_chunks(&q.asset_ids));
        let mut out = Vec::new();
        for pids in &pid_chunks {
            for aids in &aid_chunks {
                let (sql, b) = list_sql(env, q, pids, aids, fetch);
                for r in b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)? {
                    out.push(rows::asset(&r)?);
                }
            }
        }
        if pid_chunks.len() * aid_chunks.len() > 1 {
            out.sort_by_key(|(pk, _)| *pk);
            // An id listed twice, in two chunks, is found twice.
            out.dedup_by_key(|(pk, _)| *pk);
            if !q.ascending {
                out.reverse();
            }
            out.truncate(usize::try_from(fetch).unwrap_or(usize::MAX));
        }
        if let Some((k, v)) = &q.context {
            out.retain(|(_, a)| a.context.iter().any(|(ck, cv)| ck == k && v.as_ref().is_none_or(|v| v == cv)));
        }
        let next = if out.len() as i64 > limit {
            out.truncate(limit as usize);
            out.last().map(|(pk, _)| *pk)
        } else {
            None
        };
        attach_tags(&mut conn, &mut out).await?;
        Ok(Page { assets: out.into_iter().map(|(_, a)| a).collect(), next })
    }

    async fn update_asset(&self, w: &WriteCtx, key: AssetKey<'_>, patch: &AssetPatch) -> CatalogResult<Patched> {
        let (env, now) = (w.env(), w.now);
        let mut tx = self.write_tx().await?;
        let Some((pk, mut a)) = fetch_one(&mut tx.tx, env, key, self.dialect.for_update()).await? else {
            tx.rollback().await?;
            return Ok(Patched::NotFound);
        };
        let before = a.clone();
        if let Some(md) = &patch.metadata {
            if a.metadata != md.expected
                || crate::metadata::locked_version(&mut tx.tx, env, self.dialect).await? != md.schema_version
            {
                tx.rollback().await?;
                return Ok(Patched::Stale);
            }
            a.metadata.clone_from(&md.new);
        }
        if let Some(tags) = &patch.tags {
            set_tags(&mut tx.tx, env, pk, tags).await?;
            a.tags.clone_from(tags);
        }
        if let Some(c) = &patch.context {
            a.context.clone_from(c);
        }
        if let Some(d) = &patch.display_name {
            a.display_name.clone_from(d);
        }
        if let Some(f) = &patch.asset_folder {
            a.asset_folder.clone_from(f);
        }
        if let Some(m) = patch.access_mode {
            a.access_mode = m;
        }
        a.updated_at = now;
        sqlx::query(
            "UPDATE assets SET context = $1, metadata = $2, display_name = $3, asset_folder = $4, updated_at = $5, access_mode = $6 WHERE id = $7",
        )
        .bind(context_to_json(&a.context))
        .bind(metadata_to_text(&a.metadata))
        .bind(a.display_name.as_str())
        .bind(a.asset_folder.as_str())
        .bind(now)
        .bind(a.access_mode.as_str())
        .bind(pk)
        .execute(&mut *tx.tx)
        .await
        .map_err(db_err)?;
        after_write(&mut tx.tx, w, &[Touched::Assets(&[(pk, &a)])], &update_events(&before, &a)).await?;
        tx.commit().await?;
        Ok(Patched::Done(Box::new(a)))
    }

    async fn rename_asset(
        &self,
        w: &WriteCtx,
        from: AssetKey<'_>,
        to: AssetKey<'_>,
        overwrite: bool,
    ) -> CatalogResult<Renamed> {
        let (env, now) = (w.env(), w.now);
        let mut tx = self.write_tx().await?;
        let lock = self.dialect.for_update();
        let Some((pk, mut a)) = fetch_one(&mut tx.tx, env, from, lock).await? else {
            tx.rollback().await?;
            return Ok(Renamed::NotFound);
        };
        let mut replaced_blob = None;
        let mut events = Vec::new();
        let mut deleted = Vec::new();
        if let Some((tpk, target)) = fetch_one(&mut tx.tx, env, to, lock).await? {
            if tpk == pk {
                tx.rollback().await?;
                return Ok(Renamed::Done { asset: Box::new(a), replaced_blob: None });
            }
            if !overwrite {
                tx.rollback().await?;
                return Ok(Renamed::TargetExists);
            }
            delete_rows(&mut tx.tx, &[tpk]).await?;
            deleted.push(tpk);
            events.push(Event::Destroyed { assets: vec![(AssetRef::from(&target), Unreferenced::from(&target))] });
            replaced_blob = Some(target.blob_key);
        }
        sqlx::query("UPDATE assets SET public_id = $1, delivery_type = $2, updated_at = $3 WHERE id = $4")
            .bind(to.public_id.as_str())
            .bind(to.delivery_type.as_str())
            .bind(now)
            .bind(pk)
            .execute(&mut *tx.tx)
            .await
            .map_err(db_err)?;
        let (from_id, from_type) = (a.public_id.clone(), a.delivery_type);
        a.public_id = to.public_id.clone();
        a.delivery_type = to.delivery_type;
        a.updated_at = now;
        events.push(Event::Renamed { asset: Box::new(a.clone()), from: from_id, from_type });
        let touched = [Touched::Deleted(&deleted), Touched::Assets(&[(pk, &a)])];
        after_write(&mut tx.tx, w, &touched, &events).await?;
        tx.commit().await?;
        Ok(Renamed::Done { asset: Box::new(a), replaced_blob })
    }

    async fn delete_assets(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        ids: &[PublicId],
    ) -> CatalogResult<Vec<(PublicId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let found = find_locked(&mut tx.tx, w.env(), rt, dt, ids, self.dialect.for_update()).await?;
        if found.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let pks: Vec<i64> = found.iter().map(|f| f.pk).collect();
        let out: Vec<(PublicId, String)> =
            found.iter().map(|f| (f.asset.public_id.clone(), f.blob_key.clone())).collect();
        delete_rows(&mut tx.tx, &pks).await?;
        let gone = Event::Destroyed {
            assets: found
                .into_iter()
                .map(|f| {
                    let u = Unreferenced { blob_key: f.blob_key, version_id: f.version_id };
                    (f.asset, u)
                })
                .collect(),
        };
        after_write(&mut tx.tx, w, &[Touched::Deleted(&pks)], &[gone]).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn tag_assets(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        ids: &[PublicId],
        cmd: TagCommand<'_>,
    ) -> CatalogResult<Vec<PublicId>> {
        let (env, now) = (w.env(), w.now);
        let mut tx = self.write_tx().await?;
        let found = find_locked(&mut tx.tx, env, rt, dt, ids, self.dialect.for_update()).await?;
        let mut out = Vec::new();
        let pks: Vec<i64> = found.iter().map(|f| f.pk).collect();
        let mut before = tags_of(&mut tx.tx, &pks).await?;
        for f in &found {
            let pk = f.pk;
            match cmd {
                TagCommand::Add(t) => {
                    sqlx::query(
                        "INSERT INTO asset_tags (asset_pk, env_id, tag, position) \
                         SELECT $1, $2, $3, COALESCE(MAX(position), -1) + 1 FROM asset_tags WHERE asset_pk = $1 \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(pk)
                    .bind(env)
                    .bind(t)
                    .execute(&mut *tx.tx)
                    .await
                    .map_err(db_err)?;
                }
                TagCommand::Remove(t) => {
                    sqlx::query("DELETE FROM asset_tags WHERE asset_pk = $1 AND tag = $2")
                        .bind(pk)
                        .bind(t)
                        .execute(&mut *tx.tx)
                        .await
                        .map_err(db_err)?;
                }
                TagCommand::Replace(t) => set_tags(&mut tx.tx, env, pk, t).await?,
                TagCommand::RemoveAll => set_tags(&mut tx.tx, env, pk, &[]).await?,
            }
            sqlx::query("UPDATE assets SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(pk)
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?;
            out.push(f.asset.public_id.clone());
        }
        let mut after = tags_of(&mut tx.tx, &pks).await?;
        let changes = nimbus_app::events::changes(
            found
                .into_iter()
                .map(|f| Change {
                    before: before.remove(&f.pk).unwrap_or_default(),
                    after: after.remove(&f.pk).unwrap_or_default(),
                    asset: f.asset,
                })
                .collect(),
        );
        let events = if changes.is_empty() { Vec::new() } else { vec![Event::TagsChanged { changes }] };
        after_write(&mut tx.tx, w, &[Touched::Rows(&pks)], &events).await?;
        tx.commit().await?;
        out.sort();
        Ok(out)
    }

    async fn list_tags(
        &self,
        env: i64,
        rt: ResourceType,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> CatalogResult<Vec<String>> {
        let mut b = Binds::default();
        let mut conds =
            vec![format!("t.env_id = {}", b.int(env)), format!("a.resource_type = {}", b.text(rt.as_str()))];
        if let Some(p) = prefix {
            conds.push(format!("t.tag >= {} AND t.tag < {}", b.text(p), b.text(format!("{p}{PREFIX_END}"))));
        }
        if let Some(a) = after {
            conds.push(format!("t.tag > {}", b.text(a)));
        }
        let sql = format!(
            "SELECT DISTINCT t.tag AS tag FROM asset_tags t JOIN assets a ON a.id = t.asset_pk WHERE {} ORDER BY t.tag LIMIT {}",
            conds.join(" AND "),
            b.int(i64::from(limit))
        );
        let rows_ = b.apply(&sql).fetch_all(&self.pool).await.map_err(db_err)?;
        rows_.iter().map(|r| r.try_get::<String, _>("tag").map_err(db_err)).collect()
    }

    async fn usage(&self, env: i64) -> CatalogResult<Usage> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS b FROM assets WHERE env_id = $1",
        )
        .bind(env)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Usage { resources: row.try_get("n").map_err(db_err)?, bytes: row.try_get("b").map_err(db_err)? })
    }

    async fn blob_keys_in_use(&self, keys: &[String]) -> CatalogResult<HashSet<String>> {
        if keys.is_empty() {
            return Ok(HashSet::new());
        }
        let mut used = HashSet::new();
        for chunk in keys.chunks(IN_CHUNK) {
            let mut b = Binds::default();
            let sql = format!(
                "SELECT blob_key FROM assets WHERE blob_key IN {}",
                b.text_list(chunk.iter().map(String::as_str))
            );
            for r in b.apply(&sql).fetch_all(&self.pool).await.map_err(db_err)? {
                used.insert(r.try_get::<String, _>("blob_key").map_err(db_err)?);
            }
        }
        Ok(used)
    }
}

/// The events of an update: which descriptive parts of the asset changed.
fn update_events(before: &Asset, after: &Asset) -> Vec<Event> {
    let r = AssetRef::from(after);
    let mut out = Vec::new();
    if before.tags != after.tags {
        out.push(Event::TagsChanged {
            changes: vec![Change { asset: r.clone(), before: before.tags.clone(), after: after.tags.clone() }],
        });
    }
    if before.context != after.context {
        out.push(Event::ContextChanged {
            changes: vec![Change { asset: r.clone(), before: before.context.clone(), after: after.context.clone() }],
        });
    }
    if before.metadata != after.metadata {
        out.push(Event::MetadataChanged {
            changes: vec![Change { asset: r, before: before.metadata.clone(), after: after.metadata.clone() }],
        });
    }
    if before.display_name != after.display_name
        || before.asset_folder != after.asset_folder
        || before.access_mode != after.access_mode
    {
        out.push(Event::Updated { asset: Box::new(after.clone()) });
    }
    out
}
