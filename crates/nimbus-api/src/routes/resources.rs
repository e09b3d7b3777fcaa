//! Admin API resources: list, get, update, delete.
//! Docs: <https://cloudinary.com/documentation/admin_api#resources>.

use nimbus_app::App;
use nimbus_app::access::AccessSelector;
use nimbus_app::assets::{DeleteSelector, Deleted, checked_limit, decode_cursor};
use nimbus_app::ports::ListQuery;
use nimbus_core::{AccessMode, Asset, DeliveryType};
use serde_json::{Map, Value, json};

use super::{AdminCall, resource_type};
use crate::error::ApiResult;
use crate::wire::{self, Include, commands};

/// Keys kept in every listed resource, whatever `fields` asks for.
const ALWAYS: [&str; 3] = ["public_id", "asset_id", "folder"];

fn base_query(call: &AdminCall) -> ApiResult<ListQuery> {
    let p = &call.params;
    Ok(ListQuery {
        prefix: p.get("prefix").map(str::to_owned),
        after: p.get("next_cursor").map(decode_cursor).transpose()?,
        limit: checked_limit(commands::max_results(p)?)?,
        ascending: matches!(p.get("direction"), Some("asc" | "1" | "ascending")),
        ..Default::default()
    })
}

fn page(app: &App, call: &AdminCall, assets: &[Asset], next: Option<String>) -> Value {
    let p = &call.params;
    let fields = p.list("fields");
    let include = Include {
        tags: p.bool("tags") == Some(true) || fields.iter().any(|f| f == "tags"),
        empty_tags: true,
        context: p.bool("context") == Some(true) || fields.iter().any(|f| f == "context"),
        metadata: p.bool("metadata") == Some(true) || fields.iter().any(|f| f == "metadata"),
    };
    let resources: Vec<Value> = assets
        .iter()
        .map(|a| {
            let mut m = wire::resource(app, &call.cloud, a, include, Some(&call.secret));
            if !fields.is_empty() {
                m.insert("folder".into(), json!(a.public_id.folder()));
                m.retain(|k, _| ALWAYS.contains(&k.as_str()) || fields.iter().any(|f| f == k));
            }
            Value::Object(m)
        })
        .collect();
    let mut v = json!({ "resources": resources });
    if let Some(n) = next {
        v["next_cursor"] = json!(n);
    }
    v
}

async fn run(app: &App, call: &AdminCall, q: ListQuery) -> ApiResult<Value> {
    let (assets, next) = app.list_assets(call.env.id, &q).await?;
    Ok(page(app, call, &assets, next))
}

pub async fn list(app: &App, call: &AdminCall, rt: &str, dt: Option<&str>) -> ApiResult<Value> {
    let mut q = base_query(call)?;
    q.resource_type = Some(resource_type(rt)?);
    q.delivery_type = dt
        .or(call.params.get("type"))
        .map(str::parse::<DeliveryType>)
        .transpose()
        .map_err(nimbus_app::AppError::from)?;
    q.public_ids = call.params.list("public_ids");
    if !q.public_ids.is_empty() {
        q.limit = q.public_ids.len().max(1) as u32;
    }
    run(app, call, q).await
}

pub async fn by_tag(app: &App, call: &AdminCall, rt: &str, tag: String) -> ApiResult<Value> {
    let mut q = base_query(call)?;
    q.resource_type = Some(resource_type(rt)?);
    q.tag = Some(tag);
    run(app, call, q).await
}

pub async fn by_context(app: &App, call: &AdminCall, rt: &str) -> ApiResult<Value> {
    let mut q = base_query(call)?;
    q.resource_type = Some(resource_type(rt)?);
    let key = call.params.get("key").ok_or(nimbus_app::AppError::MissingParam("key"))?;
    q.context = Some((key.to_owned(), call.params.get("value").map(str::to_owned)));
    run(app, call, q).await
}

pub async fn by_asset_ids(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let mut q = base_query(call)?;
    q.asset_ids = call.params.list("asset_ids");
    q.limit = q.asset_ids.len().max(1) as u32;
    run(app, call, q).await
}

