//! Closing an account (privacy F4, F5): disabling it with the password and enabling it again
//! by the mailed link; deleting it, blocked through a grace period that a mailed link cancels,
//! then erased by the purge job so that a sweep of the catalog (and, on SQLite, the bytes of
//! its files) finds nothing of the person, while their uploads stay under a pseudonym; and a
//! catalog restored from before the erasure erased again by the ledger.

use axum::http::{Method, Request, StatusCode};
use nimbus_app::ports::{AccountRepo as _, PrivacyRepo as _};
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, Multipart, TestApp, photo_jpeg};

const PASSWORD: &str = "correct horse battery";
const ERIN: &str = "erin.erasable@example.org";
const OTTO: &str = "otto.other@example.org";
const GRACE: i64 = 3 * 86_400;

fn body(r: &nimbus_testkit::TestResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

async fn person(t: &TestApp, email: &str, role: Role) -> i64 {
    let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(role)).await.unwrap();
    u.id
}

/// Signs in and uploads one image through the console, so that the person's actions are on
/// record (the version's uploader, the event's actor).
async fn signed_in_with_upload(t: &TestApp, email: &str, public_id: &str) -> Browser {
    let mut b = Browser::new();
    let r = b.sign_in(t, email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let form = b.get(t, &format!("/console/{CLOUD}/upload")).await;
    let csrf = hidden(&form, "csrf");
    let mp = Multipart::new(&[("csrf", &csrf), ("folder", ""), ("tags", ""), ("preset", "")])
        .also_file(&format!("{public_id}.jpg"), &photo_jpeg(16, 12));
    let r = b.post_multipart(t, &format!("/console/{CLOUD}/upload"), mp, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    b
}

async fn account_csrf(t: &TestApp, b: &mut Browser) -> String {
    let page = b.get(t, "/console/account").await;
    assert_eq!(page.status, StatusCode::OK);
    hidden(&page, "csrf")
}

async fn sweep(t: &TestApp, email: &str) -> Vec<String> {
    let found = t.app.privacy_sweep(&[email.to_owned()], &[]).await.unwrap();
    found.into_iter().map(|f| format!("{} ({})", f.place, f.count)).collect()
}

/// Who uploaded the asset shown as `name` (the console names an upload after its file).
async fn uploader_of(t: &TestApp, name: &str) -> String {
    let pk: i64 = sqlx::query_scalar("SELECT id FROM assets WHERE display_name = $1")
        .bind(name)
        .fetch_one(&any_pool(t).await)
        .await
        .unwrap();
    sqlx::query_scalar::<_, String>("SELECT actor FROM asset_versions WHERE asset_pk = $1")
        .bind(pk)
        .fetch_one(&any_pool(t).await)
        .await
        .unwrap()
}

async fn any_pool(t: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&t.url).await.unwrap()
}

async fn deletion_waits_out_its_grace_then_erases(db: Db) {
    let Some(t) = TestApp::on(db, |c| c.deletion_grace_secs = GRACE).await else { return };
    let erin = person(&t, ERIN, Role::Owner).await;
    let otto = person(&t, OTTO, Role::Editor).await;
    let mut b = signed_in_with_upload(&t, ERIN, "erins-photo").await;
    let mut o = signed_in_with_upload(&t, OTTO, "ottos-photo").await;
    assert_eq!(uploader_of(&t, "erins-photo").await, format!("user:{erin}"));

    // The privacy centre (its JSON variant) counts what is held and names who can see it.
    o.header("accept", "application/json");
    let center = o.get(&t, "/console/account/privacy").await.json();
    let rows = |c: &serde_json::Value, cat: &str| -> i64 {
        c["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["category"] == cat)
            .map_or(0, |h| h["rows"].as_i64().unwrap())
    };
    assert_eq!(rows(&center, "account"), 2, "the account row and one role: {center}");
    assert_eq!((rows(&center, "session"), rows(&center, "audit")), (1, 1), "{center}");
    assert!(rows(&center, "event") >= 1, "{center}");
    assert_eq!(center["who_can_see"], serde_json::json!([{"email": ERIN, "role": "owner", "cloud": CLOUD}]));
    assert_eq!(center["deletion_grace_seconds"], GRACE);
    assert!(center["locations"].as_array().unwrap().iter().any(|l| l["what"] == "Catalog"));

    // The password is asked: none, or a wrong one, changes nothing.
    let csrf = account_csrf(&t, &mut b).await;
    for wrong in ["", "not my password"] {
        let r = b.post(&t, "/console/account/delete", &[("csrf", &csrf), ("password", wrong)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", body(&r));
        assert!(body(&r).contains("The password is not right"));
    }
    let r = b.post(&t, "/console/account/delete", &[("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token, no deletion");
    assert!(t.app.catalog.user_by_id(erin).await.unwrap().unwrap().deletion_due_at.is_none());

    // Asked (the JSON variant of DELETE /console/account): blocked at once.
    let session = b.cookies["nimbus_session"].clone();
    let req = Request::builder()
        .method(Method::DELETE)
        .uri("/console/account")
        .header("cookie", format!("nimbus_session={session}"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("csrf={csrf}&password=correct+horse+battery")))
        .unwrap();
    let r = t.call(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.json()["status"], "pending_deletion");
    assert_eq!(r.json()["deletion_due_at"], nimbus_core::timefmt::iso8601(nimbus_testkit::T0 + GRACE));
    let r = b.get(&t, "/console/account").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the old session is over");
    let r = Browser::new().sign_in(&t, ERIN, PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", body(&r));
    assert!(body(&r).contains("This account is being deleted"), "{}", body(&r));
    let taken = t.app.create_user(ERIN, Some(PASSWORD.to_owned())).await;
    assert!(matches!(taken, Err(nimbus_app::AppError::AlreadyExists(_))), "the address stays reserved");

    // The mailed link cancels: the account works again, with everything in it.
    let link = t.mail.last_link_to(ERIN).expect("a cancel link");
    assert!(link.starts_with("/console/account/cancel-deletion/"), "{link}");
    let page = Browser::new().get(&t, &link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(t.app.catalog.user_by_id(erin).await.unwrap().unwrap().deletion_due_at.is_some(), "a GET does nothing");
    let r = Browser::new().post(&t, &link, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(Browser::new().post(&t, &link, &[]).await.status, StatusCode::GONE, "the link works once");
    let mut b = Browser::new();
    assert_eq!(b.sign_in(&t, ERIN, PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(uploader_of(&t, "erins-photo").await, format!("user:{erin}"));

    // Asked again; the purge job waits for the grace period.
    let csrf = account_csrf(&t, &mut b).await;
    let r = b.post(&t, "/console/account/delete", &[("csrf", &csrf), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let worker = t.worker("w1");
    t.clock.advance(GRACE - 1);
    while worker.run_once().await.unwrap() > 0 {}
    assert!(t.app.catalog.user_by_id(erin).await.unwrap().is_some(), "not before the grace period ends");
    t.clock.advance(2);
    while worker.run_once().await.unwrap() > 0 {}
    assert!(t.app.catalog.user_by_id(erin).await.unwrap().is_none(), "erased");

    // Nothing of the person is left; their upload stays, under a stable pseudonym.
    assert_eq!(sweep(&t, ERIN).await, Vec::<String>::new());
    let pseudonym = uploader_of(&t, "erins-photo").await;
    assert!(pseudonym.starts_with("deleted-user-"), "{pseudonym}");
    let r = t.admin(Method::GET, "resources/image", None).await;
    assert_eq!(r.json()["resources"].as_array().unwrap().len(), 2, "assets belong to the environment");
    assert_eq!(uploader_of(&t, "ottos-photo").await, format!("user:{otto}"), "others are untouched");
    assert!(!sweep(&t, OTTO).await.is_empty(), "the sweep does find a person who is there");
    assert_eq!(t.app.erasure_ledger().await.unwrap().len(), 1);
    assert_eq!(t.app.catalog.ledger().await.unwrap().len(), 1);
    assert_eq!(t.app.purge_due_accounts().await.unwrap(), 0, "idempotent");

    // The address can be used again, and the ledger leaves the new account alone.
    let again = t.app.create_user(ERIN, Some(PASSWORD.to_owned())).await.unwrap();
    assert_eq!(t.app.replay_erasure_ledger().await.unwrap(), 0);
    assert!(t.app.catalog.user_by_id(again.id).await.unwrap().is_some());
}

#[tokio::test]
async fn deletion_waits_out_its_grace_then_erases_on_sqlite() {
    deletion_waits_out_its_grace_then_erases(Db::Sqlite).await;
}

#[tokio::test]
async fn deletion_waits_out_its_grace_then_erases_on_postgres() {
    deletion_waits_out_its_grace_then_erases(Db::Postgres).await;
}

/// The bytes of the SQLite files hold no copy of an erased address; a backup taken before the
/// erasure, restored, is erased again at start by the ledger kept in the blob store.
#[tokio::test]
async fn erasure_leaves_the_files_and_survives_a_restore() {
    let t = TestApp::on(Db::Sqlite, |c| c.deletion_grace_secs = 0).await.unwrap();
    let erin = person(&t, ERIN, Role::Owner).await;
    let mut b = signed_in_with_upload(&t, ERIN, "erins-photo").await;
    // Activity that rewrites the person's row several times.
    for _ in 0..3 {
        b = signed_in_with_upload(&t, ERIN, "erins-photo").await;
    }
    let db = t.dir.path().join("catalog.db");
    let backup = t.dir.path().join("backup.db");
    let pool = any_pool(&t).await;
    sqlx::query(&format!("VACUUM INTO '{}'", backup.display())).execute(&pool).await.unwrap();
    pool.close().await;

    let csrf = account_csrf(&t, &mut b).await;
    let r = b.post(&t, "/console/account/delete", &[("csrf", &csrf), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(t.app.purge_due_accounts().await.unwrap(), 1, "a grace period of 0s: due at once");
    assert!(t.app.catalog.user_by_id(erin).await.unwrap().is_none());
    for file in [db.clone(), db.with_extension("db-wal")] {
        let Ok(bytes) = std::fs::read(&file) else { continue };
        let hits = bytes.windows(ERIN.len()).filter(|w| w.eq_ignore_ascii_case(ERIN.as_bytes())).count();
        assert_eq!(hits, 0, "{} holds the erased address {hits} time(s)", file.display());
    }

    // The backup comes back: a new node on it, with the same blob store, erases Erin at start.
    let url = format!("sqlite://{}", backup.display());
    let restored = nimbus_db::SqlCatalog::connect(&url).await.unwrap();
    assert!(restored.user_by_email(ERIN).await.unwrap().is_some(), "the backup has Erin");
    let app = nimbus_app::App::new(
        (*t.app.config).clone(),
        std::sync::Arc::new(restored.clone()),
        t.app.blobs.clone(),
        t.clock.clone(),
        std::sync::Arc::new(nimbus_app::ports::RandomIds),
    )
    .unwrap();
    assert_eq!(app.replay_erasure_ledger().await.unwrap(), 1);
    assert!(restored.user_by_email(ERIN).await.unwrap().is_none());
    assert_eq!(app.privacy_sweep(&[ERIN.to_owned()], &[]).await.unwrap(), Vec::new());
    assert_eq!(restored.ledger().await.unwrap().len(), 1, "the restored ledger table has the entry again");
    assert_eq!(app.replay_erasure_ledger().await.unwrap(), 0, "and the replay is done once");
}

/// The files of the PostgreSQL database hold no copy of an erased address: the heap and
/// index files of every table (live or dead row versions) and the statistics. Read straight
/// from the server's data directory, which the test's superuser connection names; skipped
/// when PostgreSQL is not on this machine. The write-ahead log is not read: PostgreSQL keeps
/// recycled segments until they are overwritten, which no database user can force.
#[tokio::test]
async fn erasure_leaves_the_postgres_files() {
    use sqlx::Row as _;
    let Some(t) = TestApp::on(Db::Postgres, |c| c.deletion_grace_secs = 0).await else { return };
    let erin = person(&t, ERIN, Role::Owner).await;
    let mut b = signed_in_with_upload(&t, ERIN, "erins-photo").await;
    for _ in 0..3 {
        b = signed_in_with_upload(&t, ERIN, "erins-photo").await;
    }
    // Statistics made while she is there.
    let pool = any_pool(&t).await;
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    let row = sqlx::query(
        "SELECT current_setting('data_directory') AS dir, (SELECT oid FROM pg_database WHERE datname = current_database())::BIGINT AS oid",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let (dir, oid): (String, i64) = (row.try_get("dir").unwrap(), row.try_get("oid").unwrap());
    let base = std::path::Path::new(&dir).join("base").join(oid.to_string());
    if !base.is_dir() {
        eprintln!("the PostgreSQL data directory {} is not on this machine: not scanned", base.display());
        return;
    }
    // The files that hold the address (after the server wrote its pages out), and how many
    // were read.
    let scan = || async {
        sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
        let mut found = Vec::new();
        let mut scanned = 0;
        for e in std::fs::read_dir(&base).unwrap().flatten() {
            let Ok(bytes) = std::fs::read(e.path()) else { continue };
            scanned += 1;
            if bytes.windows(ERIN.len()).any(|w| w.eq_ignore_ascii_case(ERIN.as_bytes())) {
                found.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        (found, scanned)
    };
    let (before, _) = scan().await;
    assert!(!before.is_empty(), "the scan finds the address while she is there");
    let csrf = account_csrf(&t, &mut b).await;
    let r = b.post(&t, "/console/account/delete", &[("csrf", &csrf), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(t.app.purge_due_accounts().await.unwrap(), 1);
    assert!(t.app.catalog.user_by_id(erin).await.unwrap().is_none());
    let (found, scanned) = scan().await;
    // The relations the files are of, for the message.
    let mut named = Vec::new();
    for f in &found {
        let node: i64 = f.split(['_', '.']).next().unwrap_or_default().parse().unwrap_or(-1);
        let name: Option<String> =
            sqlx::query_scalar("SELECT relname::TEXT FROM pg_class WHERE pg_relation_filenode(oid)::BIGINT = $1")
                .bind(node)
                .fetch_optional(&pool)
                .await
                .unwrap();
        named.push(format!("{f} ({})", name.as_deref().unwrap_or("no relation: a file left behind")));
    }
    pool.close().await;
    assert!(scanned > 50, "the database's files were read ({scanned})");
    assert!(found.is_empty(), "files of the database hold the erased address: {named:?}");
}

/// Disabling one's own account: the password asked, sessions ended, sign-in refused, and
/// nothing new recorded, until the mailed link enables it again.
async fn disabling_is_undone_by_the_mailed_link(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let id = person(&t, ERIN, Role::Editor).await;
    let mut b = Browser::new();
    b.sign_in(&t, ERIN, PASSWORD).await;
    let csrf = account_csrf(&t, &mut b).await;
    let r = b.post(&t, "/console/account/disable", &[("csrf", &csrf), ("password", "wrong password")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b.post(&t, "/console/account/disable", &[("csrf", &csrf), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(b.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER, "signed out");

    let pool = any_pool(&t).await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = sessions().await;
    assert_eq!(before, 0);
    let r = Browser::new().sign_in(&t, ERIN, PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sessions().await, before, "no session is written for a disabled person");

    let link = t.mail.last_link_to(ERIN).expect("an enable link");
    assert!(link.starts_with("/console/account/enable/"), "{link}");
    assert_eq!(Browser::new().post(&t, &link, &[]).await.status, StatusCode::OK);
    assert_eq!(Browser::new().sign_in(&t, ERIN, PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn disabling_is_undone_by_the_mailed_link_on_sqlite() {
    disabling_is_undone_by_the_mailed_link(Db::Sqlite).await;
}

#[tokio::test]
async fn disabling_is_undone_by_the_mailed_link_on_postgres() {
    disabling_is_undone_by_the_mailed_link(Db::Postgres).await;
}
