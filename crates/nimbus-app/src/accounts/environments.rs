//! Product environments from the console: an owner of any environment may create another,
//! and owns it.

use nimbus_core::accounts::Role;
use nimbus_core::cloudinary_url::CloudinaryUrl;

use super::SignedIn;
use crate::error::AppResult;
use crate::events::Actor;
use crate::{App, AppError};

impl App {
    /// A new environment owned by `who`; its first key's secret is in the answer only.
    pub async fn create_environment_as(&self, who: &SignedIn, cloud: &str) -> AppResult<CloudinaryUrl> {
        if !who.memberships.iter().any(|m| m.role == Role::Owner) {
            let first = who.memberships.first().map_or_else(String::new, |m| m.cloud_name.clone());
            return Err(AppError::Forbidden { cloud: first });
        }
        let (env, url) = self.create_environment_by(&Actor::User(who.user.id), cloud, None).await?;
        self.catalog.set_role(who.user.id, env.id, Some(Role::Owner)).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), cloud = %cloud, "environment created in the console");
        Ok(url)
    }
}

impl App {
    /// The last `days` days of usage of `cloud`, for anyone with a role there.
    pub async fn usage_as(&self, who: &SignedIn, cloud: &str, days: i64) -> AppResult<Vec<crate::ports::UsageDay>> {
        let caller = self.authorize(who, cloud, nimbus_core::accounts::Permission::ReadAssets)?;
        self.usage_history(caller.env, days).await
    }
}
