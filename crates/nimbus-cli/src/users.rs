//! `nimbus admin user ...`: console accounts from the command line. Passwords are read from
//! standard input (one line), never from an argument, so they stay out of shell history and
//! process listings.

use std::error::Error;
use std::io::BufRead as _;

use clap::Subcommand;
use nimbus_core::accounts::Role;

use crate::serve::build_app;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a console user with a role in an environment.
    Create {
        email: String,
        /// owner, admin, editor or viewer.
        #[arg(long)]
        role: Role,
        #[arg(long)]
        cloud: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Every user, with their roles.
    List,
    /// Give a user a role in an environment (`none` takes it away).
    SetRole {
        email: String,
        /// owner, admin, editor, viewer or none.
        #[arg(long)]
        role: String,
        #[arg(long)]
        cloud: String,
    },
    /// Disable an account and end its sessions.
    Disable { email: String },
    /// Enable a disabled account again.
    Enable { email: String },
    /// Delete accounts (an erasure asked for by mail, say): each is blocked at once and
    /// erased when the deletion grace period is over ([privacy] deletion_grace), unless the
    /// person follows the cancel link mailed to them; `nimbus admin privacy run-due` erases
    /// the due ones now.
    Delete {
        #[arg(required = true)]
        emails: Vec<String>,
    },
    /// Set a new password (read from standard input) and end every session of the user.
    ResetPassword {
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn read_password() -> Result<String, Box<dyn Error>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\n', '\r']).to_owned();
    if p.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(p)
}

pub async fn user(s: Settings, cmd: UserCommand) -> Result<(), Box<dyn Error>> {
    let (app, catalog) = build_app(&s).await?;
    match cmd {
        UserCommand::Create { email, role, cloud, password_stdin: _ } => {
            // The environment must exist before anyone is created for it.
            app.environment(&cloud).await?;
            let password = read_password()?;
            let user = app.create_user(&email, Some(password)).await?;
            app.set_user_role(user.id, &cloud, Some(role)).await?;
            println!("created user {} ({}) as {role} of {cloud}", user.id, user.email);
        }
        UserCommand::List => {
            for (u, roles) in app.list_users().await? {
                let roles: Vec<String> = roles.iter().map(|m| format!("{}:{}", m.cloud_name, m.role)).collect();
                let state = if u.deletion_due_at.is_some() {
                    "pending-deletion"
                } else if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!("{}\t{}\t{state}\t{}", u.id, u.email, roles.join(","));
            }
        }
        UserCommand::SetRole { email, role, cloud } => {
            let role = if role == "none" { None } else { Some(role.parse::<Role>()?) };
            let user = app.user_by_email(&email).await?;
            app.set_user_role(user.id, &cloud, role).await?;
            println!("{}: {} in {cloud}", user.email, role.map_or("no role", Role::as_str));
        }
        UserCommand::Disable { email } => {
            let user = app.user_by_email(&email).await?;
            app.set_user_disabled(user.id, true).await?;
            println!("{}: disabled, sessions ended", user.email);
        }
        UserCommand::Delete { emails } => {
            for email in emails {
                let s = app.delete_account_for(&email).await?;
                println!("{email}: blocked; erased at {} (UTC)", nimbus_core::timefmt::iso8601(s.due_at));
            }
        }
        UserCommand::Enable { email } => {
            let user = app.user_by_email(&email).await?;
            app.set_user_disabled(user.id, false).await?;
            println!("{}: enabled", user.email);
        }
        UserCommand::ResetPassword { email, password_stdin: _ } => {
            let user = app.user_by_email(&email).await?;
            app.set_user_password(user.id, read_password()?).await?;
            println!("{}: password set, sessions ended", user.email);
        }
    }
    catalog.close().await;
    Ok(())
}
