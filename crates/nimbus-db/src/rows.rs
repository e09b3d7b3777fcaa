//! Rows to domain values: assets (with their tags), metadata and context columns.

use std::collections::HashMap;

use nimbus_app::ports::{CatalogError, CatalogResult};
use nimbus_core::{Asset, Context, MetadataValues, PublicId};
use sqlx::AnyConnection;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::binds::{Binds, IN_CHUNK};
use crate::db_err;

/// The asset columns, in the order [`asset`] reads them.
pub(crate) const ASSET_COLS: &str = "id, asset_id, resource_type, delivery_type, public_id, access_mode, headers, version, version_id, format, width, height, bytes, etag, blob_key, original_filename, display_name, asset_folder, context, metadata, image_metadata, created_at, updated_at";

fn corrupt(what: &str, value: &str) -> CatalogError {
    CatalogError(format!("corrupt catalog row: {what} = {value:?}"))
}

/// An asset row (without its tags) and its position.
pub(crate) fn asset(row: &AnyRow) -> CatalogResult<(i64, Asset)> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(db_err);
    let opt_text = |c: &str| row.try_get::<Option<String>, _>(c).map_err(db_err);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(db_err);
    let opt_int = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(db_err);
    let rt = text("resource_type")?;
    let dt = text("delivery_type")?;
    let pid = text("public_id")?;
    let access = text("access_mode")?;
    let ctx = text("context")?;
    let asset = Asset {
        asset_id: text("asset_id")?,
        resource_type: rt.parse().map_err(|_| corrupt("resource_type", &rt))?,
        delivery_type: dt.parse().map_err(|_| corrupt("delivery_type", &dt))?,
        access_mode: access.parse().map_err(|_| corrupt("access_mode", &access))?,
        headers: context_from_json(&text("headers")?)?,
        public_id: PublicId::parse(&pid).map_err(|_| corrupt("public_id", &pid))?,
        version: int("version")?,
        version_id: text("version_id")?,
        format: opt_text("format")?,
        width: opt_int("width")?,
        height: opt_int("height")?,
        bytes: int("bytes")?,
        etag: text("etag")?,
        blob_key: text("blob_key")?,
        original_filename: opt_text("original_filename")?,
        display_name: text("display_name")?,
        asset_folder: text("asset_folder")?,
        tags: Vec::new(),
        context: context_from_json(&ctx)?,
        metadata: metadata_from_text(&text("metadata")?)?,
        image_metadata: serde_json::from_str(&text("image_metadata")?).map_err(|_| corrupt("image_metadata", "…"))?,
        created_at: int("created_at")?,
        updated_at: int("updated_at")?,
    };
    Ok((int("id")?, asset))
}

pub(crate) fn metadata_from_text(text: &str) -> CatalogResult<MetadataValues> {
    serde_json::from_str(text).map_err(|_| CatalogError(format!("corrupt catalog row: metadata = {text:?}")))
}

pub(crate) fn metadata_to_text(m: &MetadataValues) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn context_to_json(c: &Context) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn context_from_json(s: &str) -> CatalogResult<Context> {
    serde_json::from_str(s).map_err(|_| corrupt("context", s))
}

/// Loads the tags of the given rows, in their order of addition.
pub(crate) async fn attach_tags(conn: &mut AnyConnection, rows: &mut [(i64, Asset)]) -> CatalogResult<()> {
    let mut by_pk: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in rows.chunks(IN_CHUNK) {
        let mut b = Binds::default();
        let list = b.int_list(chunk.iter().map(|(pk, _)| *pk));
        let sql = format!("SELECT asset_pk, tag FROM asset_tags WHERE asset_pk IN {list} ORDER BY asset_pk, position");
        let tag_rows = b.apply(&sql).fetch_all(&mut *conn).await.map_err(db_err)?;
        for r in &tag_rows {
            by_pk.entry(r.try_get("asset_pk").map_err(db_err)?).or_default().push(r.try_get("tag").map_err(db_err)?);
        }
    }
    for (pk, a) in rows.iter_mut() {
        a.tags = by_pk.remove(pk).unwrap_or_default();
    }
    Ok(())
}
