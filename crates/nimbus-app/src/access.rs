//! Admin API `update_access_mode`: switches assets of type `upload` between `public` and
//! `authenticated` delivery, by public ids, tag or prefix, without changing their URLs.
//!
//! Docs: <https://cloudinary.com/documentation/admin_api#update_access_mode>.

use nimbus_core::{AccessMode, DeliveryType, PublicId, ResourceType};

use crate::assets::decode_cursor;
use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::limits::{MAX_DELETE_IDS, check_ids};
use crate::ports::{AssetKey, AssetPatch, ListQuery, Patched};
use crate::{App, AppError};

/// Most assets one call by tag or prefix changes; the rest come with `next_cursor`.
pub const ACCESS_MODE_BATCH: u32 = 1000;

/// Which assets an access-mode change applies to.
#[derive(Debug, Clone)]
pub enum AccessSelector {
    PublicIds(Vec<String>),
    Tag(String),
    Prefix(String),
}

/// What an access-mode change did.
#[derive(Debug, Clone, Default)]
pub struct AccessModeUpdate {
    pub updated: Vec<PublicId>,
    /// Where to continue when more assets matched than one call changes.
    pub next_cursor: Option<String>,
}

impl App {
    pub async fn update_access_mode(
        &self,
        caller: &Caller,
        rt: ResourceType,
        dt: DeliveryType,
        mode: AccessMode,
        selector: AccessSelector,
        next_cursor: Option<&str>,
    ) -> AppResult<AccessModeUpdate> {
        let mut q = ListQuery {
            resource_type: Some(rt),
            delivery_type: Some(dt),
            limit: ACCESS_MODE_BATCH,
            ascending: true,
            after: next_cursor.map(decode_cursor).transpose()?,
            ..Default::default()
        };
        match selector {
            AccessSelector::PublicIds(ids) => {
                check_ids("public_ids", ids.len(), MAX_DELETE_IDS)?;
                for id in &ids {
                    PublicId::parse(id)?;
                }
                q.public_ids = ids;
            }
            AccessSelector::Tag(t) => q.tag = Some(t),
            AccessSelector::Prefix(p) => q.prefix = Some(p),
        }
        let page = self.catalog.list_assets(caller.env, &q).await?;
        let mut out =
            AccessModeUpdate { next_cursor: page.next.map(crate::assets::encode_cursor), ..Default::default() };
        let patch = AssetPatch { access_mode: Some(mode), ..Default::default() };
        for asset in page.assets {
            let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &asset.public_id };
            match self.catalog.update_asset(&WriteCtx::new(caller, self.now()), key, &patch).await? {
                Patched::Done(_) => out.updated.push(asset.public_id),
                // Deleted meanwhile: not updated.
                Patched::NotFound => {}
                Patched::Stale => return Err(AppError::MetadataBusy),
            }
        }
        self.changed();
        Ok(out)
    }
}
