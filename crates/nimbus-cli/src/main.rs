//! The `nimbus` binary: `serve`, environment and key administration, migrations and the
//! orphan sweep. This is the composition root: it reads configuration and wires the
//! adapters (`nimbus-db`, `nimbus-blob`) into the services (`nimbus-app`) behind the HTTP
//! surface (`nimbus-api`).

mod admin;
mod analytics;
mod config_example;
mod http_front;
mod jobs;
mod privacy;
mod private_files;
mod requests;
mod serve;
mod settings;
mod users;

use clap::{Parser, Subcommand};

/// `0.1.0 (commit 1a2b3c4d5e6f)`: the crate version and the git commit built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("NIMBUS_GIT_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(name = "nimbus", version = VERSION, about = "Self-hosted media platform, wire-compatible with Cloudinary's APIs")]
struct Cli {
    #[command(flatten)]
    common: settings::CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(Box<settings::ServeArgs>),
    /// Manage product environments.
    Env {
        #[command(subcommand)]
        command: admin::EnvCommand,
    },
    /// Manage API keys of an environment.
    Keys {
        #[command(subcommand)]
        command: admin::KeysCommand,
    },
    /// Administration of an environment's configuration.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// The job queue: webhook deliveries and eager derivatives.
    Jobs {
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
    /// The configuration file: print a documented example, or check one.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Apply catalog migrations and exit.
    Migrate,
    /// Delete blobs no asset references (older than the grace period) and exit.
    Sweep {
        /// Only blobs at least this old are considered, in seconds.
        #[arg(long, default_value_t = 3600)]
        grace_secs: i64,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a complete configuration file: every option, its default and what it does.
    Example,
    /// Validate a configuration file; names the unknown or invalid key and its line.
    Check { file: std::path::PathBuf },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Configuration commands need neither a runtime nor the settings they inspect.
    if let Command::Config { command } = &cli.command {
        return match command {
            ConfigCommand::Example => {
                print!("{}", config_example::example());
                std::process::ExitCode::SUCCESS
            }
            ConfigCommand::Check { file } => match settings::check_file(file) {
                Ok(()) => {
                    println!("{}: ok", file.display());
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("nimbus: {e}");
                    std::process::ExitCode::FAILURE
                }
            },
        };
    }
    settings::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nimbus: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: Result<(), Box<dyn std::error::Error>> = runtime.block_on(async move {
        let settings = settings::Settings::load(
            &cli.common,
            match &cli.command {
                Command::Serve(s) => Some(s.as_ref()),
                _ => None,
            },
        )?;
        match cli.command {
            Command::Serve(_) => serve::run(settings).await,
            Command::Env { command } => admin::env(settings, command).await,
            Command::Keys { command } => admin::keys(settings, command).await,
            Command::Admin { command } => admin::admin(settings, command).await,
            Command::Jobs { command } => jobs::jobs(settings, command).await,
            Command::Config { .. } => Ok(()),
            Command::Migrate => serve::build_app(&settings).await.map(|_| println!("catalog is up to date")),
            Command::Sweep { grace_secs } => {
                let (app, _) = serve::build_app(&settings).await?;
                let n = app.sweep_orphans(grace_secs).await?;
                println!("removed {n} orphan blob(s)");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nimbus: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
