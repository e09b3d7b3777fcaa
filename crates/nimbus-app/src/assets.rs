//! Asset administration: get, list, update, rename, destroy, tags and context, explicit,
//! bulk deletes and usage. Shared by the Upload API actions and the Admin API.

use nimbus_core::metadata::Issue;
use nimbus_core::{Asset, Context, DeliveryType, PublicId, ResourceType};

use crate::bulk_change::BulkChange;
use crate::derive::EagerSpec;
use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::limits::{MAX_BULK_IDS, MAX_DELETE_IDS, MAX_LIST_IDS, check_ids};
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

/// How a bulk delete runs.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Keep the originals (Cloudinary then deletes only derivatives; Nimbus deletes nothing).
    pub keep_original: bool,
    /// The `next_cursor` of the previous call.
    pub cursor: Option<String>,
    pub notification_url: Option<String>,
}

/// Upload API `destroy`.
#[derive(Debug, Clone)]
pub struct Destroy {
    pub delivery_type: DeliveryType,
    pub public_id: String,
    pub notification_url: Option<String>,
}

/// Upload API `rename`.
#[derive(Debug, Clone)]
pub struct Rename {
    pub from_type: DeliveryType,
    pub to_type: DeliveryType,
    pub from: String,
    pub to: String,
    /// Replace an asset already at `to`.
    pub overwrite: bool,
    pub notification_url: Option<String>,
}

/// What the Upload API's `tags` call does to each asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagsChange {
    Add(Vec<String>),
    /// Add, and remove these tags from every other asset of the type.
    SetExclusive(Vec<String>),
    Remove(Vec<String>),
    Replace(Vec<String>),
    RemoveAll,
}

/// What the Upload API's `context` call does: merge these pairs, or clear (`None`).
pub type ContextChange = Option<Context>;

/// Upload API `explicit`: an edit of an existing asset, and eager derivatives.
#[derive(Debug, Clone)]
pub struct Explicit {
    pub delivery_type: DeliveryType,
    pub public_id: String,
    pub edit: AssetEdit,
    pub eager: Vec<EagerSpec>,
    /// Render the eager derivatives in a job after the answer.
    pub eager_async: bool,
    /// Where the eager job announces them (else the edit's `notification_url`).
    pub eager_notification_url: Option<String>,
}

