//! API keys of an environment, as its admins manage them in the console: listed without
//! their secrets, created (the secret shown once), revoked.

use nimbus_core::accounts::Permission;
use nimbus_core::cloudinary_url::CloudinaryUrl;

use super::SignedIn;
use crate::error::AppResult;
use crate::events::Actor;
use crate::ports::ApiKey;
use crate::{App, AppError};

impl App {
    pub async fn keys_of(&self, who: &SignedIn, cloud: &str) -> AppResult<Vec<ApiKey>> {
        self.authorize(who, cloud, Permission::ManageKeys)?;
        self.list_api_keys(cloud).await
    }

    /// A new key; its secret is in the answer and nowhere else shown again.
    pub async fn create_key_as(&self, who: &SignedIn, cloud: &str) -> AppResult<CloudinaryUrl> {
        self.authorize(who, cloud, Permission::ManageKeys)?;
        let url = self.create_api_key_by(&Actor::User(who.user.id), cloud).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), api_key = %url.api_key, "API key created in the console");
        Ok(url)
    }

    /// Revokes a key of `cloud` (a key of another environment is as good as unknown).
    pub async fn revoke_key_as(&self, who: &SignedIn, cloud: &str, key: &str) -> AppResult<()> {
        let keys = self.keys_of(who, cloud).await?;
        if !keys.iter().any(|k| k.key == key) {
            return Err(AppError::UnknownApiKey(key.to_owned()));
        }
        self.revoke_api_key_by(&Actor::User(who.user.id), key).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), api_key = %key, "API key revoked in the console");
        Ok(())
    }
}
