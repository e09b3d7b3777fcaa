//! Admin API `publish_resources`: makes `private` or `authenticated` assets public by moving
//! them to type `upload` under the same public id, chosen by public ids, tag or prefix. With
//! `type`, only assets of that type are published; without it, both kinds are. An `upload`
//! asset already holding the public id is replaced only with `overwrite`.
//!
//! Docs: <https://cloudinary.com/documentation/admin_api#publish_resources> (the SDKs'
//! `publish_by_ids`, `publish_by_prefix`, `publish_by_tag`).

use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};

use crate::access::{ACCESS_MODE_BATCH, AccessSelector};
use crate::assets::{decode_cursor, encode_cursor};
use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::limits::{MAX_DELETE_IDS, check_ids};
use crate::ports::{AssetKey, ListQuery, Renamed};
use crate::{App, AppError};

/// Why an asset was not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishFailure {
    /// No asset of a publishable type holds the public id.
    NotFound,
    /// A public asset holds the public id already, and `overwrite` was not given.
    Exists,
}

impl PublishFailure {
    pub fn message(self) -> &'static str {
        match self {
            PublishFailure::NotFound => "Resource not found",
            PublishFailure::Exists => "Resource already exists",
        }
    }
}

/// What a publish call did.
#[derive(Debug, Clone, Default)]
pub struct Publication {
    /// The assets as they are now, of type `upload`.
    pub published: Vec<Asset>,
    pub failed: Vec<(String, PublishFailure)>,
    /// Where to continue when more assets matched a tag or prefix than one call publishes.
    pub next_cursor: Option<String>,
}

/// The types a publish call takes assets from.
fn source_types(from: Option<DeliveryType>) -> AppResult<Vec<DeliveryType>> {
    match from {
        None => Ok(vec![DeliveryType::Private, DeliveryType::Authenticated]),
        Some(dt @ (DeliveryType::Private | DeliveryType::Authenticated)) => Ok(vec![dt]),
        Some(other) => Err(AppError::InvalidParam { name: "type", value: other.as_str().to_owned() }),
    }
}

impl App {
    pub async fn publish(
        &self,
        caller: &Caller,
        rt: ResourceType,
        from: Option<DeliveryType>,
        selector: AccessSelector,
        overwrite: bool,
        next_cursor: Option<&str>,
    ) -> AppResult<Publication> {
        let types = source_types(from)?;
        let mut q = ListQuery {
            resource_type: Some(rt),
            delivery_type: from,
            limit: ACCESS_MODE_BATCH,
            ascending: true,
            after: next_cursor.map(decode_cursor).transpose()?,
            ..Default::default()
        };
        let asked = match selector {
            AccessSelector::PublicIds(ids) => {
                check_ids("public_ids", ids.len(), MAX_DELETE_IDS)?;
                for id in &ids {
                    PublicId::parse(id)?;
                }
                q.public_ids = ids.clone();
                Some(ids)
            }
            AccessSelector::Tag(t) => {
                q.tag = Some(t);
                None
            }
            AccessSelector::Prefix(p) => {
                q.prefix = Some(p);
                None
            }
        };
        let page = self.catalog.list_assets(caller.env, &q).await?;
        let mut out = Publication {
            next_cursor: if asked.is_some() { None } else { page.next.map(encode_cursor) },
            ..Default::default()
        };
        let candidates: Vec<Asset> = page.assets.into_iter().filter(|a| types.contains(&a.delivery_type)).collect();
        let order: Vec<String> = match asked {
            Some(ids) => ids,
            None => candidates.iter().map(|a| a.public_id.as_str().to_owned()).collect(),
        };
        let w = WriteCtx::new(caller, self.now());
        for id in order {
            // Each public id is published once, from the first type that holds it.
            let Some(asset) = candidates.iter().find(|a| a.public_id.as_str() == id) else {
                out.failed.push((id, PublishFailure::NotFound));
                continue;
            };
            if out.published.iter().any(|p| p.public_id == asset.public_id) {
                continue;
            }
            let from = AssetKey { resource_type: rt, delivery_type: asset.delivery_type, public_id: &asset.public_id };
            let to = AssetKey { resource_type: rt, delivery_type: DeliveryType::Upload, public_id: &asset.public_id };
            match self.catalog.rename_asset(&w, from, to, overwrite).await? {
                Renamed::Done { asset, .. } => out.published.push(*asset),
                Renamed::NotFound => out.failed.push((id, PublishFailure::NotFound)),
                Renamed::TargetExists => out.failed.push((id, PublishFailure::Exists)),
            }
        }
        self.changed();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use nimbus_core::DeliveryType;

    #[test]
    fn publishes_from_private_and_authenticated_only() {
        assert_eq!(super::source_types(None).unwrap().len(), 2);
        assert_eq!(super::source_types(Some(DeliveryType::Private)).unwrap(), vec![DeliveryType::Private]);
        assert!(super::source_types(Some(DeliveryType::Upload)).is_err());
    }
}
