//! Delivery: resolve a parsed delivery path to an asset, enforcing signed URLs for `private`
//! and `authenticated` assets and for `upload` assets whose access mode is `authenticated`
//! (the signature covers the transformations too). Derivatives
//! are made in [`derive`](crate::derive). Lookups go through the node-local
//! [`DeliveryCache`](crate::delivery_cache::DeliveryCache).

use std::sync::Arc;

use nimbus_core::Asset;
use nimbus_core::delivery::DeliveryPath;
use nimbus_core::signature;

use crate::delivery_cache::EnvEntry;
use crate::error::AppResult;
use crate::ports::{AssetKey, Environment};
use crate::{App, AppError};

impl App {
    pub(crate) async fn delivery_env(&self, cloud: &str) -> AppResult<Option<Arc<EnvEntry>>> {
        if let Some(e) = self.delivery_cache.env(cloud) {
            return Ok(Some(e));
        }
        let Some(env) = self.catalog.env_by_cloud(cloud).await? else {
            return Ok(None);
        };
        let secrets = self
            .catalog
            .list_keys(env.id)
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| k.secret)
            .collect();
        let restricted = self.catalog.restricted_assets(env.id).await?.into_iter().collect();
        Ok(Some(self.delivery_cache.put_env(cloud, EnvEntry { env, secrets, restricted })))
    }

    /// The environment and the asset a delivery path names, after its signature checks.
    pub async fn resolve_delivery(&self, path: &DeliveryPath) -> AppResult<(Environment, Arc<Asset>)> {
        let not_found = || AppError::ResourceNotFound(path.public_id.to_string());
        let entry = self.delivery_env(&path.cloud).await?.ok_or_else(not_found)?;
        if path.delivery_type.original_needs_signature() || path.signature.is_some() {
            let given = path.signature.as_deref().ok_or(AppError::UrlSignatureRequired)?;
            let to_sign = path.string_to_sign();
            if !entry.secrets.iter().any(|s| signature::verify_url(&to_sign, given, s)) {
                return Err(AppError::UrlSignatureRequired);
            }
        }
        let env = entry.env.id;
        let asset = match self.delivery_cache.asset(env, path.resource_type, path.delivery_type, &path.public_id) {
            Some(a) => a,
            None => {
                let key = AssetKey {
                    resource_type: path.resource_type,
                    delivery_type: path.delivery_type,
                    public_id: &path.public_id,
                };
                let a = self.catalog.asset(env, key).await?.ok_or_else(not_found)?;
                self.delivery_cache.put_asset(env, a)
            }
        };
        if entry.restricted.contains(&asset.asset_id) {
            return Err(AppError::Restricted(path.public_id.to_string()));
        }
        // A signature, when present, was checked above; an `authenticated` access mode needs one.
        if asset.needs_signed_delivery() && path.signature.is_none() {
            return Err(AppError::UrlSignatureRequired);
        }
        Ok((entry.env.clone(), asset))
    }
}