pub async fn by_asset_folder(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let mut q = base_query(call)?;
    let folder = call.params.get("asset_folder").ok_or(nimbus_app::AppError::MissingParam("asset_folder"))?;
    let folder = folder.trim_matches('/').to_owned();
    q.asset_folder = Some(folder.clone());
    let mut v = run(app, call, q).await?;
    v["total_count"] = json!(app.count_in_asset_folder(call.env.id, &folder).await?);
    Ok(v)
}

async fn detail(app: &App, call: &AdminCall, a: &Asset) -> ApiResult<Value> {
    let mut m: Map<String, Value> = wire::resource(app, &call.cloud, a, Include::ALL, Some(&call.secret));
    let derived = app.derived_of(call.env.id, a).await?;
    m.insert("derived".into(), derived.iter().map(|d| wire::derived(app, &call.cloud, a, d, &call.secret)).collect());
    if a.resource_type == nimbus_core::ResourceType::Image {
        if wire::wants_image_metadata(&call.params) {
            m.insert("image_metadata".into(), wire::image_metadata(a));
        }
        // The older `exif` flag answers the same fields under its own key.
        if call.params.bool("exif") == Some(true) {
            m.insert("exif".into(), wire::image_metadata(a));
        }
    }
    Ok(Value::Object(m))
}

pub async fn get(app: &App, call: &AdminCall, rt: &str, dt: &str, public_id: &str) -> ApiResult<Value> {
    let dt: DeliveryType = dt.parse().map_err(nimbus_app::AppError::from)?;
    let a = app.get_asset(call.env.id, resource_type(rt)?, dt, public_id).await?;
    detail(app, call, &a).await
}

pub async fn get_by_asset_id(app: &App, call: &AdminCall, asset_id: &str) -> ApiResult<Value> {
    let a = app.get_asset_by_id(call.env.id, asset_id).await?;
    detail(app, call, &a).await
}

pub async fn update(app: &App, call: &AdminCall, rt: &str, dt: &str, public_id: &str) -> ApiResult<Value> {
    let dt: DeliveryType = dt.parse().map_err(nimbus_app::AppError::from)?;
    let edit = commands::asset_edit(&call.params)?;
    let (a, warnings) = app.edit_asset(&call.caller(), resource_type(rt)?, dt, public_id, edit).await?;
    let mut v = detail(app, call, &a).await?;
    wire::add_warnings(&mut v, &warnings);
    Ok(v)
}

fn deleted(d: &Deleted) -> Value {
    let mut results = Map::new();
    let mut counts = Map::new();
    for (id, found) in &d.results {
        let removed = *found && !d.kept_original;
        results.insert(id.clone(), json!(if *found { "deleted" } else { "not_found" }));
        counts.insert(id.clone(), json!({ "original": u8::from(removed), "derived": 0 }));
    }
    let mut v = json!({ "deleted": results, "deleted_counts": counts, "partial": d.next_cursor.is_some() });
    if let Some(n) = &d.next_cursor {
        v["next_cursor"] = json!(n);
    }
    v
}

pub async fn delete(app: &App, call: &AdminCall, rt: &str, dt: &str) -> ApiResult<Value> {
    let dt: DeliveryType = dt.parse().map_err(nimbus_app::AppError::from)?;
    let p = &call.params;
    // `delete_derived_by_transformation`: derivatives are not deleted one transformation at a
    // time yet; refused rather than answered as a delete of the originals.
    if p.get("transformations").is_some() {
        return Err(nimbus_app::AppError::Unsupported("transformations".to_owned()).into());
    }
    let selector = if let Some(prefix) = p.get("prefix") {
        DeleteSelector::Prefix(prefix.to_owned())
    } else if p.bool("all") == Some(true) {
        DeleteSelector::All
    } else {
        let ids = p.list("public_ids");
        if ids.is_empty() {
            return Err(nimbus_app::AppError::MissingParam("public_ids").into());
        }
        DeleteSelector::PublicIds(ids)
    };
    let d = app.delete_assets(&call.caller(), resource_type(rt)?, dt, selector, &commands::delete_options(p)).await?;
    Ok(deleted(&d))
}

