//! Configuration: command-line flags, `NIMBUS_*` environment variables, an optional TOML
//! file, then defaults — in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

/// Largest accepted client timeout (a day): a zero timeout would close every connection at
/// once, and one past what a clock can add would panic a worker.
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Data directory (SQLite catalog, blobs, staging).
    #[arg(long, global = true, env = "NIMBUS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Catalog database: `sqlite://file.db` or `postgres://...` (default: SQLite in the data dir).
    #[arg(long, global = true, env = "NIMBUS_DATABASE_URL")]
    database_url: Option<String>,
    /// Blob store: `file:///DIR` or `s3://BUCKET[/PREFIX]` with the standard `AWS_*`
    /// variables (default: `blobs` in the data dir).
    #[arg(long, global = true, env = "NIMBUS_BLOB_URL")]
    blob_url: Option<String>,
    /// TOML configuration file.
    #[arg(long, global = true, env = "NIMBUS_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    privacy: PrivacyArgs,
}

/// The `[privacy]` settings as flags and variables: every command takes them, since the
/// operator's commands (`admin user delete`, `admin privacy run-due`) schedule and run the
/// same work as the server.
#[derive(Debug, Default, Args)]
pub struct PrivacyArgs {
    /// How long an account whose deletion was asked waits, blocked, before it is erased:
    /// a number and a unit, s, m, h or d (default: 14d).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_DELETION_GRACE")]
    privacy_deletion_grace: Option<String>,
    /// A TOML file of `[[processor]]` tables: the outside parties that receive personal data
    /// besides the mail relay and S3 provider Nimbus knows of (default: none).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_PROCESSORS_FILE")]
    privacy_processors_file: Option<PathBuf>,
    /// Delete accounts nobody signed in to for this long (such as 365d); default: never.
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_INACTIVE_DELETE_AFTER")]
    privacy_inactive_delete_after: Option<String>,
    /// Days before such a deletion on which a reminder is mailed (default: 14,7).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_INACTIVE_REMINDERS", value_delimiter = ',')]
    privacy_inactive_reminders: Option<Vec<i64>>,
    /// Roles whose holders are never cleaned up (default: owner,admin).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_INACTIVE_EXCLUDE_ROLES", value_delimiter = ',')]
    privacy_inactive_exclude_roles: Option<Vec<nimbus_core::accounts::Role>>,
    /// Days "Remember me" keeps a console session (default: 30, at most 90).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_REMEMBER_DAYS", value_parser = clap::value_parser!(i64).range(1..=90))]
    privacy_remember_days: Option<i64>,
    /// Count views and unique visitors of delivered files, without cookies or stored
    /// addresses (default: true).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_DELIVERY_ANALYTICS", action = clap::ArgAction::Set)]
    privacy_delivery_analytics: Option<bool>,
    /// How long a console session is kept after its last use (default: 30d; at least the
    /// Remember me period).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_RETENTION_SESSIONS")]
    privacy_retention_sessions: Option<String>,
    /// How long the record of a change (who changed what) is kept once announced
    /// (default: 30d).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_RETENTION_EVENTS")]
    privacy_retention_events: Option<String>,
    /// How long a finished job and its attempts are kept (default: 14d).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_RETENTION_JOBS")]
    privacy_retention_jobs: Option<String>,
    /// How long an archive of a person's data is kept (default: 7d); one may be asked
    /// again once the last has gone.
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_RETENTION_EXPORTS")]
    privacy_retention_exports: Option<String>,
    /// A MaxMind-format database (such as GeoLite2-Country.mmdb): delivery views are then
    /// also counted per country (default: none, no geo-location).
    #[arg(long, global = true, env = "NIMBUS_PRIVACY_GEOIP_DATABASE")]
    privacy_geoip_database: Option<PathBuf>,
}

impl PrivacyArgs {
    fn retention(&self, s: nimbus_core::privacy::Setting) -> Option<&str> {
        use nimbus_core::privacy::Setting;
        match s {
            Setting::Sessions => self.privacy_retention_sessions.as_deref(),
            Setting::Events => self.privacy_retention_events.as_deref(),
            Setting::Jobs => self.privacy_retention_jobs.as_deref(),
            Setting::Exports => self.privacy_retention_exports.as_deref(),
        }
    }
}

