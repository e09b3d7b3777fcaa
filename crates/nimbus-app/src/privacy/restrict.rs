//! Restriction of an asset (privacy F19, GDPR Art. 18): while a request about content that
//! shows someone is examined, the asset and all its derivatives answer 451 and the asset is
//! left out of search results (their totals and aggregations too). Nothing of the asset
//! changes; lifting the restriction restores it. Delivery reads the restricted ids with the
//! environment's cached entry, so other nodes follow within the delivery cache's lifetime.

use nimbus_core::search::{self as core_search, Query};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};

use crate::error::AppResult;
use crate::events::Caller;
use crate::ports::AssetKey;
use crate::search::{Aggregation, RangeAgg, SearchPage};
use crate::{App, AppError};

/// The value of a range aggregation's field for an asset, if it has one.
fn range_value(field: RangeAgg, a: &Asset) -> Option<f64> {
    let (w, h) = (a.width.map(|w| w as f64), a.height.map(|h| h as f64));
    match field {
        RangeAgg::Bytes => Some(a.bytes as f64),
        RangeAgg::Pixels => Some(w? * h?),
        RangeAgg::Width => w,
        RangeAgg::Height => h,
        RangeAgg::AspectRatio => h.filter(|h| *h > 0.0).and_then(|h| Some(w? / h)),
        RangeAgg::Duration => None,
    }
}

/// The keys an asset counts under in a value aggregation.
fn value_keys(name: &str, a: &Asset) -> Vec<String> {
    match name {
        "format" => a.format.clone().into_iter().collect(),
        "resource_type" => vec![a.resource_type.to_string()],
        "type" => vec![a.delivery_type.to_string()],
        "tags" => a.tags.clone(),
        _ => Vec::new(),
    }
}

impl App {
    async fn asset_to_restrict(
        &self,
        env: i64,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
    ) -> AppResult<Asset> {
        let id = PublicId::parse(public_id)?;
        self.catalog
            .asset(env, AssetKey { resource_type: rt, delivery_type: dt, public_id: &id })
            .await?
            .ok_or_else(|| AppError::ResourceNotFound(public_id.to_owned()))
    }

    /// Restricts an asset, for a reason; false when it was already.
    pub async fn restrict_asset(
        &self,
        caller: &Caller,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
        reason: &str,
    ) -> AppResult<bool> {
        if reason.trim().is_empty() {
            return Err(AppError::MissingParam("reason"));
        }
        let a = self.asset_to_restrict(caller.env, rt, dt, public_id).await?;
        let done = self.catalog.restrict_asset(caller.env, &a.asset_id, self.now(), reason.trim()).await?;
        self.changed();
        Ok(done)
    }

    /// Lifts an asset's restriction; false when it had none.
    pub async fn lift_restriction(
        &self,
        caller: &Caller,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
    ) -> AppResult<bool> {
        let a = self.asset_to_restrict(caller.env, rt, dt, public_id).await?;
        let done = self.catalog.lift_restriction(caller.env, &a.asset_id).await?;
        self.changed();
        Ok(done)
    }

    /// Takes an environment's restricted assets out of a search's page, total and
    /// aggregations (they are few: each is read and matched against the query here).
    pub(crate) async fn hide_restricted(
        &self,
        env: i64,
        query: &Query,
        aggregate: &[Aggregation],
        page: &mut SearchPage,
    ) -> AppResult<()> {
        let ids = self.catalog.restricted_assets(env).await?;
        if ids.is_empty() {
            return Ok(());
        }
        page.assets.retain(|a| !ids.contains(&a.asset_id));
        let mut hidden = Vec::new();
        for id in &ids {
            if let Some(a) = self.catalog.asset_by_id(env, id).await? {
                if core_search::matches(query, &a) {
                    hidden.push(a);
                }
            }
        }
        page.total = (page.total - hidden.len() as i64).max(0);
        for (name, counts) in &mut page.aggregations {
            let ranges = aggregate.iter().find_map(|agg| match agg {
                Aggregation::Ranges { field, buckets } if agg.name() == name => Some((*field, buckets)),
                _ => None,
            });
            for a in &hidden {
                match ranges {
                    Some((field, buckets)) => {
                        let Some(v) = range_value(field, a) else { continue };
                        for b in buckets.iter().filter(|b| b.from.is_none_or(|f| v >= f) && b.to.is_none_or(|t| v < t))
                        {
                            if let Some((_, n)) = counts.iter_mut().find(|(k, _)| *k == b.key) {
                                *n = (*n - 1).max(0);
                            }
                        }
                    }
                    None => {
                        for key in value_keys(name, a) {
                            if let Some((_, n)) = counts.iter_mut().find(|(k, _)| *k == key) {
                                *n -= 1;
                            }
                        }
                        // A value only restricted assets have is not shown at all.
                        counts.retain(|(_, n)| *n > 0);
                    }
                }
            }
        }
        Ok(())
    }
}
