//! Asset administration: get, list, update, rename, destroy, tags and context, explicit,
//! bulk deletes and usage. Shared by the Upload API actions and the Admin API.

use nimbus_core::metadata::Issue;
use nimbus_core::params::{parse_pipe_pairs, parse_tags};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};

use crate::derive::parse_eager;
use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::limits::{MAX_BULK_IDS, MAX_DELETE_IDS, MAX_LIST_IDS, check_ids};
use crate::metadata::values::parse_input;
use crate::params::Params;
use crate::ports::{AssetKey, AssetPatch, ListQuery, MetadataPatch, Page, Patched, Renamed, TagCommand, Usage};
use crate::upload::Uploaded;
use crate::{App, AppError};

/// Largest page of a listing, and the default.
pub const MAX_RESULTS: u32 = 500;
pub const DEFAULT_RESULTS: u32 = 10;
/// Most assets one bulk delete call removes; the rest come with `next_cursor`.
pub const DELETE_BATCH: u32 = 1000;
/// How often an update is recomputed when the asset's metadata changed underneath it.
const WRITE_ATTEMPTS: usize = 3;

/// Outcome of a bulk delete: per id `deleted` / `not_found`, and where to continue.
/// A change to an asset's descriptive fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AssetEdit {
    pub tags: Option<Vec<String>>,
    pub context: Option<nimbus_core::Context>,
    pub display_name: Option<String>,
    pub asset_folder: Option<String>,
    pub access_mode: Option<nimbus_core::AccessMode>,
    pub metadata: Option<crate::metadata::values::MetadataInput>,
    /// Drop stored metadata values the schema no longer accepts instead of refusing.
    pub clear_invalid: bool,
    /// Where the change is announced, besides the environment's triggers.
    pub notification_url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Deleted {
    pub results: Vec<(String, bool)>,
    pub next_cursor: Option<String>,
    /// Originals kept because `keep_original` was set.
    pub kept_original: bool,
}

/// What selects the assets of a bulk delete.
#[derive(Debug, Clone)]
pub enum DeleteSelector {
    PublicIds(Vec<String>),
    Prefix(String),
    Tag(String),
    All,
    AssetIds(Vec<String>),
}

/// Opaque cursors: the position, hex-encoded.
pub fn encode_cursor(pos: i64) -> String {
    format!("{pos:016x}")
}

pub fn decode_cursor(s: &str) -> AppResult<i64> {
    i64::from_str_radix(s, 16).map_err(|_| AppError::InvalidParam { name: "next_cursor", value: s.to_owned() })
}

/// `max_results` clamped to Cloudinary's range.
pub fn max_results(params: &Params) -> AppResult<u32> {
    match params.get("max_results") {
        None => Ok(DEFAULT_RESULTS),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_RESULTS).contains(&n) => Ok(n),
            _ => Err(AppError::InvalidParam { name: "max_results", value: v.to_owned() }),
        },
    }
}

/// The `public_ids` of an Upload API bulk call (`tags`, `context`): at least one, at most
/// [`MAX_BULK_IDS`], counted before any is parsed.
fn bulk_ids(params: &Params) -> AppResult<Vec<PublicId>> {
    let ids = params.list("public_ids");
    if ids.is_empty() {
        return Err(AppError::MissingParam("public_ids"));
    }
    check_ids("public_ids", ids.len(), MAX_BULK_IDS)?;
    ids.iter().map(|s| PublicId::parse(s).map_err(AppError::from)).collect()
}

impl App {
    pub async fn get_asset(&self, env: i64, rt: ResourceType, dt: DeliveryType, public_id: &str) -> AppResult<Asset> {
        let id = PublicId::parse(public_id)?;
        self.catalog
            .asset(env, AssetKey { resource_type: rt, delivery_type: dt, public_id: &id })
            .await?
            .ok_or_else(|| AppError::ResourceNotFound(public_id.to_owned()))
    }

