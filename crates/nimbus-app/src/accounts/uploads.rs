//! Uploads by a signed-in person: the console's upload form. The person's role was checked
//! by [`App::authorize`]; the upload then runs the same path as the Upload API's, trusted as
//! a signed call, with the options a person picks in the form.

use nimbus_core::ResourceType;

use nimbus_core::accounts::Permission;

use super::SignedIn;
use crate::error::AppResult;
use crate::events::Actor;
use crate::staging::StagedFile;
use crate::upload::{FileSource, Uploaded};
use crate::upload_options::UploadOptions;
use crate::{App, AppError};

/// What a person chooses for the files they upload.
#[derive(Debug, Clone, Default)]
pub struct PersonUpload {
    /// The asset folder; empty for the root.
    pub folder: String,
    pub tags: Vec<String>,
    /// An upload preset to apply, by name.
    pub preset: Option<String>,
}

impl App {
    /// Uploads one file to `cloud` as `who`, if their role there allows; the public id comes
    /// from the file name (made unique), the resource type from its content.
    pub async fn upload_as_person(
        &self,
        who: &SignedIn,
        cloud: &str,
        file: StagedFile,
        opts: &PersonUpload,
    ) -> AppResult<Uploaded> {
        let caller = self.authorize(who, cloud, Permission::WriteAssets)?;
        let Actor::User(person) = caller.actor else {
            return Err(AppError::NotSignedIn);
        };
        let env = self.environment(cloud).await?;
        let uploader = crate::auth::UploadCaller { env, api_key: None, unsigned_preset: None, person: Some(person) };
        let options = UploadOptions {
            use_filename: Some(true),
            unique_filename: Some(true),
            use_filename_as_display_name: Some(true),
            asset_folder: Some(opts.folder.clone()).filter(|f| !f.is_empty()),
            tags: Some(opts.tags.clone()).filter(|t| !t.is_empty()),
            ..UploadOptions::default()
        };
        let preset = opts.preset.as_deref().filter(|p| !p.is_empty());
        let request = self.upload_request(&uploader, options, preset).await?;
        self.upload(&uploader, ResourceType::Auto, request, Some(FileSource::Staged(file))).await
    }
}
