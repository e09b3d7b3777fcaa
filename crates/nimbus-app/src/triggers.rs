//! The Admin API's notification triggers: an environment's standing webhooks, one URL per
//! event type. Docs: <https://cloudinary.com/documentation/admin_api#triggers>.

use crate::error::AppResult;
use crate::ports::Trigger;
use crate::webhooks::{EVENT_TYPES, UNSENT_EVENT_TYPES};
use crate::{App, AppError};

/// Most triggers per environment (Cloudinary: 30 URLs per event type).
const MAX_TRIGGERS: usize = 30 * EVENT_TYPES.len();

impl App {
    pub async fn create_trigger(
        &self,
        env: i64,
        uri: Option<&str>,
        event_type: Option<&str>,
        uri_type: Option<&str>,
    ) -> AppResult<Trigger> {
        let uri = uri.ok_or(AppError::MissingParam("uri"))?;
        let event_type = event_type.ok_or(AppError::MissingParam("event_type"))?;
        match uri_type.unwrap_or("webhook") {
            "webhook" => {}
            other => return Err(AppError::Unsupported(format!("uri_type={other}"))),
        }
        if UNSENT_EVENT_TYPES.contains(&event_type) {
            return Err(AppError::Unsupported(format!("event_type={event_type}")));
        }
        if !EVENT_TYPES.contains(&event_type) {
            return Err(AppError::InvalidParam { name: "event_type", value: event_type.to_owned() });
        }
        let uri = self.checked_target("uri", Some(uri))?.ok_or(AppError::MissingParam("uri"))?;
        if self.catalog.list_triggers(env, None).await?.len() >= MAX_TRIGGERS {
            return Err(AppError::Conflict(format!("At most {MAX_TRIGGERS} triggers per environment")));
        }
        let now = self.now();
        let t = Trigger {
            id: self.ids.hex32(),
            env_id: env,
            uri,
            event_type: event_type.to_owned(),
            created_at: now,
            updated_at: now,
        };
        if !self.catalog.create_trigger(&t).await? {
            return Err(AppError::AlreadyExists(format!("Trigger for {} on {}", t.uri, t.event_type)));
        }
        Ok(t)
    }

    pub async fn list_triggers(&self, env: i64, event_type: Option<&str>) -> AppResult<Vec<Trigger>> {
        Ok(self.catalog.list_triggers(env, event_type).await?)
    }

    pub async fn update_trigger(&self, env: i64, id: &str, new_uri: Option<&str>) -> AppResult<()> {
        let uri = self.checked_target("new_uri", new_uri)?.ok_or(AppError::MissingParam("new_uri"))?;
        if !self.catalog.update_trigger(env, id, &uri, self.now()).await? {
            return Err(AppError::TriggerNotFound(id.to_owned()));
        }
        Ok(())
    }

    pub async fn delete_trigger(&self, env: i64, id: &str) -> AppResult<()> {
        if !self.catalog.delete_trigger(env, id).await? {
            return Err(AppError::TriggerNotFound(id.to_owned()));
        }
        Ok(())
    }
}
