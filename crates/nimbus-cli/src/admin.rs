//! `nimbus env ...` and `nimbus keys ...`: product environments and their API keys.

use std::error::Error;

use clap::Subcommand;

use crate::serve::build_app;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Create an environment; prints its CLOUDINARY_URL.
    Create {
        cloud_name: String,
        /// Use this CLOUDINARY_URL's key and secret instead of generating them.
        #[arg(long)]
        cloudinary_url: Option<String>,
    },
    /// List environments.
    List,
    /// Delete an environment and everything in it.
    Delete { cloud_name: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key for an environment; prints its CLOUDINARY_URL.
    Create { cloud_name: String },
    /// List an environment's keys (secrets are not shown).
    List { cloud_name: String },
    /// Revoke a key: it stops working at once.
    Revoke { api_key: String },
}

pub async fn env(s: Settings, cmd: EnvCommand) -> Result<(), Box<dyn Error>> {
    let (app, catalog) = build_app(&s).await?;
    match cmd {
        EnvCommand::Create { cloud_name, cloudinary_url } => {
            let creds = match cloudinary_url {
                Some(u) => {
                    let u = nimbus_core::cloudinary_url::CloudinaryUrl::parse(&u)?;
                    Some((u.api_key, u.api_secret))
                }
                None => None,
            };
            let (_, url) = app.create_environment(&cloud_name, creds).await?;
            println!("CLOUDINARY_URL={}", url.render());
        }
        EnvCommand::List => {
            for e in app.list_environments().await? {
                println!("{}\tcreated {}", e.cloud_name, nimbus_core::timefmt::iso8601(e.created_at));
            }
        }
        EnvCommand::Delete { cloud_name } => {
            app.delete_environment(&cloud_name).await?;
            println!("deleted environment {cloud_name}");
        }
    }
    catalog.close().await;
    Ok(())
}

pub async fn keys(s: Settings, cmd: KeysCommand) -> Result<(), Box<dyn Error>> {
    let (app, catalog) = build_app(&s).await?;
    match cmd {
        KeysCommand::Create { cloud_name } => {
            println!("CLOUDINARY_URL={}", app.create_api_key(&cloud_name).await?.render())
        }
        KeysCommand::List { cloud_name } => {
            for k in app.list_api_keys(&cloud_name).await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{state}\tcreated {}", k.key, nimbus_core::timefmt::iso8601(k.created_at));
            }
        }
        KeysCommand::Revoke { api_key } => {
            app.revoke_api_key(&api_key).await?;
            println!("revoked {api_key}");
        }
    }
    catalog.close().await;
    Ok(())
}
