//! Asset folders: created explicitly or implicitly by uploads; deleted only when empty.

use crate::error::AppResult;
use crate::events::{Caller, WriteCtx};
use crate::{App, AppError};

/// Normalises a folder path: no leading/trailing `/`, no empty or dot segments.
pub fn folder_path(raw: &str) -> AppResult<String> {
    let p = raw.trim_matches('/');
    if p.is_empty() || p.split('/').any(|s| s.is_empty() || s == "." || s == "..") || p.chars().any(char::is_control) {
        return Err(AppError::InvalidParam { name: "folder", value: raw.to_owned() });
    }
    Ok(p.to_owned())
}

impl App {
    /// Returns whether the folder is new.
    pub async fn create_folder(&self, caller: &Caller, path: &str) -> AppResult<String> {
        let path = folder_path(path)?;
        self.catalog.ensure_folder(&WriteCtx::new(caller, self.now()), &path).await?;
        Ok(path)
    }

    /// Children of `parent` (root folders when `None`).
    pub async fn list_folders(&self, env: i64, parent: Option<&str>) -> AppResult<Vec<String>> {
        let parent = parent.map(folder_path).transpose()?;
        if let Some(p) = &parent {
            if !self.catalog.folder_exists(env, p).await? {
                return Err(AppError::FolderNotFound(p.clone()));
            }
        }
        Ok(self.catalog.list_folders(env, parent.as_deref()).await?)
    }

    pub async fn delete_folder(&self, caller: &Caller, path: &str) -> AppResult<String> {
        let env = caller.env;
        let path = folder_path(path)?;
        if !self.catalog.folder_exists(env, &path).await? {
            return Err(AppError::FolderNotFound(path));
        }
        if self.catalog.folder_has_content(env, &path).await? {
            return Err(AppError::FolderNotEmpty(path));
        }
        self.catalog.delete_folder(&WriteCtx::new(caller, self.now()), &path).await?;
        Ok(path)
    }
}
