//! An asset's versions as the console shows them: when each was uploaded and by whom, the
//! uploader named the way a person of the environment recognises them.

use nimbus_core::accounts::Permission;

use super::SignedIn;
use crate::App;
use crate::error::AppResult;
use crate::ports::AssetVersion;

/// Who uploaded a version, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploader {
    /// A console user, by e-mail address (people of one environment see each other's).
    Person(String),
    /// A console user who no longer exists.
    RemovedPerson,
    ApiKey(String),
    UnsignedPreset(String),
    Nimbus,
    /// Uploaded before Nimbus recorded uploaders.
    Unknown,
}

impl App {
    /// The versions of one of `cloud`'s assets, newest first, with their uploaders.
    pub async fn asset_versions_as(
        &self,
        who: &SignedIn,
        cloud: &str,
        asset_id: &str,
    ) -> AppResult<Vec<(AssetVersion, Uploader)>> {
        let caller = self.authorize(who, cloud, Permission::ReadAssets)?;
        let versions = self.catalog.asset_versions(caller.env, asset_id).await?;
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            let by = self.uploader(v.actor.as_deref()).await?;
            out.push((v, by));
        }
        Ok(out)
    }

    async fn uploader(&self, label: Option<&str>) -> AppResult<Uploader> {
        let Some(label) = label else { return Ok(Uploader::Unknown) };
        Ok(match label.split_once(':') {
            Some(("user", id)) => match id.parse::<i64>() {
                Ok(id) => match self.catalog.user_by_id(id).await? {
                    Some(u) => Uploader::Person(u.email),
                    None => Uploader::RemovedPerson,
                },
                Err(_) => Uploader::Unknown,
            },
            Some(("key", k)) => Uploader::ApiKey(k.to_owned()),
            Some(("preset", p)) => Uploader::UnsignedPreset(p.to_owned()),
            _ if label == "system" => Uploader::Nimbus,
            _ => Uploader::Unknown,
        })
    }
}
