//! `nimbus serve`: wire the adapters, bootstrap the first environment, serve until SIGTERM
//! or SIGINT, letting in-flight requests finish.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use nimbus_app::ports::{RandomIds, SystemClock};
use nimbus_app::{App, AppConfig};
use nimbus_blob::{CachedBlobStore, ObjectBlobStore};
use nimbus_core::cloudinary_url::CloudinaryUrl;
use nimbus_db::SqlCatalog;

use crate::http_front;
use crate::private_files;
use crate::settings::Settings;

/// How often the planner-statistics check runs, how often (in those rounds) the orphan
/// sweeper lists the whole store (a safety net: deletions are jobs), and how old an
/// unreferenced blob must be to go.
const MAINTAIN_EVERY: Duration = Duration::from_secs(600);
const SWEEP_EVERY_ROUNDS: u32 = 36;
const SWEEP_GRACE_SECS: i64 = 3600;
/// Memory for small originals kept hot (blobs are immutable, so never stale), and the
/// largest blob kept there.
const BLOB_CACHE_BYTES: u64 = 128 * 1024 * 1024;
const BLOB_CACHE_MAX_ITEM: u64 = 2 * 1024 * 1024;

/// Opens the catalog (migrating it) and the blob store; returns the application.
pub async fn build_app(s: &Settings) -> Result<(App, SqlCatalog), Box<dyn Error>> {
    private_files::restrict(&s.data_dir).map_err(|e| format!("cannot create {}: {e}", s.data_dir.display()))?;
    let staging = s.data_dir.join("staging");
    std::fs::create_dir_all(&staging)?;
    let catalog = SqlCatalog::connect(&s.database_url).await.map_err(|e| e.to_string())?;
    let blobs = match &s.blob_url {
        Some(url) => ObjectBlobStore::from_url(url),
        None => ObjectBlobStore::local(&s.data_dir.join("blobs")),
    }
    .map_err(|e| format!("blob store: {e}"))?;
    let public = s.public_url.clone().unwrap_or_else(|| format!("http://{}", s.listen));
    let mut config = AppConfig::new(public, staging);
    if let Some(d) = s.delivery_url.as_deref() {
        let (own, api) = (nimbus_api::origins::authority(d), nimbus_api::origins::authority(&config.public_base_url));
        if !(d.starts_with("http://") || d.starts_with("https://")) || own.is_none() || own == api {
            return Err(format!("delivery URL {d}: must be an http(s) URL on a host name other than the API's").into());
        }
        config.delivery_base_url = Some(d.trim_end_matches('/').to_owned());
    }
    if let Some(n) = s.max_file_bytes {
        config.max_file_bytes = n;
    }
    if let Some(n) = s.remote_timeout_secs {
        config.remote_timeout_secs = n;
    }
    if let Some(n) = s.admin_rate_limit {
        config.admin_rate_limit = n;
    }
    config.remote_allowlist.clone_from(&s.remote_allowlist);
    config.trusted_proxies.clone_from(&s.trusted_proxies);
    if let Some(secs) = s.deletion_grace_secs {
        config.deletion_grace_secs = secs;
    }
    if let Some(days) = s.remember_days {
        config.remember_days = days;
    }
    if let Some(on) = s.delivery_analytics {
        config.delivery_analytics = on;
    }
    config.retention = s.retention;
    if let Some(path) = s.geoip_database.clone() {
        let geo = tokio::task::spawn_blocking(move || nimbus_app::geo::Geo::open(&path)).await?;
        config.geo = Some(Arc::new(geo.map_err(|e| format!("geoip_database {e}"))?));
    }
    config.data_locations = data_locations(s);
    config.processors = known_processors(s);
    config.processors.extend(s.processors.iter().cloned());
    config.inactive_accounts.clone_from(&s.inactive_accounts);
    let blobs = CachedBlobStore::new(Arc::new(blobs), BLOB_CACHE_BYTES, BLOB_CACHE_MAX_ITEM);
    let mut app =
        App::new(config, Arc::new(catalog.clone()), Arc::new(blobs), Arc::new(SystemClock), Arc::new(RandomIds))?
            .with_notifications(Arc::new(nimbus_api::notifications::CloudinaryNotifications));
    if let Some(url) = s.smtp_url.as_deref() {
        app = app.with_mailer(Arc::new(nimbus_app::accounts::mail::SmtpMailer::new(url, &s.mail_from)?));
    }

    Ok((app, catalog))
}

