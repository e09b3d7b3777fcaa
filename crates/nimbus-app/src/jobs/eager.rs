//! The eager job (`eager_async`): renders an upload's eager derivatives after the answer,
//! then queues their `eager` notification.

use std::sync::Arc;

use nimbus_core::{DeliveryType, PublicId, ResourceType};

use super::{Job, JobError};
use crate::App;
use crate::derive::parse_eager;
use crate::ports::AssetKey;

impl App {
    /// Runs an eager job: renders the derivatives of the version it was made for (nothing if
    /// that version was replaced or deleted meanwhile), then queues their notification.
    pub(crate) async fn run_eager_job(&self, job: &Job) -> Result<(), JobError> {
        let p = &job.payload;
        let bad = || JobError::Abort("eager job with a malformed payload".into());
        let env = job.env_id.ok_or_else(bad)?;
        let rt: ResourceType = serde_json::from_value(p["resource_type"].clone()).map_err(|_| bad())?;
        let dt: DeliveryType = serde_json::from_value(p["type"].clone()).map_err(|_| bad())?;
        let id = PublicId::parse(p["public_id"].as_str().unwrap_or_default()).map_err(|_| bad())?;
        let items = parse_eager(p["eager"].as_str().unwrap_or_default()).map_err(|e| JobError::Abort(e.to_string()))?;
        let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &id };
        let Some(asset) = self.catalog.asset(env, key).await.map_err(|e| JobError::Retry(e.to_string()))? else {
            return Ok(());
        };
        if p["version_id"].as_str() != Some(asset.version_id.as_str()) {
            return Ok(());
        }
        let done = self.eager(env, &Arc::new(asset.clone()), &items).await?;
        let (Some(url), Some(n)) = (p["notification_url"].as_str(), &self.notifications) else { return Ok(()) };
        let Some(cloud) = self
            .catalog
            .list_envs()
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .into_iter()
            .find(|e| e.id == env)
        else {
            return Ok(());
        };
        let batch = p["batch_id"].as_str().unwrap_or_default();
        let body = n.eager(self, &cloud.cloud_name, &asset, &done, batch, p["key"].as_str());
        let hook = crate::webhooks::webhook_job(env, url, &body, p["key"].as_str(), self.now())
            .key(format!("eager-done:{}", job.id));
        self.catalog.enqueue(&hook, self.now()).await.map_err(|e| JobError::Retry(e.to_string()))?;
        self.wake.notify_one();
        Ok(())
    }
}
