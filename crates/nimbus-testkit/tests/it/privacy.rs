//! The personal-data registry against the real schemas: every column that looks personal
//! (by name, or marked `-- pii` in its migration) is registered or known not to be, and
//! every registered column exists, on SQLite and on PostgreSQL.

use std::collections::BTreeSet;

use nimbus_core::privacy::{REGISTRY, accounted_for, looks_personal};
use nimbus_db::SqlCatalog;
use nimbus_testkit::{ScratchDir, scratch_postgres};
use sqlx::Row as _;

/// Columns marked `-- pii` in a migration: the first word of each marked line.
fn marked_in_migrations() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../nimbus-db/migrations");
    let mut out = BTreeSet::new();
    for dialect in ["sqlite", "postgres"] {
        for entry in std::fs::read_dir(dir.join(dialect)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines().filter(|l| l.contains("-- pii")) {
                if let Some(col) = line.split_whitespace().next() {
                    out.insert(col.trim_matches(|c: char| !c.is_alphanumeric() && c != '_').to_owned());
                }
            }
        }
    }
    out
}

fn check(columns: &BTreeSet<(String, String)>) {
    let marked = marked_in_migrations();
    let unregistered: Vec<String> = columns
        .iter()
        .filter(|(t, c)| (looks_personal(c) || marked.contains(c)) && !accounted_for(t, c))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    assert!(
        unregistered.is_empty(),
        "columns that look personal are missing from nimbus_core::privacy::REGISTRY (or NOT_PERSONAL): {unregistered:?}"
    );
    let stale: Vec<String> = REGISTRY
        .iter()
        .filter(|p| !columns.contains(&(p.table.to_owned(), p.column.to_owned())))
        .map(|p| format!("{}.{}", p.table, p.column))
        .collect();
    assert!(stale.is_empty(), "registered columns that no longer exist: {stale:?}");
}

#[tokio::test]
async fn every_personal_column_is_registered_on_sqlite() {
    let dir = ScratchDir::new("registry");
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    SqlCatalog::connect(&url).await.unwrap().close().await;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut columns = BTreeSet::new();
    for t in tables {
        for row in sqlx::query(&format!("PRAGMA table_info({t})")).fetch_all(&mut conn).await.unwrap() {
            columns.insert((t.clone(), row.get::<String, _>("name")));
        }
    }
    check(&columns);
}

#[tokio::test]
async fn every_personal_column_is_registered_on_postgres() {
    let Some(url) = scratch_postgres().await else { return };
    SqlCatalog::connect(&url).await.unwrap().close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let columns = rows.iter().map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"))).collect();
    check(&columns);
}

/// Everything the application logs, at every level, while `f` runs on this thread.
async fn logged<F: std::future::Future<Output = ()>>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    f.await;
    drop(guard);
    let bytes = sink.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// A person's address and the client's IP never reach the log: people are `u_<id>` there,
/// through a sign-in, an upload, a sign-out and an erasure with its mail.
#[tokio::test]
async fn logs_name_people_by_opaque_id_only() {
    use axum::http::{Method, StatusCode};
    use nimbus_core::accounts::Role;
    use nimbus_testkit::browser::{Browser, hidden};
    let t = nimbus_testkit::TestApp::new().await;
    let email = "Private.Person@example.org";
    let ip = "203.0.113.77";
    let log = logged(async {
        let user = t.app.create_user(email, Some("a long enough password".into())).await.unwrap();
        t.app.set_user_role(user.id, nimbus_testkit::CLOUD, Some(Role::Editor)).await.unwrap();
        let mut b = Browser::new();
        b.header("x-forwarded-for", ip);
        b.header("x-real-ip", ip);
        assert_eq!(b.sign_in(&t, email, "wrong password here").await.status, StatusCode::UNAUTHORIZED);
        let r = b.sign_in(&t, email, "a long enough password").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = b.get(&t, &format!("/console/{}/upload", nimbus_testkit::CLOUD)).await;
        let mp = nimbus_testkit::Multipart::new(&[("csrf", &hidden(&page, "csrf"))])
            .also_file("portrait.png", &nimbus_testkit::png(4, 4));
        let up = b.post_multipart(&t, &format!("/console/{}/upload", nimbus_testkit::CLOUD), mp, true).await;
        assert_eq!(up.status, StatusCode::OK);
        let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");
        b.post(&t, "/console/logout", &[("csrf", &csrf)]).await;
        let r = t.admin(Method::GET, "resources/image", None).await;
        assert_eq!(r.status, StatusCode::OK);
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "test marker");
        // An erasure, its mail (to the log mailer) included.
        let logging = t.app.clone().with_mailer(std::sync::Arc::new(nimbus_app::accounts::mail::LogMailer));
        b.sign_in(&t, email, "a long enough password").await;
        let who = logging.session(&b.cookies["nimbus_session"]).await.unwrap().unwrap();
        logging.request_account_deletion(&who, "a long enough password".into()).await.unwrap();
        t.clock.advance(t.app.config.deletion_grace_secs);
        assert_eq!(logging.purge_due_accounts().await.unwrap(), 1);
    })
    .await;
    assert!(log.contains("console sign-in") && log.contains("test marker"), "the log was captured: {log}");
    assert!(log.contains("account erased") && log.contains("cancel-deletion/"), "the erasure was logged: {log}");
    let lower = log.to_lowercase();
    assert!(!lower.contains(&email.to_lowercase()), "the address is logged: {log}");
    assert!(!lower.contains("private.person"), "part of the address is logged: {log}");
    assert!(!log.contains(ip), "the client IP is logged: {log}");
    assert!(log.contains("user=u_"), "people are named u_<id>: {log}");
}