/// Options of `nimbus serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "NIMBUS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Base URL clients reach this server at, used in `url`/`secure_url` (default: http://LISTEN).
    #[arg(long, env = "NIMBUS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Base URL of a host name of delivery's own (e.g. https://media.example.com): delivered
    /// files are then served only there, and the APIs only on other host names.
    #[arg(long, env = "NIMBUS_DELIVERY_URL")]
    delivery_url: Option<String>,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "NIMBUS_MAX_FILE_BYTES")]
    max_file_bytes: Option<u64>,
    /// Timeout of remote-URL uploads, in seconds.
    #[arg(long, env = "NIMBUS_REMOTE_TIMEOUT_SECS")]
    remote_timeout_secs: Option<u64>,
    /// Hosts or IPs remote-URL uploads may reach although they are private (comma-separated).
    #[arg(long, env = "NIMBUS_REMOTE_ALLOWLIST", value_delimiter = ',')]
    remote_allowlist: Option<Vec<String>>,
    /// Proxies in front of Nimbus whose `X-Forwarded-For` names the client (addresses or
    /// networks, comma-separated; default: none, the peer is the client).
    #[arg(long, env = "NIMBUS_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<String>>,
    /// Admin API calls per hour and environment.
    #[arg(long, env = "NIMBUS_ADMIN_RATE_LIMIT")]
    admin_rate_limit: Option<u32>,
    /// HTTP worker threads, each with its own listening socket (default: one per core).
    #[arg(long, env = "NIMBUS_HTTP_WORKERS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    http_workers: Option<u16>,
    /// Seconds a client may take to send a request's headers; also how long an idle
    /// kept-alive connection stays open (default: 30).
    #[arg(long, env = "NIMBUS_HEADER_TIMEOUT_SECS")]
    header_timeout_secs: Option<u64>,
    /// Seconds a request body may pause before the request fails (default: 60).
    #[arg(long, env = "NIMBUS_BODY_IDLE_TIMEOUT_SECS")]
    body_idle_timeout_secs: Option<u64>,
    /// SMTP server for mail to console users: smtp://[USER:PASSWORD@]HOST[:PORT] or smtps://...
    /// (default: none; mail goes to the log).
    #[arg(long, env = "NIMBUS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of that mail (default: Nimbus <nimbus@localhost>).
    #[arg(long, env = "NIMBUS_MAIL_FROM")]
    mail_from: Option<String>,
}

/// The `[privacy]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyFile {
    deletion_grace: Option<String>,
    processors_file: Option<PathBuf>,
    inactive_delete_after: Option<String>,
    inactive_reminders: Option<Vec<i64>>,
    inactive_exclude_roles: Option<Vec<String>>,
    remember_days: Option<i64>,
    delivery_analytics: Option<bool>,
    retention_sessions: Option<String>,
    retention_events: Option<String>,
    retention_jobs: Option<String>,
    retention_exports: Option<String>,
    geoip_database: Option<PathBuf>,
}

impl PrivacyFile {
    fn retention(&self, s: nimbus_core::privacy::Setting) -> Option<&str> {
        use nimbus_core::privacy::Setting;
        match s {
            Setting::Sessions => self.retention_sessions.as_deref(),
            Setting::Events => self.retention_events.as_deref(),
            Setting::Jobs => self.retention_jobs.as_deref(),
            Setting::Exports => self.retention_exports.as_deref(),
        }
    }
}

/// Shortest retention period accepted: an hour (an archive must stay long enough to be
/// downloaded, a session long enough to be used).
const MIN_RETENTION_SECS: i64 = 3600;

