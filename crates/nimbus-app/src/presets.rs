//! Upload presets: named sets of upload settings (Cloudinary's upload parameters, kept as
//! given), signed or unsigned. Settings are checked when they are set: a parameter Nimbus
//! does not honour is refused by name, and every value must read as an upload option.

use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::params::Params;
use crate::ports::Preset;
use crate::upload_options::UploadOptions;
use crate::{App, AppError};

/// A preset as it is created or changed: `None` leaves a field as it is (a new preset: a
/// generated name, signed).
#[derive(Debug, Clone, Default)]
pub struct PresetDraft {
    pub name: Option<String>,
    pub unsigned: Option<bool>,
    /// Upload parameters and their values.
    pub settings: Vec<(String, String)>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_alphanumeric() || "-_ .".contains(c))
}

/// Refuses settings Nimbus does not honour, or whose values do not read.
fn check_settings(settings: &[(String, String)]) -> AppResult<()> {
    let mut p = Params::new();
    for (k, v) in settings {
        p.push(k, v.clone());
    }
    crate::honoured::refuse_unhonoured(&p)?;
    UploadOptions::from_params(&p).map(drop)
}

impl App {
    pub async fn create_preset(&self, caller: &Caller, draft: &PresetDraft) -> AppResult<String> {
        check_settings(&draft.settings)?;
        let name = match draft.name.as_deref().filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => self.ids.token(8),
        };
        if !valid_name(&name) {
            return Err(AppError::InvalidParam { name: "name", value: name });
        }
        let preset = Preset {
            name: name.clone(),
            unsigned: draft.unsigned.unwrap_or(false),
            settings: draft.settings.iter().filter(|(_, v)| !v.is_empty()).cloned().collect(),
        };
        if !self.catalog.put_preset(&WriteCtx::new(caller, self.now()), &preset, true).await? {
            return Err(AppError::AlreadyExists(format!("Upload preset {name}")));
        }
        Ok(name)
    }

    /// Updates the given settings, keeping the others.
    pub async fn update_preset(&self, caller: &Caller, name: &str, draft: &PresetDraft) -> AppResult<()> {
        check_settings(&draft.settings)?;
        let mut preset = self.get_preset(caller.env, name).await?;
        if let Some(u) = draft.unsigned {
            preset.unsigned = u;
        }
        for (k, v) in draft.settings.iter().filter(|(_, v)| !v.is_empty()).cloned() {
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