/// `/privacy` is written from the registry and the settings; `/cookies` lists every cookie a
/// crawl of the console meets (and the session cookie is a browser-session one); the GPC
/// file is served; delivery sets no cookie.
#[tokio::test]
async fn privacy_pages_say_what_the_code_does() {
    use axum::http::StatusCode;
    use nimbus_core::accounts::Role;
    use nimbus_core::privacy::REGISTRY;
    use nimbus_testkit::browser::{Browser, hidden};
    let t = nimbus_testkit::TestApp::on(nimbus_testkit::Db::Sqlite, |c| {
        c.deletion_grace_secs = 2 * 86_400;
        c.retention.sessions_secs = 45 * 86_400;
        c.retention.exports_secs = 36 * 3600;
        c.data_locations = vec![("Files".into(), "the S3 bucket media at s3.example.net, region eu-central-1".into())];
    })
    .await
    .unwrap();
    let r = t.get("/privacy", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&r.body).into_owned();
    for c in REGISTRY {
        assert!(html.contains(c.purpose), "{}.{} is not on the privacy page", c.table, c.column);
    }
    assert!(html.contains("erased after 2 days"), "the configured grace period");
    // The configured retention periods, not the defaults, in the rows of their tables.
    let kept = |table: &str| {
        let c = REGISTRY.iter().find(|c| c.table == table).unwrap();
        let row = &html[html.find(c.purpose).unwrap()..];
        row[..row.find("</tr>").unwrap()].to_owned()
    };
    assert!(kept("sessions").contains("45 days"), "the sessions' retention: {}", kept("sessions"));
    assert!(kept("data_exports").contains("36 hours"), "the archives' retention: {}", kept("data_exports"));
    assert!(kept("jobs").contains("14 days"), "the jobs' default retention: {}", kept("jobs"));
    assert!(html.contains("region eu-central-1"), "where the files are");

    let gpc = t.get("/.well-known/gpc.json", &[]).await;
    assert_eq!((gpc.status, gpc.header("content-type")), (StatusCode::OK, Some("application/json")));
    assert_eq!(gpc.json()["gpc"], true);
    assert!(gpc.json()["lastUpdate"].as_str().is_some_and(|d| d.len() == 10));

    // A crawl: every cookie set is on the list, and the list is on the page.
    let listed: BTreeSet<&str> = nimbus_console::COOKIES.iter().map(|c| c.name).collect();
    let cookies_page = String::from_utf8_lossy(&t.get("/cookies", &[]).await.body).into_owned();
    for name in &listed {
        assert!(cookies_page.contains(name), "{name} is not on /cookies");
    }
    let user = t.app.create_user("crawler@example.org", Some("a long enough password".into())).await.unwrap();
    t.app.set_user_role(user.id, nimbus_testkit::CLOUD, Some(Role::Owner)).await.unwrap();
    let mut b = Browser::new();
    let mut set = Vec::new();
    let mut seen = |r: &nimbus_testkit::TestResponse| {
        for v in r.headers.get_all("set-cookie") {
            set.push(v.to_str().unwrap().to_owned());
        }
        let html = String::from_utf8_lossy(&r.body);
        assert!(html.contains("href=\"/privacy\"") || r.status.is_redirection(), "{}: {html}", r.status);
    };
    seen(&b.get(&t, "/console/login").await);
    let signed = b.sign_in(&t, "crawler@example.org", "a long enough password").await;
    seen(&signed);
    for page in [
        "/console/account",
        "/console/environments",
        "/console/demo/library",
        "/console/demo/upload",
        "/console/demo/people",
    ] {
        seen(&b.get(&t, page).await);
    }
    seen(&b.get(&t, "/console/reset").await);
    let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");
    seen(&b.post(&t, "/console/logout", &[("csrf", &csrf)]).await);
    assert!(!set.is_empty());
    for c in &set {
        let name = c.split('=').next().unwrap();
        assert!(listed.contains(name), "{name} is set but not on /cookies: {c}");
        let value = c.split(';').next().unwrap().split_once('=').unwrap().1;
        assert!(!value.contains("crawler") && !value.contains("example"), "personal data in a cookie: {c}");
        assert!(value.is_empty() || value.len() >= 40, "a random token (or cleared), not an id: {c}");
    }
    let session = set.iter().find(|c| c.starts_with("nimbus_session=") && !c.contains("Max-Age=0")).unwrap();
    assert!(!session.contains("Max-Age") && !session.contains("Expires"), "a browser-session cookie: {session}");

    // Delivery sets no cookie.
    let up = t.upload_api("image", "upload", &[("public_id", "c")], Some(("c.png", &nimbus_testkit::png(2, 2)))).await;
    let url = up.json()["secure_url"].as_str().unwrap().replace("http://nimbus.test", "");
    let d = t.get(&url, &[("cookie", "nimbus_session=x")]).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.headers.get("set-cookie").is_none());
}