/// `[privacy] retention_*`, each a flag or the file's or the default, checked: at least
/// [`MIN_RETENTION_SECS`], and sessions at least as long as Remember me keeps one (a
/// session deleted while it could still be used would sign its owner out early).
fn retentions(
    flags: Option<&PrivacyArgs>,
    file: Option<&PrivacyFile>,
    remember_days: Option<i64>,
) -> Result<nimbus_core::privacy::Retentions, String> {
    use nimbus_core::privacy::{Retentions, Setting, period_words};
    let mut out = Retentions::default();
    for s in Setting::ALL {
        let name = format!("privacy retention_{}", s.as_str());
        let text = flags.and_then(|f| f.retention(s)).or(file.and_then(|f| f.retention(s)));
        if let Some(secs) = duration(&name, text)? {
            if secs < MIN_RETENTION_SECS {
                return Err(format!("{name} must be at least 1h, not {}", period_words(secs)));
            }
            out.set(s, secs);
        }
    }
    let remember = remember_days.unwrap_or(nimbus_app::accounts::DEFAULT_REMEMBER_DAYS) * 86_400;
    if out.sessions_secs < remember {
        return Err(format!(
            "privacy retention_sessions ({}) must be at least the Remember me period ({})",
            period_words(out.sessions_secs),
            period_words(remember)
        ));
    }
    Ok(out)
}

/// `[privacy] remember_days`, checked.
fn remember_days(days: Option<i64>) -> Result<Option<i64>, String> {
    match days {
        Some(d) if !(1..=nimbus_app::accounts::MAX_REMEMBER_DAYS).contains(&d) => {
            Err(format!("privacy remember_days: {d} is not between 1 and {}", nimbus_app::accounts::MAX_REMEMBER_DAYS))
        }
        d => Ok(d),
    }
}

fn roles(names: &[String]) -> Result<Vec<nimbus_core::accounts::Role>, String> {
    names
        .iter()
        .map(|n| n.parse().map_err(|e: nimbus_core::accounts::AccountError| format!("inactive_exclude_roles: {e}")))
        .collect()
}

/// The processors declared in a processors file.
pub fn read_processors(path: &Path) -> Result<Vec<nimbus_core::processors::Processor>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: nimbus_core::processors::ProcessorsFile =
        toml::from_str(&text).map_err(|e| format!("invalid processors file {}: {e}", path.display()))?;
    Ok(file.processor)
}

/// A duration option's value in seconds.
fn duration(name: &str, text: Option<&str>) -> Result<Option<i64>, String> {
    text.map(|t| {
        nimbus_core::timefmt::parse_duration_secs(t)
            .ok_or_else(|| format!("{name} must be a number and a unit, s, m, h or d (such as 14d), not {t:?}"))
    })
    .transpose()
}

/// The TOML file: the same settings, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    blob_url: Option<String>,
    public_url: Option<String>,
    delivery_url: Option<String>,
    max_file_bytes: Option<u64>,
    remote_timeout_secs: Option<u64>,
    remote_allowlist: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    admin_rate_limit: Option<u32>,
    http_workers: Option<u16>,
    header_timeout_secs: Option<u64>,
    body_idle_timeout_secs: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    privacy: Option<PrivacyFile>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `None`: the `blobs` directory of the data dir.
    pub blob_url: Option<String>,
    pub public_url: Option<String>,
    pub delivery_url: Option<String>,
    pub max_file_bytes: Option<u64>,
    pub remote_timeout_secs: Option<u64>,
    pub remote_allowlist: Vec<String>,
    pub trusted_proxies: Vec<nimbus_app::client_ip::IpNet>,
    pub admin_rate_limit: Option<u32>,
    pub http_workers: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub body_idle_timeout_secs: Option<u64>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// `[privacy] deletion_grace`, in seconds.
    pub deletion_grace_secs: Option<i64>,
    /// `[privacy] remember_days`.
    pub remember_days: Option<i64>,
    /// `[privacy] delivery_analytics`.
    pub delivery_analytics: Option<bool>,
    /// `[privacy] retention_*`.
    pub retention: nimbus_core::privacy::Retentions,
    /// `[privacy] geoip_database`.
    pub geoip_database: Option<PathBuf>,
    /// `[privacy] processors_file`, read.
    pub processors: Vec<nimbus_core::processors::Processor>,
    /// `[privacy] inactive_*`: `None` when the cleanup is off.
    pub inactive_accounts: Option<nimbus_app::privacy::inactive::InactivePolicy>,
}

/// Sender of mail to console users when none is configured.
pub const DEFAULT_MAIL_FROM: &str = "Nimbus <nimbus@localhost>";

