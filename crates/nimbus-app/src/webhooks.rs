//! Webhooks as Cloudinary sends them: the outbox relay turns each recorded event into one
//! delivery job per target (the request's `notification_url` and the environment's
//! triggers for the event's type), and the delivery job POSTs the body signed with
//! `X-Cld-Timestamp` and `X-Cld-Signature`, again with backoff until the receiver answers
//! 2xx or a day has passed. Targets obey the remote-fetch rules (no private addresses unless
//! allow-listed), checked when the URL is given and again at every delivery.
//!
//! The bodies are Cloudinary's wire format, so they are rendered at the edge: `nimbus-api`
//! implements [`Notifications`] and the composition root plugs it in.
//! Docs: <https://cloudinary.com/documentation/notifications>.

use std::collections::HashMap;

use nimbus_core::Asset;
use nimbus_core::signature::notification_signature;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::derive::Eager;
use crate::error::AppResult;
use crate::events::{Event, StoredEvent};
use crate::jobs::{BLOB_DELETE, Job, JobError, NewJob, WEBHOOK};
use crate::ports::Trigger;
use crate::{App, AppError};

/// Attempts of one delivery: with delays from 10 s doubling up to an hour, about 24 hours.
pub const WEBHOOK_ATTEMPTS: u32 = 31;
/// A delivery not done after this long is given up.
pub const WEBHOOK_GIVE_UP_SECS: i64 = 24 * 3600;
/// Longest notification URL accepted.
const MAX_URL_LEN: usize = 2048;

/// The notification types Nimbus sends, and `all`.
pub const EVENT_TYPES: [&str; 8] = [
    "all",
    "upload",
    "eager",
    "rename",
    "delete",
    "resource_tags_changed",
    "resource_context_changed",
    "resource_metadata_changed",
];

/// Cloudinary's other trigger event types: valid names, never sent by Nimbus yet.
pub const UNSENT_EVENT_TYPES: [&str; 20] = [
    "access_control_changed",
    "bulk_refresh_auto_fetch",
    "create_folder",
    "delete_by_token",
    "delete_folder",
    "error",
    "explode",
    "generate_archive",
    "info",
    "invalidate_custom_cdn",
    "moderation",
    "moderation_summary",
    "move",
    "move_or_rename_asset_folder",
    "multi",
    "publish",
    "report",
    "resource_display_name_changed",
    "restore_asset_version",
    "sprite",
];

/// Cloudinary's notification bodies (implemented at the wire edge).
pub trait Notifications: Send + Sync {
    /// The body announcing `e`, or `None` when its kind has no notification.
    fn event(&self, app: &App, cloud: &str, e: &StoredEvent) -> Option<Value>;
    /// The body announcing finished eager derivatives.
    fn eager(
        &self,
        app: &App,
        cloud: &str,
        asset: &Asset,
        done: &[Eager],
        batch_id: &str,
        api_key: Option<&str>,
    ) -> Value;
}

/// The notification type an event is announced as, if any.
pub fn notification_type(e: &Event) -> Option<&'static str> {
    Some(match e {
        Event::Uploaded { .. } => "upload",
        Event::Renamed { .. } => "rename",
        Event::Destroyed { .. } => "delete",
        Event::TagsChanged { .. } => "resource_tags_changed",
        Event::ContextChanged { .. } => "resource_context_changed",
        Event::MetadataChanged { .. } => "resource_metadata_changed",
        Event::Updated { .. } | Event::SchemaChanged { .. } | Event::Configured { .. } => return None,
    })
}

/// A short stable name for a URL in idempotency keys.
fn url_key(url: &str) -> String {
    hex::encode(&sha2::Sha256::digest(url.as_bytes())[..12])
}