/// `fl_keep_attribution` (privacy F19): a JPEG derivative keeps the maker and the rights
/// (EXIF Artist and Copyright, IPTC By-line and Copyright Notice) and nothing else: no GPS
/// position, no caption.
#[tokio::test]
async fn attribution_is_kept_on_request_and_nothing_else() {
    use axum::http::StatusCode;
    let t = nimbus_testkit::TestApp::new().await;
    // TIFF, little-endian: IFD0 with Artist, Copyright and a GPS pointer; a GPS IFD after.
    let (artist, copyright) = (b"Ada Photographer\0", b"(c) 2026 Ada\0");
    let ifd0_len = 2 + 3 * 12 + 4;
    let (artist_at, copyright_at) = (8 + ifd0_len, 8 + ifd0_len + artist.len());
    let gps_at = copyright_at + copyright.len() + copyright.len() % 2;
    let mut tiff: Vec<u8> = b"II".to_vec();
    tiff.extend(42u16.to_le_bytes());
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(3u16.to_le_bytes());
    for (tag, kind, count, value) in
        [(0x013Bu16, 2u16, artist.len(), artist_at), (0x8298, 2, copyright.len(), copyright_at), (0x8825, 4, 1, gps_at)]
    {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(u32::try_from(count).unwrap().to_le_bytes());
        tiff.extend(u32::try_from(value).unwrap().to_le_bytes());
    }
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(artist);
    tiff.extend(copyright);
    tiff.resize(gps_at, 0);
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x0001u16.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(2u32.to_le_bytes());
    tiff.extend(*b"N\0\0\0");
    tiff.extend(0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(&tiff);
    let mut iptc = Vec::new();
    for (dataset, value) in [(120u8, &b"Harbour party"[..]), (80, b"Ada Photographer"), (116, b"(c) 2026 Ada")] {
        iptc.extend([0x1C, 2, dataset]);
        iptc.extend(u16::try_from(value.len()).unwrap().to_be_bytes());
        iptc.extend(value);
    }
    let mut app13 = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    app13.extend(u32::try_from(iptc.len()).unwrap().to_be_bytes());
    app13.extend(&iptc);
    let plain = nimbus_testkit::photo_jpeg(64, 48);
    let mut jpeg = plain[..2].to_vec();
    for (marker, payload) in [(0xE1u8, &app1), (0xED, &app13)] {
        jpeg.extend([0xFF, marker]);
        jpeg.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        jpeg.extend(payload);
    }
    jpeg.extend(&plain[2..]);
    let up = t.upload_api("image", "upload", &[("public_id", "credited")], Some(("c.jpg", &jpeg))).await;
    assert_eq!(up.status, StatusCode::OK, "{}", String::from_utf8_lossy(&up.body));
    let has = |b: &[u8], needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);

    let d = t.get(&format!("/{}/image/upload/fl_keep_attribution,w_32/credited.jpg", nimbus_testkit::CLOUD), &[]).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(nimbus_testkit::image_info(&d.body), (32, 24, "jpg"), "still a JPEG that decodes");
    // An EXIF parser finds the maker and the rights, and no GPS position.
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&d.body)).unwrap();
    let text = |tag| exif.get_field(tag, exif::In::PRIMARY).map(|f| f.display_value().to_string());
    assert_eq!(text(exif::Tag::Artist).as_deref(), Some("\"Ada Photographer\""));
    assert!(text(exif::Tag::Copyright).is_some_and(|c| c.contains("(c) 2026 Ada")), "{:?}", text(exif::Tag::Copyright));
    assert!(exif.get_field(exif::Tag::GPSLatitudeRef, exif::In::PRIMARY).is_none(), "the GPS position is gone");
    assert!(exif.fields().all(|f| f.tag != exif::Tag::GPSInfoIFDPointer));
    // The IPTC block keeps By-line and Copyright Notice, not the caption.
    assert!(has(&d.body, b"\x1c\x02\x50\x00\x10Ada Photographer") && has(&d.body, b"\x1c\x02\x74\x00\x0c(c) 2026 Ada"));
    assert!(!has(&d.body, b"Harbour party"), "the caption is gone");

    // Without the flag, none of it.
    let d = t.get(&format!("/{}/image/upload/w_32/credited.jpg", nimbus_testkit::CLOUD), &[]).await;
    assert!(!has(&d.body, b"Ada Photographer") && !has(&d.body, b"Exif\0\0"));
    // With both flags: the whole IPTC block (caption included) and the EXIF attribution.
    let both = format!("/{}/image/upload/fl_keep_attribution.keep_iptc,w_32/credited.jpg", nimbus_testkit::CLOUD);
    let d = t.get(&both, &[]).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(has(&d.body, b"Harbour party") && has(&d.body, b"Exif\0\0"));
    assert_eq!(d.body.windows(14).filter(|w| *w == b"Photoshop 3.0\0").count(), 1, "one IPTC block");
}