/// A page of an environment's tags.
#[derive(Debug, Clone, Default)]
pub struct TagQuery {
    pub prefix: Option<String>,
    /// `None`: [`DEFAULT_RESULTS`].
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Opaque cursors: the position, hex-encoded.
pub fn encode_cursor(pos: i64) -> String {
    format!("{pos:016x}")
}

pub fn decode_cursor(s: &str) -> AppResult<i64> {
    i64::from_str_radix(s, 16).map_err(|_| AppError::InvalidParam { name: "next_cursor", value: s.to_owned() })
}

/// A page size: [`DEFAULT_RESULTS`] when not given, else at most [`MAX_RESULTS`].
pub fn checked_limit(limit: Option<u32>) -> AppResult<u32> {
    match limit {
        None => Ok(DEFAULT_RESULTS),
        Some(n) if (1..=MAX_RESULTS).contains(&n) => Ok(n),
        Some(n) => Err(AppError::InvalidParam { name: "max_results", value: n.to_string() }),
    }
}

/// The public ids of a bulk call (`tags`, `context`, `metadata`): at least one, at most
/// [`MAX_BULK_IDS`], counted before any is parsed.
fn bulk_ids(ids: &[String]) -> AppResult<Vec<PublicId>> {
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
        let notify = self.checked_target("notification_url", edit.notification_url.as_deref())?;
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
            let w = WriteCtx::new(caller, now).notify(notify.clone());
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

    /// Upload API `explicit`: applies an edit to an existing asset, and makes its eager
    /// derivatives (now, or in a job).
    pub async fn explicit(&self, caller: &Caller, rt: ResourceType, request: Explicit) -> AppResult<Uploaded> {
        let Explicit { delivery_type, public_id, edit, eager, eager_async, eager_notification_url } = request;
        let notify = edit.notification_url.clone();
        let (asset, metadata_warnings) = self.edit_asset(caller, rt, delivery_type, &public_id, edit).await?;
        let eager = if eager.is_empty() {
            Vec::new()
        } else if eager_async {
            let notify = match self.checked_target("eager_notification_url", eager_notification_url.as_deref())? {
                Some(u) => Some(u),
                None => self.checked_target("notification_url", notify.as_deref())?,
            };
            let (job, pending) = self.eager_later(caller, &asset, &eager, notify).await?;
            self.catalog.enqueue(&job, self.now()).await?;
            self.wake.notify_one();
            pending
        } else {
            self.eager(caller.env, &std::sync::Arc::new(asset.clone()), &eager).await?
        };
        Ok(Uploaded { asset, existing: false, overwritten: false, metadata_warnings, eager })
    }

    /// Upload API `destroy`: whether the asset existed.
    pub async fn destroy(&self, caller: &Caller, rt: ResourceType, request: &Destroy) -> AppResult<bool> {
        let id = PublicId::parse(&request.public_id)?;
        let notify = self.checked_target("notification_url", request.notification_url.as_deref())?;
        let w = WriteCtx::new(caller, self.now()).notify(notify);
        // The blobs go by a job, relayed from the deletion's event.
        let gone = self.catalog.delete_assets(&w, rt, request.delivery_type, std::slice::from_ref(&id)).await?;
        self.changed();
        Ok(!gone.is_empty())
    }

    /// Upload API `rename`.
    pub async fn rename(&self, caller: &Caller, rt: ResourceType, request: &Rename) -> AppResult<Asset> {
        let (from, to) = (request.from.as_str(), request.to.as_str());
        let (from_dt, to_dt) = (request.from_type, request.to_type);
        let (from_id, to_id) = (PublicId::parse(from)?, PublicId::parse(to)?);
        let overwrite = request.overwrite;
        let notify = self.checked_target("notification_url", request.notification_url.as_deref())?;
        let w = WriteCtx::new(caller, self.now()).notify(notify);
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
    pub async fn tags_command(
        &self,
        caller: &Caller,
        rt: ResourceType,
        request: &BulkChange<TagsChange>,
    ) -> AppResult<Vec<PublicId>> {
        let dt = request.delivery_type;
        let ids = bulk_ids(&request.public_ids)?;
        let notify = self.checked_target("notification_url", request.notification_url.as_deref())?;
        let w = WriteCtx::new(caller, self.now()).notify(notify);
        let mut found = Vec::new();
        match &request.change {
            TagsChange::Add(tags) | TagsChange::SetExclusive(tags) => {
                for t in tags {
                    if matches!(request.change, TagsChange::SetExclusive(_)) {
                        self.remove_tag_everywhere(&w, rt, dt, t).await?;
                    }
                    found = self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::Add(t)).await?;
                }
            }
            TagsChange::Remove(tags) => {
                for t in tags {
                    found = self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::Remove(t)).await?;
                }
            }
            TagsChange::Replace(tags) => {
                found = self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::Replace(tags)).await?
            }
            TagsChange::RemoveAll => found = self.catalog.tag_assets(&w, rt, dt, &ids, TagCommand::RemoveAll).await?,
        }
        Ok(found)
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

    /// Upload API `context`: `Some` merges pairs, `None` clears.
    pub async fn context_command(
        &self,
        caller: &Caller,
        rt: ResourceType,
        request: &BulkChange<ContextChange>,
    ) -> AppResult<Vec<PublicId>> {
        let env = caller.env;
        let notify = self.checked_target("notification_url", request.notification_url.as_deref())?;
        let dt = request.delivery_type;
        let ids = bulk_ids(&request.public_ids)?;
        let add = &request.change;
        let mut found = Vec::new();
        for id in ids {
            let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &id };
            let Some(asset) = self.catalog.asset(env, key).await? else {
                continue;
            };
            let context = match add {
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
        options: &DeleteOptions,
    ) -> AppResult<Deleted> {
        match &selector {
            DeleteSelector::PublicIds(ids) => check_ids("public_ids", ids.len(), MAX_DELETE_IDS)?,
            DeleteSelector::AssetIds(ids) => check_ids("asset_ids", ids.len(), MAX_DELETE_IDS)?,
            DeleteSelector::Prefix(_) | DeleteSelector::Tag(_) | DeleteSelector::All => {}
        }
        let env = caller.env;
        let notify = self.checked_target("notification_url", options.notification_url.as_deref())?;
        let w = WriteCtx::new(caller, self.now()).notify(notify);
        let keep_original = options.keep_original;
        let after = options.cursor.as_deref().map(decode_cursor).transpose()?;
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
        q: &TagQuery,
    ) -> AppResult<(Vec<String>, Option<String>)> {
        let limit = checked_limit(q.limit)?;
        let after = q
            .cursor
            .as_deref()
            .map(|c| {
                hex::decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or(AppError::InvalidParam { name: "next_cursor", value: c.to_owned() })
            })
            .transpose()?;
        let mut tags = self.catalog.list_tags(env, rt, q.prefix.as_deref(), after.as_deref(), limit + 1).await?;
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