    pub async fn get_asset_by_id(&self, env: i64, asset_id: &str) -> AppResult<Asset> {
        self.catalog.asset_by_id(env, asset_id).await?.ok_or_else(|| AppError::ResourceNotFound(asset_id.to_owned()))
    }

    pub async fn list_assets(&self, env: i64, q: &ListQuery) -> AppResult<(Vec<Asset>, Option<String>)> {
        check_ids("public_ids", q.public_ids.len(), MAX_LIST_IDS)?;
        check_ids("asset_ids", q.asset_ids.len(), MAX_LIST_IDS)?;
        let Page { assets, next } = self.catalog.list_assets(env, q).await?;
        Ok((assets, next.map(encode_cursor)))
    }

    /// Admin `update`: the wire parameters as an [`AssetEdit`].
    pub async fn update_asset(
        &self,
        caller: &Caller,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
        params: &Params,
    ) -> AppResult<(Asset, Vec<Issue>)> {
        crate::honoured::refuse_unhonoured(params)?;
        let edit = AssetEdit {
            tags: params.get("tags").map(parse_tags).or_else(|| params.iter().any(|(k, _)| k == "tags").then(Vec::new)),
            context: params.get("context").map(parse_pipe_pairs),
            display_name: params.get("display_name").map(str::to_owned),
            asset_folder: params.get("asset_folder").map(str::to_owned),
            access_mode: params.get("access_mode").map(str::parse).transpose()?,
            metadata: params.get("metadata").map(parse_input).transpose()?,
            clear_invalid: params.bool("clear_invalid") == Some(true),
            notification_url: self.notification_url(params)?,
        };
        self.edit_asset(caller, rt, dt, public_id, edit).await
    }