impl App {
    /// A notification target, checked: an http(s) URL whose literal address, if any, is
    /// allowed; `name` is the parameter that gave it.
    pub(crate) fn checked_target(&self, name: &'static str, url: Option<&str>) -> AppResult<Option<String>> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return Ok(None) };
        let bad = || AppError::InvalidParam { name, value: url.to_owned() };
        if url.len() > MAX_URL_LEN {
            return Err(bad());
        }
        let parsed = url::Url::parse(url).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(bad());
        }
        if !self.remote.literal_target_allowed(&parsed) {
            return Err(AppError::RemoteNotAllowed { url: url.to_owned() });
        }
        Ok(Some(url.to_owned()))
    }

    /// Turns up to `limit` unrelayed outbox events into delivery jobs, marking them relayed
    /// in the same transaction; returns how many events were relayed.
    pub async fn relay_outbox(&self, limit: u32) -> AppResult<usize> {
        let events = self.catalog.pending_events(limit).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let mut jobs = Vec::new();
        let clouds: HashMap<i64, String> =
            self.catalog.list_envs().await?.into_iter().map(|x| (x.id, x.cloud_name)).collect();
        let mut triggers: HashMap<i64, Vec<Trigger>> = HashMap::new();
        for e in &events {
            if let std::collections::hash_map::Entry::Vacant(v) = triggers.entry(e.env_id) {
                v.insert(self.catalog.list_triggers(e.env_id, None).await?);
            }
        }
        for e in &events {
            // Bytes the write left unreferenced go once the write is relayed (the sweeper is
            // only the safety net).
            let gone = e.event.unreferenced();
            if !gone.is_empty() {
                let payload = json!({
                    "keys": gone.iter().map(|u| u.blob_key.as_str()).collect::<Vec<_>>(),
                    "versions": gone.iter().map(|u| u.version_id.as_str()).collect::<Vec<_>>(),
                });
                jobs.push(NewJob::new(BLOB_DELETE, Some(e.env_id), payload, now).key(format!("event:{}:blobs", e.id)));
            }
            let Some(kind) = notification_type(&e.event) else { continue };
            let mut urls: Vec<&str> = e.notification_url.iter().map(String::as_str).collect();
            for t in &triggers[&e.env_id] {
                if (t.event_type == kind || t.event_type == "all") && !urls.contains(&t.uri.as_str()) {
                    urls.push(&t.uri);
                }
            }
            if urls.is_empty() {
                continue;
            }
            let (Some(cloud), Some(n)) = (clouds.get(&e.env_id), &self.notifications) else { continue };
            let Some(body) = n.event(self, cloud, e) else { continue };
            let key = e.actor.strip_prefix("key:").map(str::to_owned);
            for url in urls {
                jobs.push(webhook_job(e.env_id, url, &body, key.as_deref(), now).key(format!(
                    "event:{}:{}",
                    e.id,
                    url_key(url)
                )));
            }
        }
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        self.catalog.relay_events(&ids, &jobs, now).await?;
        Ok(events.len())
    }

    /// Runs one delivery attempt of a webhook job.
    pub(crate) async fn deliver_webhook(&self, job: &Job) -> Result<(), JobError> {
        let bad = |what: &str| JobError::Abort(format!("webhook job without {what}"));
        let url = job.payload["url"].as_str().ok_or_else(|| bad("url"))?;
        let body = job.payload["body"].as_str().ok_or_else(|| bad("body"))?;
        let env = job.env_id.ok_or_else(|| bad("environment"))?;
        let now = self.now();
        if now - job.created_at > WEBHOOK_GIVE_UP_SECS {
            return Err(JobError::Abort("not delivered within 24 hours".into()));
        }
        let secret = self.signing_secret(env, job.payload["key"].as_str()).await?;
        // Signed afresh on every attempt: receivers refuse timestamps older than two hours.
        let sig = notification_signature(body.as_bytes(), now, &secret, self.config.signature_algorithm);
        match self.remote.post_json(url, body.to_owned(), now, &sig).await {
            Ok(status) if (200..300).contains(&status) => Ok(()),
            Ok(status) => Err(JobError::Retry(format!("the receiver answered HTTP {status}"))),
            Err(AppError::RemoteNotAllowed { .. }) => Err(JobError::Abort("the target address is not allowed".into())),
            Err(e) => Err(JobError::Retry(e.to_string())),
        }
    }

    /// The secret that signs an environment's notifications: the acting key's while it is
    /// live, else the environment's oldest live key.
    async fn signing_secret(&self, env: i64, key: Option<&str>) -> Result<String, JobError> {
        let keys = self.catalog.list_keys(env).await.map_err(|e| JobError::Retry(e.to_string()))?;
        let live = |k: &&crate::ports::ApiKey| k.revoked_at.is_none();
        keys.iter()
            .filter(live)
            .find(|k| Some(k.key.as_str()) == key)
            .or_else(|| keys.iter().filter(live).min_by_key(|k| k.created_at))
            .map(|k| k.secret.clone())
            .ok_or_else(|| JobError::Abort("the environment has no live API key to sign with".into()))
    }
}

/// A delivery job of `body` to `url`, signed with `key`'s secret when it is still live.
pub fn webhook_job(env: i64, url: &str, body: &Value, key: Option<&str>, now: i64) -> NewJob {
    NewJob::new(WEBHOOK, Some(env), json!({ "url": url, "body": body.to_string(), "key": key }), now)
        .attempts(WEBHOOK_ATTEMPTS)
}