impl Settings {
    pub fn load(common: &CommonArgs, serve: Option<&ServeArgs>) -> Result<Self, String> {
        let file: FileConfig = match &common.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = common.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("./nimbus-data"));
        let database_url = common
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("catalog.db")));
        let s = serve;
        let header_timeout_secs = s.and_then(|s| s.header_timeout_secs).or(file.header_timeout_secs);
        let body_idle_timeout_secs = s.and_then(|s| s.body_idle_timeout_secs).or(file.body_idle_timeout_secs);
        for (name, secs) in
            [("header_timeout_secs", header_timeout_secs), ("body_idle_timeout_secs", body_idle_timeout_secs)]
        {
            if secs.is_some_and(|n| !(1..=MAX_TIMEOUT_SECS).contains(&n)) {
                return Err(format!("{name} must be between 1 and {MAX_TIMEOUT_SECS}"));
            }
        }
        let deletion_grace_secs = duration(
            "privacy deletion_grace",
            common
                .privacy
                .privacy_deletion_grace
                .as_deref()
                .or(file.privacy.as_ref().and_then(|p| p.deletion_grace.as_deref())),
        )?;
        let processors = match common
            .privacy
            .privacy_processors_file
            .clone()
            .or(file.privacy.as_ref().and_then(|p| p.processors_file.clone()))
        {
            Some(path) => read_processors(&path)?,
            None => Vec::new(),
        };
        let p = file.privacy.as_ref();
        let inactive_accounts = match duration(
            "privacy inactive_delete_after",
            common
                .privacy
                .privacy_inactive_delete_after
                .as_deref()
                .or(p.and_then(|p| p.inactive_delete_after.as_deref())),
        )? {
            None => None,
            Some(secs) => {
                let mut policy = nimbus_app::privacy::inactive::InactivePolicy::new(secs);
                if let Some(r) =
                    common.privacy.privacy_inactive_reminders.clone().or(p.and_then(|p| p.inactive_reminders.clone()))
                {
                    policy.reminder_days = r;
                }
                match common.privacy.privacy_inactive_exclude_roles.clone() {
                    Some(r) => policy.exclude_roles = r,
                    None => {
                        if let Some(names) = p.and_then(|p| p.inactive_exclude_roles.as_deref()) {
                            policy.exclude_roles = roles(names)?;
                        }
                    }
                }
                Some(policy)
            }
        };
        let trusted_proxies = nimbus_app::client_ip::parse_trusted(
            &s.and_then(|s| s.trusted_proxies.clone()).or(file.trusted_proxies).unwrap_or_default().join(","),
        )
        .map_err(|e| format!("trusted_proxies: {e}"))?;
        let remember_days = remember_days(
            common.privacy.privacy_remember_days.or(file.privacy.as_ref().and_then(|p| p.remember_days)),
        )?;
        let delivery_analytics =
            common.privacy.privacy_delivery_analytics.or(file.privacy.as_ref().and_then(|p| p.delivery_analytics));
        let retention = retentions(Some(&common.privacy), file.privacy.as_ref(), remember_days)?;
        let geoip_database = common
            .privacy
            .privacy_geoip_database
            .clone()
            .or(file.privacy.as_ref().and_then(|p| p.geoip_database.clone()));
        Ok(Self {
            retention,
            geoip_database,
            deletion_grace_secs,
            remember_days,
            delivery_analytics,
            processors,
            inactive_accounts,
            listen: s
                .and_then(|s| s.listen)
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database_url,
            blob_url: common.blob_url.clone().or(file.blob_url),
            public_url: s.and_then(|s| s.public_url.clone()).or(file.public_url),
            delivery_url: s.and_then(|s| s.delivery_url.clone()).or(file.delivery_url),
            max_file_bytes: s.and_then(|s| s.max_file_bytes).or(file.max_file_bytes),
            remote_timeout_secs: s.and_then(|s| s.remote_timeout_secs).or(file.remote_timeout_secs),
            remote_allowlist: s.and_then(|s| s.remote_allowlist.clone()).or(file.remote_allowlist).unwrap_or_default(),
            trusted_proxies,
            admin_rate_limit: s.and_then(|s| s.admin_rate_limit).or(file.admin_rate_limit),
            http_workers: s.and_then(|s| s.http_workers).or(file.http_workers).map(usize::from),
            header_timeout_secs,
            body_idle_timeout_secs,
            smtp_url: s.and_then(|s| s.smtp_url.clone()).or(file.smtp_url),
            mail_from: s
                .and_then(|s| s.mail_from.clone())
                .or(file.mail_from)
                .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
        })
    }
}

