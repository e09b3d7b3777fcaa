//! Upload and Admin API calls on existing assets as Cloudinary's clients send them
//! (parameter maps), read into the app's typed requests: `explicit`, `destroy`, `rename`,
//! `tags`, `context`, `metadata`, the Admin API's `update`, bulk deletes and tag listings.
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference>,
//! <https://cloudinary.com/documentation/admin_api#resources>.

use nimbus_app::AppError;
use nimbus_app::assets::{AssetEdit, ContextChange, DeleteOptions, Destroy, Explicit, Rename, TagQuery, TagsChange};
use nimbus_app::bulk_change::BulkChange;
use nimbus_app::derive::parse_eager;
use nimbus_app::honoured::refuse_unhonoured;
use nimbus_app::metadata::values::MetadataWriteRequest;
use nimbus_app::metadata::values::parse_input;
use nimbus_app::params::Params;
use nimbus_app::presets::PresetDraft;
use nimbus_core::DeliveryType;
use nimbus_core::params::{parse_pipe_pairs, parse_tags};

fn required<'a>(p: &'a Params, name: &'static str) -> Result<&'a str, AppError> {
    p.get(name).ok_or(AppError::MissingParam(name))
}

/// `type`, `upload` when not given.
fn delivery_type(p: &Params) -> Result<DeliveryType, AppError> {
    Ok(p.get("type").unwrap_or("upload").parse()?)
}

fn notification_url(p: &Params) -> Option<String> {
    p.get("notification_url").map(str::to_owned)
}

/// `max_results`, when given.
pub fn max_results(p: &Params) -> Result<Option<u32>, AppError> {
    p.get("max_results")
        .map(|v| v.parse::<u32>().map_err(|_| AppError::InvalidParam { name: "max_results", value: v.to_owned() }))
        .transpose()
}

/// The descriptive fields of an `update` or `explicit` (parameters Nimbus does not honour
/// are refused by name).
pub fn asset_edit(p: &Params) -> Result<AssetEdit, AppError> {
    refuse_unhonoured(p)?;
    Ok(AssetEdit {
        tags: p.get("tags").map(parse_tags).or_else(|| p.iter().any(|(k, _)| k == "tags").then(Vec::new)),
        context: p.get("context").map(parse_pipe_pairs),
        display_name: p.get("display_name").map(str::to_owned),
        asset_folder: p.get("asset_folder").map(str::to_owned),
        access_mode: p.get("access_mode").map(str::parse).transpose()?,
        metadata: p.get("metadata").map(parse_input).transpose()?,
        clear_invalid: p.bool("clear_invalid") == Some(true),
        notification_url: notification_url(p),
    })
}

pub fn explicit(p: &Params) -> Result<Explicit, AppError> {
    let edit = asset_edit(p)?;
    Ok(Explicit {
        public_id: required(p, "public_id")?.to_owned(),
        delivery_type: delivery_type(p)?,
        eager: p.get("eager").map(parse_eager).transpose()?.unwrap_or_default(),
        eager_async: p.bool("eager_async") == Some(true),
        eager_notification_url: p.get("eager_notification_url").map(str::to_owned),
        edit,
    })
}

pub fn destroy(p: &Params) -> Result<Destroy, AppError> {
    Ok(Destroy {
        public_id: required(p, "public_id")?.to_owned(),
        delivery_type: delivery_type(p)?,
        notification_url: notification_url(p),
    })
}

pub fn rename(p: &Params) -> Result<Rename, AppError> {
    let from = required(p, "from_public_id")?.to_owned();
    let to = required(p, "to_public_id")?.to_owned();
    let from_type = delivery_type(p)?;
    Ok(Rename {
        from,
        to,
        from_type,
        to_type: p.get("to_type").map_or(Ok(from_type), str::parse)?,
        overwrite: p.bool("overwrite").unwrap_or(false),
        notification_url: notification_url(p),
    })
}

/// `public_ids` of a bulk call (the app counts and checks them).
fn bulk<C>(p: &Params, change: C) -> Result<BulkChange<C>, AppError> {
    Ok(BulkChange {
        delivery_type: delivery_type(p)?,
        public_ids: p.list("public_ids"),
        change,
        notification_url: notification_url(p),
    })
}

pub fn tags(p: &Params) -> Result<BulkChange<TagsChange>, AppError> {
    let tags = || required(p, "tag").map(parse_tags);
    let change = match required(p, "command")? {
        "add" => TagsChange::Add(tags()?),
        "set_exclusive" => TagsChange::SetExclusive(tags()?),
        "remove" => TagsChange::Remove(tags()?),
        "replace" => TagsChange::Replace(tags()?),
        "remove_all" => TagsChange::RemoveAll,
        other => return Err(AppError::InvalidCommand(other.to_owned())),
    };
    bulk(p, change)
}

pub fn context(p: &Params) -> Result<BulkChange<ContextChange>, AppError> {
    let change = match required(p, "command")? {
        "add" => Some(parse_pipe_pairs(required(p, "context")?)),
        "remove_all" => None,
        other => return Err(AppError::InvalidCommand(other.to_owned())),
    };
    bulk(p, change)
}

pub fn metadata(p: &Params) -> Result<BulkChange<MetadataWriteRequest>, AppError> {
    let metadata = parse_input(required(p, "metadata")?)?;
    bulk(p, MetadataWriteRequest { metadata, clear_invalid: p.bool("clear_invalid") == Some(true) })
}

pub fn delete_options(p: &Params) -> DeleteOptions {
    DeleteOptions {
        keep_original: p.bool("keep_original") == Some(true),
        cursor: p.get("next_cursor").map(str::to_owned),
        notification_url: notification_url(p),
    }
}

pub fn tag_query(p: &Params) -> Result<TagQuery, AppError> {
    Ok(TagQuery {
        prefix: p.get("prefix").map(str::to_owned),
        limit: max_results(p)?,
        cursor: p.get("next_cursor").map(str::to_owned),
    })
}

/// Parameters of a preset call that describe the preset itself or the request, not uploads.
const NOT_SETTINGS: [&str; 6] = ["name", "unsigned", "live", "api_key", "timestamp", "signature"];

/// An `upload_presets` create or update: its name, whether unsigned, and the upload settings.
pub fn preset_draft(p: &Params) -> PresetDraft {
    PresetDraft {
        name: p.get("name").map(str::to_owned),
        unsigned: p.bool("unsigned"),
        settings: p
            .iter()
            .filter(|(k, v)| !NOT_SETTINGS.contains(k) && !v.is_empty())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}