/// Where the data lives, for the privacy page: host names and regions, never credentials.
fn data_locations(s: &Settings) -> Vec<(String, String)> {
    // The authority without any user and password before `@`, nor the port.
    let host = |url: &str| {
        let a = nimbus_api::origins::authority(url)?;
        let h = a.rsplit_once('@').map_or(a.as_str(), |(_, h)| h);
        let h = h.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(h, |(h, _)| h);
        (!h.is_empty()).then(|| h.to_owned())
    };
    let catalog = if s.database_url.starts_with("postgres") {
        format!("a PostgreSQL database at {}", host(&s.database_url).unwrap_or_else(|| "a local socket".into()))
    } else {
        "a SQLite database file on this server".to_owned()
    };
    let files = match s.blob_url.as_deref() {
        Some(u) if u.starts_with("s3://") => {
            let endpoint =
                std::env::var("AWS_ENDPOINT").ok().and_then(|e| host(&e)).unwrap_or_else(|| "Amazon S3".into());
            let region = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).ok();
            let bucket = u.trim_start_matches("s3://").split('/').next().unwrap_or_default();
            match region {
                Some(r) => format!("the S3 bucket {bucket} at {endpoint}, region {r}"),
                None => format!("the S3 bucket {bucket} at {endpoint}"),
            }
        }
        _ => "a directory on this server".to_owned(),
    };
    let mail = match s.smtp_url.as_deref().and_then(host) {
        Some(h) => format!("sent through the mail relay {h}"),
        None => "none sent: messages go to the server's log, which names people by number only".to_owned(),
    };
    vec![("Catalog".into(), catalog), ("Files".into(), files), ("Mail".into(), mail)]
}

/// The outside parties Nimbus itself sends personal data to, from the settings.
fn known_processors(s: &Settings) -> Vec<nimbus_core::processors::Processor> {
    use nimbus_core::processors::{Processor, Purpose};
    let mut out = Vec::new();
    if let Some(host) = s.smtp_url.as_deref().and_then(nimbus_api::origins::authority) {
        let host = host.rsplit_once('@').map_or(host.as_str(), |(_, h)| h).to_owned();
        out.push(Processor {
            name: format!("Mail relay {host}"),
            purpose: Purpose::TransactionalMail,
            data: vec!["e-mail address".into(), "the text of the mail".into()],
            location: None,
        });
    }
    if s.blob_url.as_deref().is_some_and(|u| u.starts_with("s3://")) {
        let endpoint = std::env::var("AWS_ENDPOINT").unwrap_or_else(|_| "Amazon S3".into());
        let endpoint = nimbus_api::origins::authority(&endpoint).unwrap_or(endpoint);
        out.push(Processor {
            name: format!("Object storage {endpoint}"),
            purpose: Purpose::Storage,
            data: vec!["uploaded files and data archives".into()],
            location: std::env::var("AWS_REGION").ok(),
        });
    }
    out
}

/// Removes staged files a crash left behind (they belong to no request any more).
fn clear_staging(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "part") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

