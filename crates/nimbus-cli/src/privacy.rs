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
    /// The register of requests from authorities: add, list, record a disclosure or a
    /// review, and the yearly transparency report.
    Legal {
        #[command(subcommand)]
        command: LegalCommand,
    },
    /// Restrict an asset while a request about content that shows someone is examined: it
    /// and its derivatives answer 451 and it leaves search results; --lift restores it.
    Restrict {
        cloud: String,
        public_id: String,
        #[arg(long, default_value = "image")]
        resource_type: nimbus_core::ResourceType,
        #[arg(long = "type", default_value = "upload")]
        delivery_type: nimbus_core::DeliveryType,
        /// Why (such as the request's number); required unless --lift.
        #[arg(long, required_unless_present = "lift")]
        reason: Option<String>,
        #[arg(long)]
        lift: bool,
    },
    /// The request desk: requests about their data from people with or without an account
    /// (made at /privacy/requests), their due dates, what is held about them, and answers.
    Requests {
        #[command(subcommand)]
        command: crate::requests::RequestsCommand,
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

#[derive(Debug, Subcommand)]
pub enum LegalCommand {
    /// Register a request. The people concerned are told by mail when --notify allows:
    /// now (the default), on a date (YYYY-MM-DD, the end of a gag order), or never (with
    /// --reason, reviewed every 90 days).
    Add {
        /// Who asked (the name of the authority).
        #[arg(long)]
        authority: String,
        /// police, court, regulator or other.
        #[arg(long)]
        kind: String,
        /// The legal basis given.
        #[arg(long)]
        basis: String,
        /// Kinds of data asked for (registry categories: account, session, event, audit,
        /// consent, asset_meta, analytics), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
        /// The e-mail address of a person concerned; repeatable.
        #[arg(long = "user", required = true)]
        users: Vec<String>,
        /// The day it was received, YYYY-MM-DD (default: today).
        #[arg(long)]
        received: Option<String>,
        /// now, YYYY-MM-DD or never.
        #[arg(long, default_value = "now")]
        notify: String,
        /// Why the people concerned are never to be told (with --notify never).
        #[arg(long)]
        reason: Option<String>,
        /// The request's document: its SHA-256 is kept, not the file.
        #[arg(long)]
        attachment: Option<PathBuf>,
    },
    /// Every request, newest first.
    List,
    /// Record that a request's data was disclosed (default: today).
    Disclosed {
        id: i64,
        #[arg(long)]
        on: Option<String>,
    },
    /// Confirm a decision never to tell after its review (the next is 90 days on).
    Reviewed { id: i64 },
    /// The transparency report of a year: requests per kind of authority, no names.
    Report {
        /// The year (default: the previous one).
        #[arg(long)]
        year: Option<i32>,
    },
}

fn day_arg(name: &str, text: Option<&str>, default: i64) -> Result<i64, String> {
    match text {
        Some(t) => nimbus_core::timefmt::parse_date(t).ok_or_else(|| format!("--{name} {t}: expected YYYY-MM-DD")),
        None => Ok(default),
    }
}

async fn legal(app: &nimbus_app::App, cmd: LegalCommand) -> Result<(), Box<dyn Error>> {
    use nimbus_app::privacy::legal::{NewLegalRequest, Notify};
    use nimbus_core::timefmt::iso8601;
    let now = app.now();
    match cmd {
        LegalCommand::Add { authority, kind, basis, categories, users, received, notify, reason, attachment } => {
            let notify = match (notify.as_str(), reason) {
                ("now", None) => Notify::Now,
                ("never", Some(r)) => Notify::Never(r),
                ("never", None) => return Err("--notify never needs --reason".into()),
                (_, Some(_)) => return Err("--reason goes with --notify never".into()),
                (day, None) => Notify::After(day_arg("notify", Some(day), now)?),
            };
            let attachment_sha256 = match attachment {
                Some(p) => {
                    let bytes = std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                    Some(nimbus_app::privacy::legal::digest(&bytes))
                }
                None => None,
            };
            let id = app
                .register_legal_request(NewLegalRequest {
                    authority,
                    authority_kind: kind,
                    legal_basis: basis,
                    categories,
                    received_at: day_arg("received", received.as_deref(), now)?,
                    disclosed_at: None,
                    attachment_sha256,
                    emails: users,
                    notify,
                })
                .await?;
            let told = app.send_legal_notices().await?;
            println!("legal request {id} registered; {told} person(s) told now");
        }
        LegalCommand::List => {
            for (r, people) in app.legal_requests().await? {
                let notify = match (r.notify_after, &r.never_reason) {
                    (Some(t), _) => format!("tell from {}", &iso8601(t)[..10]),
                    (None, reason) => format!("never: {}", reason.as_deref().unwrap_or("")),
                };
                let told = people.iter().filter(|(_, n)| n.is_some()).count();
                println!(
                    "{} received {} from {} ({}) under {}: {}; disclosed {}; {notify}; {told} of {} told",
                    r.id,
                    &iso8601(r.received_at)[..10],
                    r.authority,
                    r.authority_kind,
                    r.legal_basis,
                    r.categories.join(", "),
                    r.disclosed_at.map_or_else(|| "no".to_owned(), |t| iso8601(t)[..10].to_owned()),
                    people.len(),
                );
            }
        }
        LegalCommand::Disclosed { id, on } => {
            app.legal_disclosed(id, day_arg("on", on.as_deref(), now)?).await?;
            println!("legal request {id}: disclosure recorded");
        }
        LegalCommand::Reviewed { id } => {
            app.legal_reviewed(id).await?;
            println!("legal request {id}: reviewed; the next review is in 90 days");
        }
        LegalCommand::Report { year } => {
            let year = year.unwrap_or_else(|| nimbus_core::timefmt::year_of(now) - 1);
            println!("Requests from authorities for people's data, {year}:");
            for l in app.transparency_report(year).await? {
                println!(
                    "- {}: {} request(s), {} disclosed, {} account(s) concerned",
                    l.authority_kind, l.requests, l.disclosed, l.people
                );
            }
        }
    }
    Ok(())
}

pub async fn privacy(s: Settings, cmd: PrivacyCommand) -> Result<(), Box<dyn Error>> {
    let (app, catalog) = build_app(&s).await?;
    let result = match cmd {
        PrivacyCommand::RunDue => {
            let replayed = app.replay_erasure_ledger().await?;
            let inactive = app.inactive_accounts_round().await?;
            let erased = app.purge_due_accounts().await?;
            let pruned = app.prune_history().await?;
            let told = app.send_legal_notices().await?;
            println!(
                "inactive accounts: {} reminded, {} scheduled for deletion",
                inactive.reminded, inactive.scheduled
            );
            println!("{told} person(s) told of a request from an authority");
            for r in app.legal_reviews_due().await? {
                println!("legal request {} ({}): the decision never to tell is due for review", r.id, r.authority);
            }
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
        PrivacyCommand::Legal { command } => legal(&app, command).await,
        PrivacyCommand::Requests { command } => crate::requests::run(&app, command).await,
        PrivacyCommand::Restrict { cloud, public_id, resource_type, delivery_type, reason, lift } => {
            let env = app
                .catalog
                .env_by_cloud(&cloud)
                .await?
                .ok_or_else(|| nimbus_app::AppError::UnknownCloud(cloud.clone()))?;
            let caller = nimbus_app::events::Caller::system(env.id);
            let (rt, dt) = (resource_type, delivery_type);
            if lift {
                let done = app.lift_restriction(&caller, rt, dt, &public_id).await?;
                println!("{public_id}: {}", if done { "restriction lifted" } else { "was not restricted" });
            } else {
                let reason = reason.unwrap_or_default();
                let done = app.restrict_asset(&caller, rt, dt, &public_id, &reason).await?;
                println!("{public_id}: {}", if done { "restricted" } else { "was restricted already" });
            }
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
