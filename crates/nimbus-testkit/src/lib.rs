//! Test support for Nimbus: an in-process [`TestApp`] (router called without a socket) on a
//! real SQLite file or PostgreSQL database, a settable [`FakeClock`], signed multipart
//! requests, scratch directories and databases.
//!
//! Used by tests only; depends on every layer.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support: a failed setup should fail the test loudly")]

pub mod browser;
pub mod mail;
pub mod mmdb;
pub mod multipart;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use nimbus_app::ports::{Clock, RandomIds};
use nimbus_app::{App, AppConfig};
use nimbus_blob::ObjectBlobStore;
use nimbus_db::SqlCatalog;
use serde_json::Value;
use tower::ServiceExt as _;

pub use multipart::Multipart;

/// A clock tests move by hand.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    pub fn new(now: i64) -> Self {
        Self(AtomicI64::new(now))
    }
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(label: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("nimbus-{label}-{}-{:016x}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// PostgreSQL server for tests: `NIMBUS_TEST_POSTGRES` or the local default.
/// A write by the system in environment `env` at `now` (catalog conformance tests).
pub fn wctx(env: i64, now: i64) -> nimbus_app::events::WriteCtx {
    nimbus_app::events::WriteCtx::new(&nimbus_app::events::Caller::system(env), now)
}

pub fn postgres_admin_url() -> String {
    std::env::var("NIMBUS_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Creates a fresh PostgreSQL database and returns its URL; `None` if no server answers
/// (tests then skip PostgreSQL unless `NIMBUS_REQUIRE_POSTGRES=1`, which CI sets).
pub async fn scratch_postgres() -> Option<String> {
    use sqlx::Executor as _;
    sqlx::any::install_default_drivers();
    let admin = postgres_admin_url();
    let conn = sqlx::AnyPool::connect(&admin).await;
    let pool = match conn {
        Ok(p) => p,
        Err(e) => {
            assert!(
                std::env::var("NIMBUS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PostgreSQL required but unreachable at {admin}: {e}"
            );
            eprintln!("skipping PostgreSQL: {e}");
            return None;
        }
    };
    let name = format!("nimbus_t_{:016x}", rand::random::<u64>());
    pool.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// Test credentials of the default environment.
pub const CLOUD: &str = "demo";
pub const KEY: &str = "123456789012345";
pub const SECRET: &str = "abcd";

/// Where [`TestApp`] keeps its catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The application behind its router, on a real catalog and local blob store.
pub struct TestApp {
    pub app: App,
    pub router: Router,
    pub clock: Arc<FakeClock>,
    pub catalog: SqlCatalog,
    /// The catalog's database.
    pub url: String,
    pub dir: ScratchDir,
    /// What the app mailed to console users.
    pub mail: Arc<mail::CapturingMailer>,
}

/// A response, body collected.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// `error.message` of a Cloudinary-shaped error.
    pub fn error(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", String::from_utf8_lossy(&self.body)))
            .to_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Start time of every test clock.
pub const T0: i64 = 1_700_000_000;

impl TestApp {
    /// A fresh app on SQLite with the `demo` environment.
    pub async fn new() -> Self {
        Self::on(Db::Sqlite, |_| {}).await.unwrap()
    }

    /// A fresh app on `db` (None if PostgreSQL is unavailable), configured by `tweak`.
    pub async fn on(db: Db, tweak: impl FnOnce(&mut AppConfig)) -> Option<Self> {
        Self::on_store(db, None, tweak).await
    }

    /// As [`TestApp::on`], with `blobs` as the blob store (default: a local directory).
    pub async fn on_store(
        db: Db,
        blobs: Option<Arc<dyn nimbus_app::BlobStore>>,
        tweak: impl FnOnce(&mut AppConfig),
    ) -> Option<Self> {
        let dir = ScratchDir::new("app");
        let url = match db {
            Db::Sqlite => format!("sqlite://{}", dir.path().join("catalog.db").display()),
            Db::Postgres => scratch_postgres().await?,
        };
        let catalog = SqlCatalog::connect(&url).await.unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        let mut config = AppConfig::new("http://nimbus.test", staging);
        config.cpu_threads = 2;
        tweak(&mut config);
        let blobs = blobs.unwrap_or_else(|| Arc::new(ObjectBlobStore::local(&dir.path().join("blobs")).unwrap()));
        let clock = Arc::new(FakeClock::new(T0));
        let mail = Arc::new(mail::CapturingMailer::default());
        let app = App::new(config, Arc::new(catalog.clone()), blobs, clock.clone(), Arc::new(RandomIds))
            .unwrap()
            .with_notifications(Arc::new(nimbus_api::notifications::CloudinaryNotifications))
            .with_mailer(mail.clone());
        app.create_environment(CLOUD, Some((KEY.into(), SECRET.into()))).await.unwrap();
        let router = nimbus_api::router_with(app.clone(), nimbus_console::router(app.clone()));
        Some(Self { app, router, clock, catalog, url, dir, mail })
    }

    /// Another node of the same deployment: the same catalog database, blob store and clock,
    /// its own staging directory, caches and worker. On PostgreSQL it has its own connections
    /// as a node would; SQLite's one file has one catalog per process.
    pub async fn second_node(&self) -> TestApp {
        let catalog = match self.catalog.dialect() {
            nimbus_db::Dialect::Postgres => SqlCatalog::connect(&self.url).await.unwrap(),
            nimbus_db::Dialect::Sqlite => self.catalog.clone(),
        };
        let dir = ScratchDir::new("node");
        let mut config = (*self.app.config).clone();
        config.staging_dir = dir.path().join("staging");
        std::fs::create_dir_all(&config.staging_dir).unwrap();
        let app = App::new(
            config,
            Arc::new(catalog.clone()),
            self.app.blobs.clone(),
            self.clock.clone(),
            Arc::new(RandomIds),
        )
        .unwrap()
        .with_notifications(Arc::new(nimbus_api::notifications::CloudinaryNotifications))
        .with_mailer(self.mail.clone());
        let router = nimbus_api::router_with(app.clone(), nimbus_console::router(app.clone()));
        TestApp { app, router, clock: self.clock.clone(), catalog, url: self.url.clone(), dir, mail: self.mail.clone() }
    }

    /// A job worker of this app (tests run it a round at a time).
    pub fn worker(&self, owner: &str) -> nimbus_app::jobs::worker::Worker {
        nimbus_app::jobs::worker::Worker::new(self.app.clone(), owner, 4)
    }

    pub async fn call(&self, req: Request<Body>) -> TestResponse {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        TestResponse { status, headers, body }
    }

    /// An Admin API call with the default credentials; `body` is sent as JSON.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        self.admin_as(KEY, SECRET, method, &format!("/v1_1/{CLOUD}/{path}"), body).await
    }

    pub async fn admin_as(
        &self,
        key: &str,
        secret: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> TestResponse {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"));
        let b = Request::builder().method(method).uri(uri).header("authorization", format!("Basic {auth}"));
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.call(req.unwrap()).await
    }

    /// A signed Upload API call (`action` on `resource_type`) with the default credentials.
    pub async fn upload_api(
        &self,
        resource_type: &str,
        action: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> TestResponse {
        let mp = Multipart::signed(fields, self.clock.now(), KEY, SECRET).file(file);
        self.post_multipart(&format!("/v1_1/{CLOUD}/{resource_type}/{action}"), mp).await
    }

    pub async fn post_multipart(&self, uri: &str, mp: Multipart) -> TestResponse {
        let (ct, body) = mp.finish();
        self.call(Request::post(uri).header("content-type", ct).body(Body::from(body)).unwrap()).await
    }

    pub async fn get(&self, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut b = Request::get(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.call(b.body(Body::empty()).unwrap()).await
    }
}

/// A small valid PNG of `w`×`h` (header and IHDR are what the probe reads).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    v
}

/// A real, decodable photo-like JPEG of `w`×`h`: a colour gradient, red in the left half and
/// blue in the right half.
pub fn photo_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let shade = (y * 255 / h.max(1)) as u8;
        if x < w / 2 { image::Rgb([220, shade / 2, 30]) } else { image::Rgb([30, shade / 2, 220]) }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Width, height and format of encoded image bytes.
pub fn image_info(bytes: &[u8]) -> (u32, u32, &'static str) {
    let size = imagesize::blob_size(bytes).unwrap_or_else(|e| panic!("not an image ({e}): {} bytes", bytes.len()));
    let format = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "jpg",
        Ok(image::ImageFormat::Png) => "png",
        Ok(image::ImageFormat::WebP) => "webp",
        Ok(image::ImageFormat::Gif) => "gif",
        Ok(image::ImageFormat::Avif) => "avif",
        _ => "other",
    };
    (size.width as u32, size.height as u32, format)
}

/// A minimal baseline JPEG header (SOI, SOF0 with the size, EOI).
pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    v
}