/// A JPEG carrying an EXIF block with a GPS position and an IPTC caption (privacy F19):
/// derivatives are encoded afresh and carry no embedded metadata, except the IPTC block with
/// `fl_keep_iptc`; the original is delivered as uploaded.
#[tokio::test]
async fn derivatives_carry_no_embedded_metadata() {
    use axum::http::StatusCode;
    let t = nimbus_testkit::TestApp::new().await;
    // TIFF, little-endian: IFD0 with a GPS pointer, and a GPS IFD with GPSLatitudeRef "N".
    let mut tiff: Vec<u8> = b"II".to_vec();
    tiff.extend(42u16.to_le_bytes());
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x8825u16.to_le_bytes());
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(26u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x0001u16.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(2u32.to_le_bytes());
    tiff.extend(*b"N\0\0\0");
    tiff.extend(0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(&tiff);
    let plain = nimbus_testkit::photo_jpeg(64, 48);
    let mut jpeg = plain[..2].to_vec();
    jpeg.extend([0xFF, 0xE1]);
    jpeg.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    jpeg.extend(&app1);
    // And an IPTC block (APP13) with a caption.
    let mut app13 = b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x0c\x1c\x02\x78\0\x07Harbour".to_vec();
    app13.push(0);
    jpeg.extend([0xFF, 0xED]);
    jpeg.extend(u16::try_from(app13.len() + 2).unwrap().to_be_bytes());
    jpeg.extend(&app13);
    jpeg.extend(&plain[2..]);
    let has_exif = |b: &[u8]| b.windows(6).any(|w| w == b"Exif\0\0");
    let has_iptc = |b: &[u8]| b.windows(app13.len()).any(|w| w == app13.as_slice());
    assert!(has_exif(&jpeg) && has_iptc(&jpeg));

    let up = t.upload_api("image", "upload", &[("public_id", "gps")], Some(("gps.jpg", &jpeg))).await;
    assert_eq!(up.status, StatusCode::OK, "{}", String::from_utf8_lossy(&up.body));
    let original = t.get(&format!("/{}/image/upload/gps.jpg", nimbus_testkit::CLOUD), &[]).await;
    assert_eq!(original.body, jpeg, "the original as uploaded");
    for tr in ["w_32", "c_fill,w_20,h_20", "q_50", "f_png"] {
        let ext = if tr == "f_png" { "png" } else { "jpg" };
        let d = t.get(&format!("/{}/image/upload/{tr}/gps.{ext}", nimbus_testkit::CLOUD), &[]).await;
        assert_eq!(d.status, StatusCode::OK, "{tr}");
        assert!(!has_exif(&d.body) && !d.body.windows(4).any(|w| w == b"eXIf"), "{tr}: embedded metadata left");
        assert!(!has_iptc(&d.body), "{tr}: IPTC left without fl_keep_iptc");
    }
    // fl_keep_iptc keeps the IPTC block, and only it.
    let d = t.get(&format!("/{}/image/upload/fl_keep_iptc,w_32/gps.jpg", nimbus_testkit::CLOUD), &[]).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(has_iptc(&d.body) && !has_exif(&d.body), "fl_keep_iptc keeps IPTC, not EXIF");
    assert_eq!(nimbus_testkit::image_info(&d.body).0, 32, "still a JPEG that decodes");
}