pub async fn delete_by_tag(app: &App, call: &AdminCall, rt: &str, tag: String) -> ApiResult<Value> {
    let d = app
        .delete_assets(
            &call.caller(),
            resource_type(rt)?,
            DeliveryType::Upload,
            DeleteSelector::Tag(tag),
            &commands::delete_options(&call.params),
        )
        .await?;
    Ok(deleted(&d))
}

pub async fn delete_by_asset_ids(app: &App, call: &AdminCall) -> ApiResult<Value> {
    let ids = call.params.list("asset_ids");
    if ids.is_empty() {
        return Err(nimbus_app::AppError::MissingParam("asset_ids").into());
    }
    let d = app
        .delete_assets(
            &call.caller(),
            nimbus_core::ResourceType::Image,
            DeliveryType::Upload,
            DeleteSelector::AssetIds(ids.clone()),
            &commands::delete_options(&call.params),
        )
        .await?;
    Ok(deleted(&d))
}

/// Exactly one of `public_ids[]`, `tag` or `prefix`.
fn selector(p: &nimbus_app::params::Params) -> ApiResult<AccessSelector> {
    let ids = p.list("public_ids");
    Ok(match (ids.is_empty(), p.get("tag"), p.get("prefix")) {
        (false, None, None) => AccessSelector::PublicIds(ids),
        (true, Some(tag), None) => AccessSelector::Tag(tag.to_owned()),
        (true, None, Some(prefix)) => AccessSelector::Prefix(prefix.to_owned()),
        (true, None, None) => return Err(nimbus_app::AppError::MissingParam("public_ids, tag or prefix").into()),
        _ => {
            return Err(nimbus_app::AppError::InvalidParam {
                name: "public_ids, tag, prefix",
                value: "more than one given".to_owned(),
            }
            .into());
        }
    })
}

/// `POST resources/{rt}/{type}/update_access_mode` with `access_mode` and one of
/// `public_ids[]`, `tag` or `prefix`.
pub async fn update_access_mode(app: &App, call: &AdminCall, rt: &str, dt: &str) -> ApiResult<Value> {
    let dt: DeliveryType = dt.parse().map_err(nimbus_app::AppError::from)?;
    let p = &call.params;
    let mode: AccessMode = p
        .get("access_mode")
        .ok_or(nimbus_app::AppError::MissingParam("access_mode"))?
        .parse()
        .map_err(nimbus_app::AppError::from)?;
    let selector = selector(p)?;
    let done =
        app.update_access_mode(&call.caller(), resource_type(rt)?, dt, mode, selector, p.get("next_cursor")).await?;
    let updated: Vec<Value> =
        done.updated.iter().map(|id| json!({ "public_id": id.as_str(), "access_mode": mode.as_str() })).collect();
    let mut v = json!({ "updated": updated, "failed": [] });
    if let Some(n) = done.next_cursor {
        v["next_cursor"] = json!(n);
    }
    Ok(v)
}

/// `POST resources/{rt}/publish_resources` with one of `public_ids[]`, `tag` or `prefix`, and
/// optionally `type` (`private` or `authenticated`), `overwrite` and `invalidate` (Nimbus has
/// no CDN cache to invalidate).
pub async fn publish(app: &App, call: &AdminCall, rt: &str) -> ApiResult<Value> {
    let p = &call.params;
    let from: Option<DeliveryType> = p.get("type").map(str::parse).transpose().map_err(nimbus_app::AppError::from)?;
    let overwrite = p.bool("overwrite").unwrap_or(false);
    let done =
        app.publish(&call.caller(), resource_type(rt)?, from, selector(p)?, overwrite, p.get("next_cursor")).await?;
    let published: Vec<Value> = done
        .published
        .iter()
        .map(|a| Value::Object(wire::resource(app, &call.cloud, a, Include::default(), Some(&call.secret))))
        .collect();
    let failed: Vec<Value> =
        done.failed.iter().map(|(id, why)| json!({ "public_id": id, "error": why.message() })).collect();
    let mut v = json!({ "published": published, "failed": failed });
    if let Some(n) = done.next_cursor {
        v["next_cursor"] = json!(n);
    }
    Ok(v)
}