pub async fn run(mut s: Settings) -> Result<(), Box<dyn Error>> {
    let workers = s.http_workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let sockets = http_front::bind(s.listen, workers).map_err(|e| format!("cannot listen on {}: {e}", s.listen))?;
    s.listen = sockets.addr;
    let (app, catalog) = build_app(&s).await?;
    clear_staging(&app.config.staging_dir);

    let from_env = match std::env::var("CLOUDINARY_URL") {
        Ok(u) if !u.trim().is_empty() => Some(CloudinaryUrl::parse(&u).map_err(|e| format!("CLOUDINARY_URL: {e}"))?),
        _ => None,
    };
    if let Some(created) = app.bootstrap(from_env.as_ref()).await? {
        println!("Created product environment '{}'.", created.cloud);
        if from_env.is_none() {
            let text = credentials_text(&created, &app.config.public_base_url, app.config.delivery_base());
            // On a terminal the operator reads them; elsewhere (a service's journal, a log
            // file) a secret must not land: they go to a file only the server's user reads.
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                print!("{text}");
            } else {
                let file = s.data_dir.join(CREDENTIALS_FILE);
                std::fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                println!(
                    "Its CLOUDINARY_URL and SDK configuration are in {} (readable by this user only).",
                    file.display()
                );
            }
        }
    }

    // A catalog restored from a backup may hold people erased since: they are erased again
    // before anyone is served.
    app.replay_erasure_ledger().await?;
    app.seal_legacy_totp_secrets().await?;

    // Nobody can sign in to the console yet: a one-time link creates the first owner. It is a
    // secret, kept off logs and journals like the credentials above.
    if let Some(link) = app.setup_link_if_needed().await? {
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            println!("Create the console's first owner (one-time link, valid for 24 hours): {link}");
        } else {
            let file = s.data_dir.join(SETUP_LINK_FILE);
            std::fs::write(&file, format!("{link}\n")).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            println!("The one-time link that creates the console's first owner is in {}.", file.display());
        }
    }

    let sweeper_app = app.clone();
    let sweeper_catalog = catalog.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(MAINTAIN_EVERY);
        for round in 0u32.. {
            tick.tick().await;
            if round % SWEEP_EVERY_ROUNDS == 0 {
                if let Err(e) = sweeper_app.sweep_orphans(SWEEP_GRACE_SECS).await {
                    tracing::warn!(error = %e, "orphan sweep failed");
                }
            }
            if let Err(e) = sweeper_app.prune_history().await {
                tracing::warn!(error = %e, "pruning finished events and jobs failed");
            }
            if let Err(e) = sweeper_app.inactive_accounts_round().await {
                tracing::warn!(error = %e, "the inactive-account round failed");
            }
            if let Err(e) = sweeper_app.send_legal_notices().await {
                tracing::warn!(error = %e, "sending notices of legal requests failed");
            }
            // The purge jobs erase accounts when due; this catches any whose job is gone.
            if let Err(e) = sweeper_app.purge_due_accounts().await {
                tracing::warn!(error = %e, "erasing accounts whose deletion is due failed");
            }
            // Planner statistics follow the catalog's growth.
            if let Err(e) = sweeper_catalog.optimize().await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
            }
        }
    });

    // Relays the outbox and runs jobs (webhooks, eager derivatives) until shutdown.
    let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
    let owner = format!("{}:{}:{}", hostname(), std::process::id(), app.ids.token(6));
    let worker = nimbus_app::jobs::worker::Worker::new(app.clone(), owner, JOB_CONCURRENCY);
    let jobs = tokio::spawn(worker.run(async {
        let _ = jobs_stopped.await;
    }));

    // Other nodes' writes make this node's caches forget at once (PostgreSQL only).
    let (stop_following, following_stopped) = tokio::sync::oneshot::channel::<()>();
    let follow_app = app.clone();
    let following = tokio::spawn(async move {
        follow_app
            .follow_peer_writes(async {
                let _ = following_stopped.await;
            })
            .await;
    });

    // SQLite URLs hold no secret; PostgreSQL ones may.
    let catalog_place = if s.database_url.starts_with("sqlite:") { s.database_url.as_str() } else { "PostgreSQL" };
    println!("Data in {} (catalog: {catalog_place})", s.data_dir.display());
    println!("Nimbus listening on http://{}", s.listen);
    tracing::info!(listen = %s.listen, workers, data_dir = %s.data_dir.display(), "serving");
    let defaults = http_front::Timeouts::default();
    let timeouts = http_front::Timeouts {
        headers: s.header_timeout_secs.map_or(defaults.headers, Duration::from_secs),
        body_idle: s.body_idle_timeout_secs.map_or(defaults.body_idle, Duration::from_secs),
    };
    // Usage counts go to the catalog every minute, and once more at shutdown.
    let meter_app = app.clone();
    let meter = tokio::spawn(async move {
        let mut tick = tokio::time::interval(USAGE_FLUSH_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = meter_app.flush_usage().await {
                tracing::warn!(error = %e, "writing usage counts failed");
            }
        }
    });
    let mut front = http_front::start(
        sockets,
        &nimbus_api::router_with(app.clone(), nimbus_console::router(app.clone())),
        timeouts,
    )?;
    tokio::select! {
        () = shutdown_signal() => {}
        i = front.failed() => tracing::error!(worker = i, "an HTTP worker stopped; shutting down"),
    }
    let served = front.shutdown().await;
    sweeper.abort();
    meter.abort();
    let _ = stop_following.send(());
    let _ = following.await;
    if let Err(e) = app.flush_usage().await {
        tracing::warn!(error = %e, "writing usage counts failed");
    }
    // A job cut short here keeps its lease until it expires; then any node takes it again.
    let _ = stop_jobs.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), jobs).await;
    catalog.close().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Where the first start writes a generated environment's credentials when its output is not
/// a terminal (in the data dir: `0700`, the file `0600`).
const CREDENTIALS_FILE: &str = "first-environment.txt";
const SETUP_LINK_FILE: &str = "console-setup-link.txt";

/// The credentials of a generated environment, as shown once (never logged).
pub fn credentials_text(u: &CloudinaryUrl, public: &str, delivery: &str) -> String {
    let host = delivery.split("://").nth(1).unwrap_or(delivery);
    format!(
        "CLOUDINARY_URL={}\nPython SDK: cloudinary.config(cloud_name=\"{}\", api_key=\"{}\", api_secret=\"{}\", upload_prefix=\"{public}\", secure=False, cname=\"{host}\")\n",
        u.render(),
        u.cloud,
        u.api_key,
        u.api_secret
    )
}

/// How often a node adds its usage counts to the catalog.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Jobs one node runs at once.
const JOB_CONCURRENCY: u32 = 4;

/// This machine's name, for the owner of job leases.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "node".into())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
