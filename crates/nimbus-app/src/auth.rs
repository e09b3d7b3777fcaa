//! Who is calling: environment by cloud name, then Basic credentials, a signed request or an
//! unsigned upload preset. Messages follow Cloudinary's; a key of another environment is
//! indistinguishable from an unknown key.

use nimbus_core::signature::{self, TimestampCheck};

use crate::error::AppResult;
use crate::ports::{ApiKey, Environment, Preset};
use crate::{App, AppError};

/// What an Upload API call offers as proof of who it is, as the API reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadCredentials {
    /// HTTP Basic `key:secret`.
    Basic { key: String, secret: String },
    /// `api_key`, `timestamp` (as sent) and `signature`, with the parameters the signature
    /// covers.
    Signed { api_key: Option<String>, timestamp: Option<String>, signature: String, signed: Vec<(String, String)> },
    /// An `api_key` without a signature (refused, after the key is checked).
    KeyOnly { api_key: String },
    /// An `upload` naming an upload preset, without a key.
    Preset(String),
    /// Nothing.
    None,
}

/// An authenticated Upload API call.
#[derive(Debug, Clone)]
pub struct UploadCaller {
    pub env: Environment,
    /// The key that signed the call; `None` for unsigned preset uploads.
    pub api_key: Option<ApiKey>,
    /// The unsigned preset that authorised the call.
    pub unsigned_preset: Option<Preset>,
    /// The console user who uploads (trusted as a signed call is).
    pub person: Option<i64>,
}

impl UploadCaller {
    /// Who acts: the signing key, or the unsigned preset.
    pub fn caller(&self) -> crate::events::Caller {
        let actor = match (&self.api_key, &self.unsigned_preset, self.person) {
            (Some(k), _, _) => crate::events::Actor::ApiKey(k.key.clone()),
            (None, Some(p), _) => crate::events::Actor::UnsignedPreset(p.name.clone()),
            (None, None, Some(id)) => crate::events::Actor::User(id),
            (None, None, None) => crate::events::Actor::System,
        };
        crate::events::Caller { env: self.env.id, actor }
    }
}

impl App {
    pub async fn environment(&self, cloud: &str) -> AppResult<Environment> {
        self.catalog.env_by_cloud(cloud).await?.ok_or_else(|| AppError::UnknownCloud(cloud.to_owned()))
    }

    /// The live key `key` of `env`.
    async fn key_of(&self, env: &Environment, key: &str) -> AppResult<ApiKey> {
        let found = self.catalog.api_key(key).await?;
        match found {
            Some(k) if k.env_id == env.id => {
                if k.revoked_at.is_some() {
                    Err(AppError::RevokedApiKey(key.to_owned()))
                } else {
                    Ok(k)
                }
            }
            _ => Err(AppError::UnknownApiKey(key.to_owned())),
        }
    }

    /// Admin API: HTTP Basic `key:secret`.
    pub async fn authenticate_basic(
        &self,
        cloud: &str,
        basic: Option<(String, String)>,
    ) -> AppResult<(Environment, ApiKey)> {
        let env = self.environment(cloud).await?;
        let (key, secret) = basic.ok_or(AppError::MissingCredentials)?;
        let k = self.key_of(&env, &key).await?;
        if !signature::ct_eq(&k.secret, &secret) {
            return Err(AppError::SecretMismatch(key));
        }
        Ok((env, k))
    }

    /// Upload API: Basic credentials, or `api_key` + `timestamp` + `signature`, or (for
    /// `upload` only) an unsigned preset.
    pub async fn authenticate_upload(
        &self,
        cloud: &str,
        action: &str,
        credentials: UploadCredentials,
    ) -> AppResult<UploadCaller> {
        let env = match &credentials {
            UploadCredentials::Basic { key, secret } => {
                let (env, key) = self.authenticate_basic(cloud, Some((key.clone(), secret.clone()))).await?;
                return Ok(UploadCaller { env, api_key: Some(key), unsigned_preset: None, person: None });
            }
            _ => self.environment(cloud).await?,
        };
        match credentials {
            UploadCredentials::Basic { .. } => unreachable!("answered above"),
            UploadCredentials::Signed { api_key, timestamp, signature: sig, signed } => {
                let key = self.key_of(&env, &api_key.ok_or(AppError::MissingParam("api_key"))?).await?;
                let text = timestamp.ok_or(AppError::MissingParam("timestamp"))?;
                let ts: i64 = text.parse().map_err(|_| AppError::InvalidParam { name: "timestamp", value: text })?;
                let pairs: Vec<(&str, &str)> = signed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                signature::verify_request(&pairs, &sig, &key.secret)
                    .map_err(|to_sign| AppError::InvalidSignature { given: sig.clone(), to_sign })?;
                let now = self.now();
                match signature::check_timestamp(ts, now) {
                    TimestampCheck::Fresh => {}
                    TimestampCheck::Stale => return Err(AppError::StaleRequest { timestamp: ts, now }),
                    TimestampCheck::Ahead => return Err(AppError::FutureRequest { timestamp: ts, now }),
                }
                Ok(UploadCaller { env, api_key: Some(key), unsigned_preset: None, person: None })
            }
            UploadCredentials::KeyOnly { api_key } => {
                // A key without a signature: say what is wrong with the key first.
                self.key_of(&env, &api_key).await?;
                Err(AppError::MissingParam("signature"))
            }
            UploadCredentials::Preset(name) if action == "upload" => {
                let preset = self
                    .catalog
                    .preset(env.id, &name)
                    .await?
                    .ok_or_else(|| AppError::UploadPresetMissing(name.clone()))?;
                if !preset.unsigned {
                    return Err(AppError::PresetNotUnsigned(name));
                }
                Ok(UploadCaller { env, api_key: None, unsigned_preset: Some(preset), person: None })
            }
            UploadCredentials::Preset(_) | UploadCredentials::None => Err(AppError::MissingCredentials),
        }
    }
}