impl Settings {
    /// The settings a configuration file gives (no flags, no variables): what
    /// `nimbus config check` validates.
    pub fn from_file(path: Option<&Path>) -> Result<Self, String> {
        let common = CommonArgs {
            data_dir: None,
            database_url: None,
            blob_url: None,
            config: path.map(Path::to_path_buf),
            privacy: PrivacyArgs::default(),
        };
        let serve = ServeArgs {
            listen: None,
            public_url: None,
            delivery_url: None,
            max_file_bytes: None,
            remote_timeout_secs: None,
            remote_allowlist: None,
            trusted_proxies: None,
            admin_rate_limit: None,
            http_workers: None,
            header_timeout_secs: None,
            body_idle_timeout_secs: None,
            smtp_url: None,
            mail_from: None,
        };
        Self::load(&common, Some(&serve))
    }
}

/// Parses a configuration file's text: unknown keys and invalid values are named with their
/// line (the TOML parser's message). Returns each option and whether the file sets it.
pub fn check_text(text: &str) -> Result<Vec<(&'static str, bool)>, String> {
    let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
    // Every field, so that a new option cannot be left out of the example.
    let FileConfig {
        listen,
        data_dir,
        database_url,
        blob_url,
        public_url,
        delivery_url,
        max_file_bytes,
        remote_timeout_secs,
        remote_allowlist,
        trusted_proxies,
        admin_rate_limit,
        http_workers,
        header_timeout_secs,
        body_idle_timeout_secs,
        smtp_url,
        mail_from,
        privacy,
    } = file;
    let privacy = privacy.unwrap_or_default();
    remember_days(privacy.remember_days)?;
    retentions(None, Some(&privacy), privacy.remember_days)?;
    let PrivacyFile {
        deletion_grace,
        processors_file,
        inactive_delete_after,
        inactive_reminders,
        inactive_exclude_roles,
        remember_days: remember,
        delivery_analytics,
        retention_sessions,
        retention_events,
        retention_jobs,
        retention_exports,
        geoip_database,
    } = privacy;
    duration("privacy deletion_grace", deletion_grace.as_deref())?;
    duration("privacy inactive_delete_after", inactive_delete_after.as_deref())?;
    if let Some(names) = &inactive_exclude_roles {
        roles(names)?;
    }
    if let Some(u) = &smtp_url {
        if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
            return Err("smtp_url must be an smtp:// or smtps:// URL".to_owned());
        }
    }
    if let Some(u) = &blob_url {
        if !(u.starts_with("file:///") || u.starts_with("s3://")) {
            return Err(format!("blob_url must be file:///DIR or s3://BUCKET[/PREFIX], not {u:?}"));
        }
    }
    for (name, secs) in
        [("header_timeout_secs", header_timeout_secs), ("body_idle_timeout_secs", body_idle_timeout_secs)]
    {
        if secs.is_some_and(|n| !(1..=MAX_TIMEOUT_SECS).contains(&n)) {
            return Err(format!("{name} must be between 1 and {MAX_TIMEOUT_SECS}"));
        }
    }
    if http_workers == Some(0) {
        return Err("http_workers must be at least 1".to_owned());
    }
    for (name, url) in [("public_url", &public_url), ("delivery_url", &delivery_url)] {
        if let Some(u) = url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!("{name} must be an http:// or https:// URL, not {u:?}"));
            }
        }
    }
    Ok(vec![
        ("listen", listen.is_some()),
        ("data_dir", data_dir.is_some()),
        ("database_url", database_url.is_some()),
        ("blob_url", blob_url.is_some()),
        ("public_url", public_url.is_some()),
        ("delivery_url", delivery_url.is_some()),
        ("max_file_bytes", max_file_bytes.is_some()),
        ("remote_timeout_secs", remote_timeout_secs.is_some()),
        ("remote_allowlist", remote_allowlist.is_some()),
        ("trusted_proxies", trusted_proxies.is_some()),
        ("admin_rate_limit", admin_rate_limit.is_some()),
        ("http_workers", http_workers.is_some()),
        ("header_timeout_secs", header_timeout_secs.is_some()),
        ("body_idle_timeout_secs", body_idle_timeout_secs.is_some()),
        ("smtp_url", smtp_url.is_some()),
        ("mail_from", mail_from.is_some()),
        ("privacy.deletion_grace", deletion_grace.is_some()),
        ("privacy.processors_file", processors_file.is_some()),
        ("privacy.inactive_delete_after", inactive_delete_after.is_some()),
        ("privacy.inactive_reminders", inactive_reminders.is_some()),
        ("privacy.inactive_exclude_roles", inactive_exclude_roles.is_some()),
        ("privacy.remember_days", remember.is_some()),
        ("privacy.delivery_analytics", delivery_analytics.is_some()),
        ("privacy.retention_sessions", retention_sessions.is_some()),
        ("privacy.retention_events", retention_events.is_some()),
        ("privacy.retention_jobs", retention_jobs.is_some()),
        ("privacy.retention_exports", retention_exports.is_some()),
        ("privacy.geoip_database", geoip_database.is_some()),
    ])
}

