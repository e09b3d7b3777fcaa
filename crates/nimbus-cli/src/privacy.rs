//! `nimbus admin privacy ...`: the privacy work's operator commands.

use std::error::Error;
use std::path::PathBuf;

use clap::Subcommand;

use crate::serve::build_app;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Run now every privacy job that is due: erasures of accounts whose grace period is
    /// over, the erasure ledger's replay, and the retention of sessions, links, events and jobs.
    RunDue,
    /// Publish a new version of the privacy policy or the terms. People who signed in within
    /// the last year get a notice by mail; the console shows the change until it takes effect.
    Publish {
        /// privacy or terms.
        #[arg(long, default_value = "privacy")]
        kind: String,
        /// minor (in effect 7 days after publishing at the earliest), substantial (30 days)
        /// or legal (at once).
        #[arg(long)]
        class: nimbus_core::policy::ChangeClass,
        /// The full text (Markdown).
        #[arg(long)]
        text: PathBuf,
        /// What changes, in plain words (Markdown).
        #[arg(long)]
        changelog: PathBuf,
        /// The day it takes effect, YYYY-MM-DD (UTC); default: as early as the class allows.
        #[arg(long)]
        effective: Option<String>,
    },
    /// Mail product news to everyone who asked for it on their account page (nobody else),
    /// each message with a one-click unsubscribe link; prints how many went out.
    News {
        #[arg(long)]
        subject: String,
        /// The text (plain).
        #[arg(long)]
        body: PathBuf,
    },
    /// The "Shine the Light" report (California Civil Code 1798.83) for a calendar year: the
    /// third parties that received personal data for their own direct marketing.
    ShineTheLight {
        /// The year (default: the previous one).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Report every place where a person's e-mail address (and any other text given with
    /// --also, such as a name or an IP address) still appears: the catalog's text columns
    /// and statistics, the blob store, and the log files given. Exits with status 1 when
    /// anything is found.
    Sweep {
        email: String,
        /// More text to look for (a name, an IP address); repeatable.
        #[arg(long)]
        also: Vec<String>,
        /// A log file to search too; repeatable.
        #[arg(long)]
        log: Vec<PathBuf>,
    },
}

pub async fn privacy(s: Settings, cmd: PrivacyCommand) -> Result<(), Box<dyn Error>> {
    let (app, catalog) = build_app(&s).await?;
    let result = match cmd {
        PrivacyCommand::RunDue => {
            let replayed = app.replay_erasure_ledger().await?;
            let inactive = app.inactive_accounts_round().await?;
            let erased = app.purge_due_accounts().await?;
            let pruned = app.prune_history().await?;
            println!(
                "inactive accounts: {} reminded, {} scheduled for deletion",
                inactive.reminded, inactive.scheduled
            );
            println!(
                "{erased} account(s) erased, {replayed} erased again from the ledger; pruned {} event(s), {} job(s), {} session(s) and link(s), {} data archive(s)",
                pruned.events, pruned.jobs, pruned.sessions, pruned.exports
            );
            Ok(())
        }
        PrivacyCommand::Publish { kind, class, text, changelog, effective } => {
            let read =
                |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
            let effective_at = match effective.as_deref() {
                Some(d) => Some(
                    nimbus_core::timefmt::parse_date(d).ok_or(format!("--effective {d:?}: not a YYYY-MM-DD day"))?,
                ),
                None => None,
            };
            let new = nimbus_app::privacy::policies::NewPolicy {
                kind,
                class,
                text_md: read(&text)?,
                changelog_md: read(&changelog)?,
                effective_at,
            };
            let done = app.publish_policy(new).await?;
            println!(
                "{} version {} published; in effect from {}; {} notice(s) mailed",
                done.policy.kind,
                done.policy.version,
                nimbus_core::timefmt::iso8601(done.policy.effective_at),
                done.notified
            );
            Ok(())
        }
        PrivacyCommand::News { subject, body } => {
            let body = std::fs::read_to_string(&body).map_err(|e| format!("cannot read {}: {e}", body.display()))?;
            let sent = app.send_product_news(&subject, body.trim_end()).await?;
            println!("product news sent to {sent} people");
            Ok(())
        }
        PrivacyCommand::ShineTheLight { year } => {
            let year = year.unwrap_or_else(|| nimbus_core::timefmt::year_of(app.now()) - 1);
            let parties = nimbus_core::processors::direct_marketing(&app.config.processors);
            println!("Disclosures of personal information to third parties for their direct marketing, {year}:");
            if parties.is_empty() {
                println!(
                    "none. This installation gives personal information to no third party for its direct marketing."
                );
            }
            for p in parties {
                println!("- {}: {}", p.name, p.data.join(", "));
            }
            Ok(())
        }
        PrivacyCommand::Sweep { email, also, log } => {
            let mut needles = vec![email];
            needles.extend(also);
            let found = app.privacy_sweep(&needles, &log).await?;
            for f in &found {
                println!("{}\t{}\t{}", f.needle, f.place, f.count);
            }
            if found.is_empty() {
                println!("nothing found");
                Ok(())
            } else {
                Err(format!("found in {} place(s)", found.len()).into())
            }
        }
    };
    catalog.close().await;
    result
}