    /// Changes an asset's descriptive fields: tags, context, display name, asset folder,
    /// access mode and metadata (through the metadata write path, rules applied). Returns the
    /// asset and the metadata warnings. The API's `update` and the console's forms both
    /// come here.
    pub async fn edit_asset(
        &self,
        caller: &Caller,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
        edit: AssetEdit,
    ) -> AppResult<(Asset, Vec<Issue>)> {
        let env = caller.env;
        let id = PublicId::parse(public_id)?;
        let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &id };
        let mut patch = AssetPatch {
            tags: edit.tags,
            context: edit.context,
            display_name: edit.display_name,
            asset_folder: edit.asset_folder.map(|f| f.trim_matches('/').to_owned()),
            access_mode: edit.access_mode,
            metadata: None,
        };
        for _ in 0..WRITE_ATTEMPTS {
            let mut warnings = Vec::new();
            if let Some(input) = &edit.metadata {
                let stored = self
                    .catalog
                    .asset(env, key)
                    .await?
                    .ok_or_else(|| AppError::ResourceNotFound(public_id.to_owned()))?;
                let out = self.metadata_for_write(env, &stored.metadata, input, false, edit.clear_invalid).await?;
                warnings = out.warnings;
                patch.metadata = Some(MetadataPatch {
                    expected: stored.metadata,
                    new: out.values,
                    schema_version: out.schema_version,
                });
            }
            let now = self.now();
            let w = WriteCtx::new(caller, now).notify(edit.notification_url.clone());
            match self.catalog.update_asset(&w, key, &patch).await? {
                Patched::Done(asset) => {
                    self.changed();
                    if let Some(folder) = patch.asset_folder.filter(|f| !f.is_empty()) {
                        self.catalog.ensure_folder(&WriteCtx::new(caller, now), &folder).await?;
                    }
                    return Ok((*asset, warnings));
                }
                Patched::NotFound => return Err(AppError::ResourceNotFound(public_id.to_owned())),
                Patched::Stale => continue,
            }
        }
        Err(AppError::MetadataBusy)
    }

    /// Upload API `explicit`: applies descriptive parameters to an existing asset.
    pub async fn explicit(&self, caller: &Caller, rt: ResourceType, params: &Params) -> AppResult<Uploaded> {
        crate::honoured::refuse_unhonoured(params)?;
        let public_id = params.get("public_id").ok_or(AppError::MissingParam("public_id"))?;
        let dt: DeliveryType = params.get("type").unwrap_or("upload").parse()?;
        let eager = params.get("eager").map(parse_eager).transpose()?.unwrap_or_default();
        let (asset, metadata_warnings) = self.update_asset(caller, rt, dt, public_id, params).await?;
        let eager = if eager.is_empty() {
            Vec::new()
        } else {
            if params.bool("eager_async") == Some(true) {
                let notify = self.eager_notification_url(params)?;
                let (job, pending) = self.eager_later(caller, &asset, &eager, notify).await?;
                self.catalog.enqueue(&job, self.now()).await?;
                self.wake.notify_one();
                pending
            } else {
                self.eager(caller.env, &std::sync::Arc::new(asset.clone()), &eager).await?
            }
        };
        Ok(Uploaded { asset, existing: false, overwritten: false, metadata_warnings, eager })
    }

    /// Upload API `destroy`: whether the asset existed.
    pub async fn destroy(&self, caller: &Caller, rt: ResourceType, params: &Params) -> AppResult<bool> {
        let public_id = params.get("public_id").ok_or(AppError::MissingParam("public_id"))?;
        let dt: DeliveryType = params.get("type").unwrap_or("upload").parse()?;
        let id = PublicId::parse(public_id)?;
        let w = WriteCtx::new(caller, self.now()).notify(self.notification_url(params)?);
        // The blobs go by a job, relayed from the deletion's event.
        let gone = self.catalog.delete_assets(&w, rt, dt, std::slice::from_ref(&id)).await?;
        self.changed();
        Ok(!gone.is_empty())
    }

    /// Upload API `rename`.
    pub async fn rename(&self, caller: &Caller, rt: ResourceType, params: &Params) -> AppResult<Asset> {
        let from = params.get("from_public_id").ok_or(AppError::MissingParam("from_public_id"))?;
        let to = params.get("to_public_id").ok_or(AppError::MissingParam("to_public_id"))?;
        let from_dt: DeliveryType = params.get("type").unwrap_or("upload").parse()?;
        let to_dt: DeliveryType = params.get("to_type").map_or(Ok(from_dt), str::parse)?;
        let (from_id, to_id) = (PublicId::parse(from)?, PublicId::parse(to)?);
        let overwrite = params.bool("overwrite").unwrap_or(false);
        let w = WriteCtx::new(caller, self.now()).notify(self.notification_url(params)?);
        let outcome = self
            .catalog
            .rename_asset(
                &w,
                AssetKey { resource_type: rt, delivery_type: from_dt, public_id: &from_id },
                AssetKey { resource_type: rt, delivery_type: to_dt, public_id: &to_id },
                overwrite,
            )
            .await?;
        self.changed();
        match outcome {
            // A replaced target's blobs go by a job, relayed from the rename's event.
            Renamed::Done { asset, .. } => Ok(*asset),
            Renamed::NotFound => Err(AppError::ResourceNotFound(from.to_owned())),
            Renamed::TargetExists => Err(AppError::TargetExists(to.to_owned())),
        }
    }

    /// Upload API `tags`: returns the public ids that exist.
    pub async fn tags_command(&self, caller: &Caller, rt: ResourceType, params: &Params) -> AppResult<Vec<PublicId>> {
        let command = params.get("command").ok_or(AppError::MissingParam("command"))?;
        let dt: DeliveryType = params.get("type").unwrap_or("upload").parse()?;
        let ids = bulk_ids(params)?;
        let tag = params.get("tag");
        let w = WriteCtx::new(caller, self.now()).notify(self.notification_url(params)?);
        let need_tag = || tag.ok_or(AppError::MissingParam("tag"));
        match command {
            "add" | "set_exclusive" => {
                let mut found = Vec::new();
                for t in parse_tags(need_tag()?) {
                    if command == "set_exclusive" {
                        self.remove_tag_everywhere(&w, rt, dt, &t).await?;
                    }
                    found = self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::Add(&t)).await?;
                }
                Ok(found)
            }
            "remove" => {
                let mut found = Vec::new();
                for t in parse_tags(need_tag()?) {
                    found = self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::Remove(&t)).await?;
                }
                Ok(found)
            }
            "replace" => Ok(self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::Replace(need_tag()?)).await?),
            "remove_all" => Ok(self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::RemoveAll).await?),
            other => Err(AppError::InvalidCommand(other.to_owned())),
        }
    }

    async fn remove_tag_everywhere(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        tag: &str,
    ) -> AppResult<()> {
        let env = w.env();
        let mut after = None;
        loop {
            let q = ListQuery {
                resource_type: Some(rt),
                delivery_type: Some(dt),
                tag: Some(tag.to_owned()),
                after,
                limit: MAX_RESULTS,
                ..Default::default()
            };
            let page = self.catalog.list_assets(env, &q).await?;
            let ids: Vec<PublicId> = page.assets.into_iter().map(|a| a.public_id).collect();
            if !ids.is_empty() {
                self.catalog.tag_assets(w, rt, dt, &ids, TagCommand::Remove(tag)).await?;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }

    /// Upload API `context`: `add` merges pairs, `remove_all` clears.
    pub async fn context_command(
        &self,
        caller: &Caller,
        rt: ResourceType,
        params: &Params,
    ) -> AppResult<Vec<PublicId>> {
        let env = caller.env;
        let notify = self.notification_url(params)?;
        let command = params.get("command").ok_or(AppError::MissingParam("command"))?;
        let dt: DeliveryType = params.get("type").unwrap_or("upload").parse()?;
        let ids = bulk_ids(params)?;
        let add = match command {
            "add" => Some(parse_pipe_pairs(params.get("context").ok_or(AppError::MissingParam("context"))?)),
            "remove_all" => None,
            other => return Err(AppError::InvalidCommand(other.to_owned())),
        };
        let mut found = Vec::new();
        for id in ids {
            let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &id };
            let Some(asset) = self.catalog.asset(env, key).await? else {
                continue;
            };
            let context = match &add {
                Some(pairs) => {
                    let mut ctx = asset.context.clone();
                    for (k, v) in pairs {
                        match ctx.iter_mut().find(|(ck, _)| ck == k) {
                            Some((_, cv)) => cv.clone_from(v),
                            None => ctx.push((k.clone(), v.clone())),
                        }
                    }
                    ctx
                }
                None => Vec::new(),
            };
            let patch = AssetPatch { context: Some(context), ..Default::default() };
            let w = WriteCtx::new(caller, self.now()).notify(notify.clone());
            if matches!(self.catalog.update_asset(&w, key, &patch).await?, Patched::Done(_)) {
                found.push(id);
            }
        }
        Ok(found)
    }

    /// Admin bulk delete.
    /// Deletes the assets with these ids, of any type; returns how many there were. The
    /// console's delete (one asset or a selection) comes here.
    pub async fn remove_assets(&self, caller: &Caller, asset_ids: &[String]) -> AppResult<usize> {
        check_ids("asset_ids", asset_ids.len(), MAX_DELETE_IDS)?;
        let q = ListQuery { asset_ids: asset_ids.to_vec(), limit: MAX_DELETE_IDS as u32, ..Default::default() };
        let found = self.catalog.list_assets(caller.env, &q).await?.assets;
        let w = WriteCtx::new(caller, self.now());
        for a in &found {
            self.catalog
                .delete_assets(&w, a.resource_type, a.delivery_type, std::slice::from_ref(&a.public_id))
                .await?;
        }
        self.changed();
        Ok(found.len())
    }

    pub async fn delete_assets(
        &self,
        caller: &Caller,
        rt: ResourceType,
        dt: DeliveryType,
        selector: DeleteSelector,
        params: &Params,
    ) -> AppResult<Deleted> {
        match &selector {
            DeleteSelector::PublicIds(ids) => check_ids("public_ids", ids.len(), MAX_DELETE_IDS)?,
            DeleteSelector::AssetIds(ids) => check_ids("asset_ids", ids.len(), MAX_DELETE_IDS)?,
            DeleteSelector::Prefix(_) | DeleteSelector::Tag(_) | DeleteSelector::All => {}
        }
        let env = caller.env;
        let w = WriteCtx::new(caller, self.now()).notify(self.notification_url(params)?);
        let keep_original = params.bool("keep_original") == Some(true);
        let after = params.get("next_cursor").map(decode_cursor).transpose()?;
        let mut out = Deleted { kept_original: keep_original, ..Default::default() };
        let base = ListQuery {
            resource_type: Some(rt),
            delivery_type: Some(dt),
            after,
            limit: DELETE_BATCH,
            ..Default::default()
        };
        let by_asset_id = matches!(selector, DeleteSelector::AssetIds(_));
        let (candidates, asked): (Vec<Asset>, Vec<String>) = match selector {
            DeleteSelector::PublicIds(ids) => {
                let q = ListQuery { public_ids: ids.clone(), after: None, ..base };
                (self.catalog.list_assets(env, &q).await?.assets, ids)
            }
            DeleteSelector::AssetIds(ids) => {
                let q =
                    ListQuery { asset_ids: ids.clone(), resource_type: None, delivery_type: None, after: None, ..base };
                (self.catalog.list_assets(env, &q).await?.assets, ids)
            }
            sel => {
                let q = match sel {
                    DeleteSelector::Prefix(p) => ListQuery { prefix: Some(p), ..base },
                    DeleteSelector::Tag(t) => ListQuery { tag: Some(t), delivery_type: None, ..base },
                    _ => base,
                };
                let page = self.catalog.list_assets(env, &q).await?;
                out.next_cursor = page.next.map(encode_cursor);
                (page.assets, Vec::new())
            }
        };
        if !keep_original {
            // Group by (rt, dt): tag and asset-id selections may span delivery types.
            let mut groups: Vec<((ResourceType, DeliveryType), Vec<PublicId>)> = Vec::new();
            for a in &candidates {
                let k = (a.resource_type, a.delivery_type);
                match groups.iter_mut().find(|(gk, _)| *gk == k) {
                    Some((_, v)) => v.push(a.public_id.clone()),
                    None => groups.push((k, vec![a.public_id.clone()])),
                }
            }
            for ((grt, gdt), ids) in groups {
                self.catalog.delete_assets(&w, grt, gdt, &ids).await?;
            }
            self.changed();
        }
        let key = |a: &Asset| {
            if by_asset_id { a.asset_id.clone() } else { a.public_id.to_string() }
        };
        for a in &candidates {
            out.results.push((key(a), true));
        }
        for id in asked {
            if !candidates.iter().any(|a| key(a) == id) {
                out.results.push((id, false));
            }
        }
        Ok(out)
    }

    pub async fn list_tags(
        &self,
        env: i64,
        rt: ResourceType,
        params: &Params,
    ) -> AppResult<(Vec<String>, Option<String>)> {
        let limit = max_results(params)?;
        let after = params
            .get("next_cursor")
            .map(|c| {
                hex::decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or(AppError::InvalidParam { name: "next_cursor", value: c.to_owned() })
            })
            .transpose()?;
        let mut tags = self.catalog.list_tags(env, rt, params.get("prefix"), after.as_deref(), limit + 1).await?;
        let next = if tags.len() > limit as usize {
            tags.truncate(limit as usize);
            tags.last().map(hex::encode)
        } else {
            None
        };
        Ok((tags, next))
    }

    pub async fn usage(&self, env: i64) -> AppResult<Usage> {
        Ok(self.catalog.usage(env).await?)
    }
}
