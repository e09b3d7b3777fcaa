//! Upload presets: named upload parameters, signed or unsigned.

use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::params::Params;
use crate::ports::Preset;
use crate::{App, AppError};

/// Parameters that describe the preset itself or the request, not the uploads.
const NOT_SETTINGS: [&str; 6] = ["name", "unsigned", "live", "api_key", "timestamp", "signature"];

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_alphanumeric() || "-_ .".contains(c))
}

fn settings_of(params: &Params) -> Vec<(String, String)> {
    params
        .iter()
        .filter(|(k, v)| !NOT_SETTINGS.contains(k) && !v.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

impl App {
    pub async fn create_preset(&self, caller: &Caller, params: &Params) -> AppResult<String> {
        crate::honoured::refuse_unhonoured(params)?;
        let name = match params.get("name") {
            Some(n) => n.to_owned(),
            None => self.ids.token(8),
        };
        if !valid_name(&name) {
            return Err(AppError::InvalidParam { name: "name", value: name });
        }
        let preset = Preset {
            name: name.clone(),
            unsigned: params.bool("unsigned").unwrap_or(false),
            settings: settings_of(params),
        };
        if !self.catalog.put_preset(&WriteCtx::new(caller, self.now()), &preset, true).await? {
            return Err(AppError::AlreadyExists(format!("Upload preset {name}")));
        }
        Ok(name)
    }

    /// Updates the given settings, keeping the others.
    pub async fn update_preset(&self, caller: &Caller, name: &str, params: &Params) -> AppResult<()> {
        crate::honoured::refuse_unhonoured(params)?;
        let mut preset = self.get_preset(caller.env, name).await?;
        if let Some(u) = params.bool("unsigned") {
            preset.unsigned = u;
        }
        for (k, v) in settings_of(params) {
            match preset.settings.iter_mut().find(|(sk, _)| *sk == k) {
                Some((_, sv)) => *sv = v,
                None => preset.settings.push((k, v)),
            }
        }
        self.catalog.put_preset(&WriteCtx::new(caller, self.now()), &preset, false).await?;
        Ok(())
    }

    pub async fn get_preset(&self, env: i64, name: &str) -> AppResult<Preset> {
        self.catalog.preset(env, name).await?.ok_or_else(|| AppError::PresetNotFound(name.to_owned()))
    }

    pub async fn list_presets(&self, env: i64) -> AppResult<Vec<Preset>> {
        Ok(self.catalog.list_presets(env).await?)
    }

    pub async fn delete_preset(&self, caller: &Caller, name: &str) -> AppResult<()> {
        if self.catalog.delete_preset(&WriteCtx::new(caller, self.now()), name).await? {
            Ok(())
        } else {
            Err(AppError::PresetNotFound(name.to_owned()))
        }
    }
}
