//! Product environments and their API keys.

use nimbus_core::CloudName;
use nimbus_core::cloudinary_url::CloudinaryUrl;

use crate::error::AppResult;
use crate::events::{Actor, Caller, WriteCtx};
use crate::ports::{ApiKey, Environment};
use crate::{App, AppError};

/// Length of generated API secrets (`[a-z0-9]`, about 140 bits).
const SECRET_LEN: usize = 27;

impl App {
    /// Creates an environment; with `credentials` it gets exactly that key and secret.
    pub async fn create_environment(
        &self,
        cloud: &str,
        credentials: Option<(String, String)>,
    ) -> AppResult<(Environment, CloudinaryUrl)> {
        self.create_environment_by(&Actor::System, cloud, credentials).await
    }

    /// As [`App::create_environment`], recorded as done by `actor`.
    pub async fn create_environment_by(
        &self,
        actor: &Actor,
        cloud: &str,
        credentials: Option<(String, String)>,
    ) -> AppResult<(Environment, CloudinaryUrl)> {
        let cloud_name = CloudName::parse(cloud)?;
        let (key, secret) = credentials.unwrap_or_else(|| (self.ids.digits(15), self.ids.token(SECRET_LEN)));
        let env = self
            .catalog
            .create_env(cloud_name.as_str(), &key, &secret, actor, self.now())
            .await?
            .ok_or_else(|| AppError::AlreadyExists(format!("Environment {cloud}")))?;
        Ok((env, CloudinaryUrl { api_key: key, api_secret: secret, cloud: cloud_name }))
    }

    /// On start: make sure the environment of `CLOUDINARY_URL` exists with its key, or, with
    /// no such URL and an empty catalog, create one with generated credentials. Returns the
    /// credentials of an environment created here.
    ///
    /// Nodes starting together on one catalog may race here: the one whose creation loses
    /// finds the winner's environment and goes on with it.
    pub async fn bootstrap(&self, url: Option<&CloudinaryUrl>) -> AppResult<Option<CloudinaryUrl>> {
        match self.bootstrap_once(url).await {
            Err(AppError::AlreadyExists(_)) => self.bootstrap_once(url).await,
            other => other,
        }
    }

    async fn bootstrap_once(&self, url: Option<&CloudinaryUrl>) -> AppResult<Option<CloudinaryUrl>> {
        match url {
            Some(u) => match self.catalog.env_by_cloud(u.cloud.as_str()).await? {
                None => {
                    let (_, created) = self
                        .create_environment(u.cloud.as_str(), Some((u.api_key.clone(), u.api_secret.clone())))
                        .await?;
                    Ok(Some(created))
                }
                Some(env) => {
                    match self.catalog.api_key(&u.api_key).await? {
                        None => {
                            let w = WriteCtx::new(&Caller::system(env.id), self.now());
                            self.catalog.create_key(&w, &u.api_key, &u.api_secret).await?;
                        }
                        Some(k) if k.env_id != env.id || k.secret != u.api_secret => {
                            tracing::warn!(api_key = %u.api_key, "CLOUDINARY_URL names a key that exists with other settings; left unchanged");
                        }
                        Some(_) => {}
                    }
                    Ok(None)
                }
            },
            None if self.catalog.list_envs().await?.is_empty() => match self.create_environment("nimbus", None).await {
                Ok((_, created)) => Ok(Some(created)),
                // Another node created it a moment ago.
                Err(AppError::AlreadyExists(_)) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    /// Turns strict transformations on or off for an environment.
    pub async fn set_strict_transformations(&self, cloud: &str, on: bool) -> AppResult<()> {
        if !self.catalog.set_strict_transformations(cloud, on, &Actor::System, self.now()).await? {
            return Err(AppError::UnknownCloud(cloud.to_owned()));
        }
        self.delivery_cache.clear();
        Ok(())
    }

    pub async fn list_environments(&self) -> AppResult<Vec<Environment>> {
        Ok(self.catalog.list_envs().await?)
    }

    pub async fn delete_environment(&self, cloud: &str) -> AppResult<()> {
        if self.catalog.delete_env(cloud, &Actor::System, self.now()).await? {
            self.delivery_cache.clear();
            Ok(())
        } else {
            Err(AppError::UnknownCloud(cloud.to_owned()))
        }
    }

    pub async fn create_api_key(&self, cloud: &str) -> AppResult<CloudinaryUrl> {
        self.create_api_key_by(&Actor::System, cloud).await
    }

    /// As [`App::create_api_key`], recorded as done by `actor`.
    pub async fn create_api_key_by(&self, actor: &Actor, cloud: &str) -> AppResult<CloudinaryUrl> {
        let env = self.environment(cloud).await?;
        let w = WriteCtx::new(&Caller { env: env.id, actor: actor.clone() }, self.now());
        let key = self.catalog.create_key(&w, &self.ids.digits(15), &self.ids.token(SECRET_LEN)).await?;
        self.delivery_cache.clear();
        Ok(CloudinaryUrl { api_key: key.key, api_secret: key.secret, cloud: CloudName::parse(cloud)? })
    }

    pub async fn list_api_keys(&self, cloud: &str) -> AppResult<Vec<ApiKey>> {
        let env = self.environment(cloud).await?;
        Ok(self.catalog.list_keys(env.id).await?)
    }

    pub async fn revoke_api_key(&self, key: &str) -> AppResult<()> {
        self.revoke_api_key_by(&Actor::System, key).await
    }

    /// As [`App::revoke_api_key`], recorded as done by `actor`.
    pub async fn revoke_api_key_by(&self, actor: &Actor, key: &str) -> AppResult<()> {
        if self.catalog.revoke_key(key, actor, self.now()).await? {
            self.delivery_cache.clear();
            Ok(())
        } else {
            Err(AppError::UnknownApiKey(key.to_owned()))
        }
    }
}
