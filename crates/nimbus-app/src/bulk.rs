//! One change to several assets at once, chosen by asset id: the console's multi-select (add
//! or remove a tag, move to a folder, delete). Each asset is changed through the same write
//! path as a single edit; at most [`MAX_DELETE_IDS`] at a time.

use crate::assets::AssetEdit;
use crate::error::AppResult;
use crate::events::Caller;
use crate::limits::{MAX_DELETE_IDS, check_ids};
use crate::{App, AppError};

/// What to do to each selected asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    AddTag(String),
    RemoveTag(String),
    /// To this asset folder (empty: the root).
    Move(String),
    Delete,
}

impl App {
    /// Applies `action` to the assets with these ids in the caller's environment; returns how
    /// many were changed (ids that are not assets there are skipped).
    pub async fn bulk_edit(&self, caller: &Caller, asset_ids: &[String], action: &BulkAction) -> AppResult<usize> {
        check_ids("asset_ids", asset_ids.len(), MAX_DELETE_IDS)?;
        if let BulkAction::Delete = action {
            return self.remove_assets(caller, asset_ids).await;
        }
        let mut changed = 0;
        for id in asset_ids {
            let a = match self.get_asset_by_id(caller.env, id).await {
                Ok(a) => a,
                Err(AppError::ResourceNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let edit = match action {
                BulkAction::AddTag(t) if !a.tags.contains(t) => {
                    AssetEdit { tags: Some([a.tags.clone(), vec![t.clone()]].concat()), ..Default::default() }
                }
                BulkAction::RemoveTag(t) if a.tags.contains(t) => {
                    AssetEdit { tags: Some(a.tags.iter().filter(|x| *x != t).cloned().collect()), ..Default::default() }
                }
                BulkAction::Move(folder) => AssetEdit { asset_folder: Some(folder.clone()), ..Default::default() },
                _ => continue,
            };
            self.edit_asset(caller, a.resource_type, a.delivery_type, a.public_id.as_str(), edit).await?;
            changed += 1;
        }
        Ok(changed)
    }
}
