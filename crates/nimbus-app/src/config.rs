//! Settings the services read. The binary fills them from flags, a TOML file and
//! `NIMBUS_*` variables; tests build them directly.

use std::path::PathBuf;

use nimbus_core::signature::Algorithm;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Base of the `url`/`secure_url` fields, e.g. `http://127.0.0.1:8080` (no trailing `/`).
    pub public_base_url: String,
    /// Base of delivery URLs when delivery has a host name of its own (`--delivery-url`), so
    /// that delivered files never share an origin with the API and the console. `None`:
    /// delivery is served under [`public_base_url`](Self::public_base_url).
    pub delivery_base_url: Option<String>,
    /// Where uploads are staged before they reach the blob store.
    pub staging_dir: PathBuf,
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// Remote `file=https://...` fetches: timeout and hosts/IPs allowed despite being private.
    pub remote_timeout_secs: u64,
    pub remote_allowlist: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (see [`crate::client_ip`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Algorithm of the signatures the server emits (response `signature`).
    pub signature_algorithm: Algorithm,
    /// Threads for blocking work, and how many jobs may wait for one.
    pub cpu_threads: usize,
    pub cpu_queue: usize,
    /// Admin API calls allowed per hour per environment (sent as rate-limit headers).
    pub admin_rate_limit: u32,
    /// How long delivery may reuse a looked-up asset or environment (writes on this node,
    /// and on PostgreSQL those of other nodes, clear it at once; other writes show within this
    /// time), and how many assets.
    pub delivery_cache_ttl_ms: u64,
    pub delivery_cache_entries: u64,
    /// How long sessions are kept after their last use, relayed events in the outbox,
    /// finished jobs (done, dead, cancelled) in the job list, and data archives
    /// (`[privacy] retention_*`).
    pub retention: nimbus_core::privacy::Retentions,
    /// How long an account whose deletion was asked waits, blocked, before it is erased
    /// (the person can cancel until then), in seconds.
    pub deletion_grace_secs: i64,
    /// How long "Remember me" keeps a console session, in days (at most 90).
    pub remember_days: i64,
    /// Cookieless delivery analytics (see [`crate::analytics`]); on by default.
    pub delivery_analytics: bool,
    /// The operator's geo database (`[privacy] geoip_database`), read: delivery views are
    /// then also counted by country.
    pub geo: Option<std::sync::Arc<crate::geo::Geo>>,
    /// Where this installation keeps its data, in words for the privacy page: the catalog,
    /// the blob store and the mail relay (host names and regions only, never credentials).
    pub data_locations: Vec<(String, String)>,
    /// Outside parties that receive personal data: Nimbus's own flows from the settings and
    /// those the operator declares.
    pub processors: Vec<nimbus_core::processors::Processor>,
    /// Inactive-account cleanup; `None` (the default): off.
    pub inactive_accounts: Option<crate::privacy::inactive::InactivePolicy>,
}

impl AppConfig {
    /// Base of the URLs of delivered files.
    pub fn delivery_base(&self) -> &str {
        self.delivery_base_url.as_deref().unwrap_or(&self.public_base_url)
    }

    pub fn new(public_base_url: impl Into<String>, staging_dir: PathBuf) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            public_base_url: public_base_url.into().trim_end_matches('/').to_owned(),
            delivery_base_url: None,
            staging_dir,
            max_file_bytes: 100 * 1024 * 1024,
            remote_timeout_secs: 20,
            remote_allowlist: Vec::new(),
            trusted_proxies: Vec::new(),
            signature_algorithm: Algorithm::Sha1,
            cpu_threads: cores,
            cpu_queue: 256,
            admin_rate_limit: 5000,
            delivery_cache_ttl_ms: 1000,
            delivery_cache_entries: 100_000,
            retention: nimbus_core::privacy::Retentions::default(),
            deletion_grace_secs: i64::from(nimbus_core::privacy::DELETION_GRACE_DAYS) * 86_400,
            remember_days: crate::accounts::DEFAULT_REMEMBER_DAYS,
            delivery_analytics: true,
            geo: None,
            processors: Vec::new(),
            inactive_accounts: None,
            data_locations: vec![
                ("Catalog".to_owned(), "a SQLite database file on this server".to_owned()),
                ("Files".to_owned(), "a directory on this server".to_owned()),
                (
                    "Mail".to_owned(),
                    "none sent: messages go to the server's log, which names people by number only".to_owned(),
                ),
            ],
        }
    }
}
