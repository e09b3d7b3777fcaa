//! Upload presets and named transformations as admins manage them in the console.

use nimbus_core::accounts::Permission;

use super::SignedIn;
use crate::App;
use crate::error::AppResult;
use crate::ports::{NamedTransformation, Preset};
use crate::presets::PresetDraft;
use crate::transformations::TransformationKinds;

/// Most named transformations the console lists.
const MAX_LISTED: u32 = 500;

impl App {
    pub async fn presets_as(&self, who: &SignedIn, cloud: &str) -> AppResult<Vec<Preset>> {
        let caller = self.authorize(who, cloud, Permission::ManagePresets)?;
        self.list_presets(caller.env).await
    }

    /// Creates a preset; answers its name.
    pub async fn create_preset_as(&self, who: &SignedIn, cloud: &str, draft: &PresetDraft) -> AppResult<String> {
        let caller = self.authorize(who, cloud, Permission::ManagePresets)?;
        self.create_preset(&caller, draft).await
    }

    pub async fn delete_preset_as(&self, who: &SignedIn, cloud: &str, name: &str) -> AppResult<()> {
        let caller = self.authorize(who, cloud, Permission::ManagePresets)?;
        self.delete_preset(&caller, name).await
    }

    pub async fn named_transformations_as(&self, who: &SignedIn, cloud: &str) -> AppResult<Vec<NamedTransformation>> {
        let caller = self.authorize(who, cloud, Permission::ManagePresets)?;
        let (list, _) = self.list_transformations(caller.env, None, MAX_LISTED, TransformationKinds::Named).await?;
        Ok(list.into_iter().map(|(t, _)| t).collect())
    }

    pub async fn create_named_transformation_as(
        &self,
        who: &SignedIn,
        cloud: &str,
        name: &str,
        definition: &str,
    ) -> AppResult<()> {
        let caller = self.authorize(who, cloud, Permission::ManagePresets)?;
        self.create_named_transformation(&caller, name, definition, None).await
    }

    pub async fn delete_named_transformation_as(&self, who: &SignedIn, cloud: &str, name: &str) -> AppResult<()> {
        let caller = self.authorize(who, cloud, Permission::ManagePresets)?;
        self.delete_named_transformation(&caller, name).await
    }
}
