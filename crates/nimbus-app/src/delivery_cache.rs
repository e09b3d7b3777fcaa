//! A node-local cache of what delivery looks up on every request: the environment with its
//! live key secrets, and the asset row. Any write on this node clears it at once; on
//! PostgreSQL, so does every write another node commits (see [`crate::peer_writes`]), and
//! entries live at most a second by default in any case (the bound when no feed is up, and
//! for writes made outside Nimbus). API calls never use it: a revoked key fails every API
//! call on every node at once. It is a cache: losing it costs only catalog queries.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};

use crate::ports::Environment;

/// An environment as delivery needs it.
#[derive(Debug, Clone)]
pub struct EnvEntry {
    pub env: Environment,
    /// Secrets of the environment's live keys (URL signatures may use any of them).
    pub secrets: Vec<String>,
    /// Ids of the environment's restricted assets (privacy F19): not delivered.
    pub restricted: std::collections::HashSet<String>,
}

type AssetKey = (i64, ResourceType, DeliveryType, PublicId);

#[derive(Clone)]
pub struct DeliveryCache {
    envs: Cache<String, Arc<EnvEntry>>,
    assets: Cache<AssetKey, Arc<Asset>>,
    /// What a delivery URL resolved to (after its signature was checked), by the URL and the
    /// request properties the answer depends on; never holds image bytes.
    resolved: Cache<String, crate::derive::Delivery>,
}

impl DeliveryCache {
    pub fn new(ttl: Duration, max_assets: u64) -> Self {
        Self {
            envs: Cache::builder().max_capacity(10_000).time_to_live(ttl).build(),
            assets: Cache::builder().max_capacity(max_assets).time_to_live(ttl).build(),
            resolved: Cache::builder().max_capacity(max_assets).time_to_live(ttl).build(),
        }
    }

    pub fn resolved(&self, key: &str) -> Option<crate::derive::Delivery> {
        self.resolved.get(key)
    }

    pub fn put_resolved(&self, key: String, d: &crate::derive::Delivery) {
        let mut d = d.clone();
        if let crate::derive::Delivery::Derived(_, derived) = &mut d {
            derived.bytes = None;
        }
        self.resolved.insert(key, d);
    }

    pub fn env(&self, cloud: &str) -> Option<Arc<EnvEntry>> {
        self.envs.get(cloud)
    }

    pub fn put_env(&self, cloud: &str, e: EnvEntry) -> Arc<EnvEntry> {
        let e = Arc::new(e);
        self.envs.insert(cloud.to_owned(), e.clone());
        e
    }

    pub fn asset(&self, env: i64, rt: ResourceType, dt: DeliveryType, id: &PublicId) -> Option<Arc<Asset>> {
        self.assets.get(&(env, rt, dt, id.clone()))
    }

    pub fn put_asset(&self, env: i64, a: Asset) -> Arc<Asset> {
        let key = (env, a.resource_type, a.delivery_type, a.public_id.clone());
        let a = Arc::new(a);
        self.assets.insert(key, a.clone());
        a
    }

    /// Forgets everything; called after every write on this node.
    pub fn clear(&self) {
        self.envs.invalidate_all();
        self.assets.invalidate_all();
        self.resolved.invalidate_all();
    }
}
