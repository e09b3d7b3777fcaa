//! Nimbus's application services and the ports their adapters implement.
//!
//! Services: environments and keys ([`envs`]), request authentication ([`auth`]), upload
//! ([`upload`]), asset administration ([`assets`]), folders, upload presets, delivery of
//! originals ([`deliver`]) and the orphan-blob sweeper. Ports ([`ports`]): the catalog
//! repositories, the blob store, the clock and the id generator.
//!
//! This crate decides *what* happens; it must not depend on axum, sqlx or object_store.
//! Blocking work (file writes, hashing, header probes) goes through [`cpu`], the one place
//! that sends work off the async threads.

pub mod access;
pub mod accounts;
pub mod analytics;
pub mod assets;
pub mod auth;
pub mod bulk;
pub mod bulk_change;
pub mod chunked;
pub mod client_ip;
pub mod config;
pub mod cpu;
pub mod deliver;
pub mod delivery_cache;
pub mod derive;
pub mod envs;
pub mod error;
pub mod events;
pub mod folders;
pub mod geo;
pub mod history;
pub mod honoured;
pub mod jobs;
pub mod limits;
pub mod metadata;
pub mod params;
pub mod peer_writes;
pub mod ports;
pub mod presets;
pub mod privacy;
pub mod publish;
pub mod remote;
pub mod search;
pub mod search_url;
pub mod staging;
pub mod sweeper;
pub mod transformations;
pub mod triggers;
pub mod upload;
pub mod upload_options;
pub mod upload_policy;
pub mod usage;
pub mod webhooks;

use std::sync::Arc;

pub use config::AppConfig;
pub use error::AppError;
pub use ports::{BlobStore, Catalog, Clock, IdGen};

/// Everything a request handler needs: configuration and ports. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub config: Arc<AppConfig>,
    pub catalog: Arc<dyn Catalog>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    pub cpu: cpu::CpuPool,
    pub remote: remote::RemoteFetcher,
    pub delivery_cache: delivery_cache::DeliveryCache,
    pub schema_cache: metadata::SchemaCache,
    pub in_flight: derive::InFlight,
    /// Woken after a local write, so that the job worker relays its events at once.
    pub wake: Arc<tokio::sync::Notify>,
    /// This node's name in claims shared with other nodes.
    pub node: String,
    /// Derivatives this node rendered since it started.
    pub renders: Arc<std::sync::atomic::AtomicU64>,
    /// Renders notification bodies; without it, events are relayed without webhooks.
    pub notifications: Option<Arc<dyn webhooks::Notifications>>,
    /// Mail to console users; the log by default.
    pub mailer: Arc<dyn accounts::mail::Mailer>,
    /// Console sign-in attempts per address on this node.
    pub sign_in_attempts: accounts::attempts::AttemptLimiter,
    /// Sign-in and reset requests per client IP address (see [`client_ip`]).
    pub client_attempts: accounts::attempts::AttemptLimiter,
    /// Deliveries and renders counted on this node since the last flush.
    pub usage: usage::UsageMeter,
    /// Delivery views and visitors counted on this node (see [`analytics`]).
    pub analytics: analytics::AnalyticsMeter,
    /// The installation's secret that keys what an erased person leaves behind, read once.
    pub pepper: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl App {
    pub fn new(
        config: AppConfig,
        catalog: Arc<dyn Catalog>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
    ) -> Result<Self, AppError> {
        let cpu = cpu::CpuPool::new(config.cpu_threads, config.cpu_queue);
        let node = ids.token(12);
        let remote = remote::RemoteFetcher::new(&config)?;
        let delivery_cache = delivery_cache::DeliveryCache::new(
            std::time::Duration::from_millis(config.delivery_cache_ttl_ms),
            config.delivery_cache_entries,
        );
        Ok(Self {
            config: Arc::new(config),
            catalog,
            blobs,
            clock,
            ids,
            cpu,
            remote,
            delivery_cache,
            schema_cache: metadata::SchemaCache::default(),
            in_flight: derive::InFlight::default(),
            wake: Arc::new(tokio::sync::Notify::new()),
            node,
            renders: Arc::default(),
            notifications: None,
            mailer: Arc::new(accounts::mail::LogMailer),
            sign_in_attempts: accounts::attempts::AttemptLimiter::new(accounts::attempts::MAX_ATTEMPTS),
            client_attempts: accounts::attempts::AttemptLimiter::new(accounts::attempts::MAX_CLIENT_ATTEMPTS),
            usage: usage::UsageMeter::default(),
            analytics: analytics::AnalyticsMeter::default(),
            pepper: Arc::default(),
        })
    }

    /// The same application, announcing events with `n`'s bodies.
    pub fn with_notifications(mut self, n: Arc<dyn webhooks::Notifications>) -> Self {
        self.notifications = Some(n);
        self
    }

    /// The same application, sending mail to console users through `m`.
    pub fn with_mailer(mut self, m: Arc<dyn accounts::mail::Mailer>) -> Self {
        self.mailer = m;
        self
    }

    /// After a write: local caches forget, and the job worker looks at the outbox.
    pub fn changed(&self) {
        self.delivery_cache.clear();
        self.wake.notify_one();
    }

    /// `created_at`-style now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