/// `nimbus config check FILE`.
pub fn check_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    check_text(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Settings::from_file(Some(path)).map(|_| ())
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Logs to stderr; `NIMBUS_LOG` (or `RUST_LOG`) sets the filter, `info` by default.
pub fn init_tracing() {
    let filter =
        std::env::var("NIMBUS_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_periods_are_set_by_flag_or_file_and_checked() {
        use nimbus_core::privacy::Retentions;
        let file = |text: &str| -> PrivacyFile { toml::from_str(text).unwrap() };
        let r = retentions(None, None, None).unwrap();
        assert_eq!(r, Retentions::default());
        let f = file("retention_jobs = \"2d\"\nretention_exports = \"12h\"\nretention_sessions = \"60d\"");
        let r = retentions(None, Some(&f), None).unwrap();
        assert_eq!((r.jobs_secs, r.exports_secs, r.sessions_secs), (2 * 86_400, 12 * 3600, 60 * 86_400));
        assert_eq!(r.events_secs, Retentions::default().events_secs);
        // A flag wins over the file.
        let flags = PrivacyArgs { privacy_retention_jobs: Some("3d".into()), ..Default::default() };
        assert_eq!(retentions(Some(&flags), Some(&f), None).unwrap().jobs_secs, 3 * 86_400);
        let err = retentions(None, Some(&file("retention_events = \"10m\"")), None).unwrap_err();
        assert!(err.contains("retention_events must be at least 1h"), "{err}");
        let err = retentions(None, Some(&file("retention_jobs = \"soon\"")), None).unwrap_err();
        assert!(err.contains("retention_jobs must be a number and a unit"), "{err}");
        // Sessions are kept at least as long as Remember me keeps one.
        let err = retentions(None, Some(&file("retention_sessions = \"10d\"")), None).unwrap_err();
        assert!(err.contains("at least the Remember me period (30 days)"), "{err}");
        assert!(retentions(None, Some(&file("retention_sessions = \"10d\"")), Some(7)).is_ok());
        assert!(check_text("[privacy]\nretention_sessions = \"2h\"").is_err());
        assert!(check_text("[privacy]\nretention_exports = \"2h\"").is_ok());
    }

    #[test]
    fn processors_files_are_read_strictly() {
        let dir = std::env::temp_dir().join(format!("nimbus-processors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "[[processor]]\nname = \"Mailing house\"\npurpose = \"direct_marketing\"\ndata = [\"e-mail address\"]\nlocation = \"US\"\n",
        )
        .unwrap();
        let p = read_processors(&good).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(nimbus_core::processors::direct_marketing(&p).len(), 1);
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[[processor]]\nname = \"X\"\npurpose = \"selling\"\ndata = []\n").unwrap();
        assert!(read_processors(&bad).unwrap_err().contains("selling"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
