//! `nimbus env ...`, `nimbus keys ...` and `nimbus admin ...`: product environments, their API
//! keys, and configuration as code.

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
    /// Strict transformations: unsigned URLs may only reach existing derivatives (eager) or
    /// named transformations allowed for strict mode.
    StrictTransformations {
        cloud_name: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
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
        EnvCommand::StrictTransformations { cloud_name, state } => {
            app.set_strict_transformations(&cloud_name, state == "on").await?;
            println!("strict transformations {state} for {cloud_name}");
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

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Structured metadata.
    Metadata {
        #[command(subcommand)]
        command: MetadataCommand,
    },
    /// Console users and their roles.
    User {
        #[command(subcommand)]
        command: crate::users::UserCommand,
    },
    /// Privacy: due erasures and retention, and the sweep for what is left of a person.
    Privacy {
        #[command(subcommand)]
        command: crate::privacy::PrivacyCommand,
    },
    /// A day's delivery counters of an environment: views and unique visitors per asset,
    /// counted without cookies or stored addresses (fewer than five visitors show as <5).
    Analytics {
        cloud: String,
        /// The day, YYYY-MM-DD (UTC); default: today.
        #[arg(long)]
        day: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MetadataCommand {
    /// Create or update fields, datasources and rules from a schema file, idempotently by
    /// external id: `{"metadata_fields": [...], "metadata_rules": [...]}` in the Metadata API's
    /// shapes. Objects not in the file are left alone.
    Apply {
        /// The schema file (JSON).
        file: std::path::PathBuf,
        /// The environment; may be left out when there is only one.
        #[arg(long)]
        cloud: Option<String>,
        /// Report what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn admin(s: Settings, cmd: AdminCommand) -> Result<(), Box<dyn Error>> {
    let (file, cloud, dry_run) = match cmd {
        AdminCommand::Metadata { command: MetadataCommand::Apply { file, cloud, dry_run } } => (file, cloud, dry_run),
        AdminCommand::User { command } => return crate::users::user(s, command).await,
        AdminCommand::Privacy { command } => return crate::privacy::privacy(s, command).await,
        AdminCommand::Analytics { cloud, day, json } => return crate::analytics::analytics(s, cloud, day, json).await,
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", file.display()))?;
    let (app, catalog) = build_app(&s).await?;
    let cloud = match cloud {
        Some(c) => c,
        None => match app.list_environments().await?.as_slice() {
            [only] => only.cloud_name.clone(),
            _ => return Err("several environments exist: choose one with --cloud".into()),
        },
    };
    let env = app.environment(&cloud).await?;
    let file = nimbus_api::wire::metadata::schema_file(&doc)?;
    let report = app.apply_metadata_schema(&nimbus_app::events::Caller::system(env.id), &file, dry_run).await?;
    let verb = if dry_run { "would be " } else { "" };
    for (what, items) in [("created", &report.created), ("updated", &report.updated), ("unchanged", &report.unchanged)]
    {
        for item in items {
            println!("{item}: {verb}{what}");
        }
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    println!(
        "{} created, {} updated, {} unchanged{}",
        report.created.len(),
        report.updated.len(),
        report.unchanged.len(),
        if dry_run { " (dry run: nothing was changed)" } else { "" }
    );
    catalog.close().await;
    Ok(())
}
