//! Rows to domain values.

use nimbus_app::ports::{CatalogError, CatalogResult};
use nimbus_core::{Asset, Context, PublicId};
use sqlx::Row as _;
use sqlx::any::AnyRow;

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
        metadata: crate::metadata::metadata_from_text(&text("metadata")?)?,
        image_metadata: serde_json::from_str(&text("image_metadata")?).map_err(|_| corrupt("image_metadata", "…"))?,
        created_at: int("created_at")?,
        updated_at: int("updated_at")?,
    };
    Ok((int("id")?, asset))
}

pub(crate) fn context_to_json(c: &Context) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn context_from_json(s: &str) -> CatalogResult<Context> {
    serde_json::from_str(s).map_err(|_| corrupt("context", s))
}
