//! Delivery of originals: resolve a parsed delivery path to an asset, enforcing signed URLs
//! for `private` and `authenticated` assets. Transformations are refused until the
//! transformation engine lands; the parsed path already carries them.

use nimbus_core::Asset;
use nimbus_core::delivery::DeliveryPath;
use nimbus_core::signature;

use crate::error::AppResult;
use crate::ports::AssetKey;
use crate::{App, AppError};

impl App {
    pub async fn resolve_delivery(&self, path: &DeliveryPath) -> AppResult<Asset> {
        let env = self
            .catalog
            .env_by_cloud(&path.cloud)
            .await?
            .ok_or_else(|| AppError::ResourceNotFound(path.public_id.to_string()))?;
        if path.delivery_type.original_needs_signature() || path.signature.is_some() {
            let given = path.signature.as_deref().ok_or(AppError::UrlSignatureRequired)?;
            let to_sign = path.string_to_sign();
            let keys = self.catalog.list_keys(env.id).await?;
            let ok = keys
                .iter()
                .filter(|k| k.revoked_at.is_none())
                .any(|k| signature::verify_url(&to_sign, given, &k.secret));
            if !ok {
                return Err(AppError::UrlSignatureRequired);
            }
        }
        if let Some(t) = path.transformations.first() {
            return Err(AppError::TransformationUnsupported(t.clone()));
        }
        let key = AssetKey {
            resource_type: path.resource_type,
            delivery_type: path.delivery_type,
            public_id: &path.public_id,
        };
        let asset = self
            .catalog
            .asset(env.id, key)
            .await?
            .ok_or_else(|| AppError::ResourceNotFound(path.public_id.to_string()))?;
        if let (Some(want), Some(have)) = (&path.format, &asset.format) {
            if !same_format(want, have) {
                return Err(AppError::TransformationUnsupported(format!("f_{want}")));
            }
        }
        Ok(asset)
    }
}

fn same_format(a: &str, b: &str) -> bool {
    let norm = |f: &str| match f {
        "jpeg" | "jpe" => "jpg".to_owned(),
        "tif" => "tiff".to_owned(),
        other => other.to_ascii_lowercase(),
    };
    norm(a) == norm(b)
}
