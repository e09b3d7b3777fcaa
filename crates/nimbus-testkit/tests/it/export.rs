//! The archive of a person's own data (privacy F1): asked in the console, made by a job,
//! holding as many rows of each registered table as the catalog has about the person, and
//! nothing of anyone else nor any secret; one per 7 days (429 with `retry_after`), deleted
//! after 7 days.

use std::io::Read as _;

use axum::http::StatusCode;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, Multipart, TestApp, photo_jpeg};

const PASSWORD: &str = "correct horse battery";
const ERIN: &str = "erin.exporter@example.org";
const OTTO: &str = "otto.other@example.org";

fn body(r: &nimbus_testkit::TestResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

async fn signed_in_with_upload(t: &TestApp, email: &str, role: Role, file: &str) -> Browser {
    let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(role)).await.unwrap();
    let mut b = Browser::new();
    assert_eq!(b.sign_in(t, email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let form = b.get(t, &format!("/console/{CLOUD}/upload")).await;
    let mp = Multipart::new(&[("csrf", &hidden(&form, "csrf"))]).also_file(file, &photo_jpeg(16, 12));
    let r = b.post_multipart(t, &format!("/console/{CLOUD}/upload"), mp, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    b
}

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).expect("every file is UTF-8");
            (f.name().unwrap().to_string(), text)
        })
        .collect()
}

async fn export_holds_the_person_and_nobody_else(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let mut erin = signed_in_with_upload(&t, ERIN, Role::Owner, "erins.jpg").await;
    let _otto = signed_in_with_upload(&t, OTTO, Role::Editor, "ottos.jpg").await;
    let erin_id = t.app.user_by_email(ERIN).await.unwrap().id;
    let session_token = erin.cookies["nimbus_session"].clone();
    let session_hash = nimbus_app::accounts::token_hash(&session_token);

    let csrf = hidden(&erin.get(&t, "/console/account/exports").await, "csrf");
    erin.header("accept", "application/json");
    let r = erin.post(&t, "/console/account/export", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", body(&r));
    assert_eq!(r.json()["status"], "pending");
    let again = erin.post(&t, "/console/account/export", &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.json()["error"]["retry_after"], 7 * 86_400);
    assert_eq!(again.header("retry-after"), Some("604800"));

    while t.worker("w").run_once().await.unwrap() > 0 {}
    assert!(t.mail.last_link_to(ERIN).is_some_and(|l| l == "/console/account/exports"), "a mail says it is ready");
    let list = erin.get(&t, "/console/account/exports").await.json();
    let ready = &list["exports"][0];
    assert_eq!(ready["status"], "ready", "{list}");
    let url = ready["url"].as_str().unwrap().to_owned();
    let zip = erin.get(&t, &url).await;
    assert_eq!((zip.status, zip.header("content-type")), (StatusCode::OK, Some("application/zip")));

    // Nobody else gets it.
    let mut otto = Browser::new();
    otto.sign_in(&t, OTTO, PASSWORD).await;
    assert_eq!(otto.get(&t, &url).await.status, StatusCode::NOT_FOUND);

    let files = unzip(&zip.body);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, nimbus_app::privacy::archive::FILES);
    let file = |n: &str| files.iter().find(|(f, _)| f == n).unwrap().1.clone();
    let manifest: serde_json::Value = serde_json::from_str(&file("manifest.json")).unwrap();
    let account: serde_json::Value = serde_json::from_str(&file("account.json")).unwrap();
    assert_eq!(account["email"], ERIN);
    assert_eq!(account["roles"], serde_json::json!([{"cloud": CLOUD, "role": "owner"}]));
    // Each registered table's count is the catalog's count of rows about Erin, and each CSV
    // has a header row and one line per row.
    let counts = t.app.catalog.subject_rows(erin_id).await.unwrap();
    for (table, n) in &counts {
        assert_eq!(manifest["row_counts"][table], *n, "{table}: {manifest}");
    }
    let lines = |n: &str| file(n).lines().count() as i64 - 1;
    let count = |table: &str| counts.iter().find(|(t, _)| t == table).map_or(0, |(_, n)| *n);
    assert_eq!(lines("sessions.csv"), count("sessions"));
    assert_eq!(lines("uploads.csv"), count("asset_versions"));
    assert_eq!(lines("events.csv"), count("events"));
    assert_eq!(lines("exports.csv"), count("data_exports"));
    assert!(file("uploads.csv").starts_with("environment,resource_type,public_id,"));
    assert!(file("uploads.csv").contains("erins"), "{}", file("uploads.csv"));
    assert!(!file("uploads.csv").contains("ottos"), "Otto's upload is not Erin's");
    // Secrets appear by their first characters only; other people not at all.
    let session_line = file("sessions.csv").lines().nth(1).unwrap().to_owned();
    assert!(session_line.starts_with(&format!("{}...,", &session_hash[..5])), "{session_line}");
    let all: String = files.iter().map(|(_, t)| t.as_str()).collect();
    assert!(!all.contains(&session_hash) && !all.contains(&session_token), "no session secret");
    assert!(!all.to_lowercase().contains("otto"), "nothing of Otto");
    assert!(!all.contains("$argon2"), "no password hash");
    assert!(manifest["not_included"]["users.password_hash"].is_string());

    // After 7 days and a second, the archive and its row are gone, and a new one may be asked.
    let key = nimbus_app::privacy::export::archive_key(erin_id, ready["id"].as_i64().unwrap());
    assert!(t.app.blobs.head(&key).await.unwrap().is_some());
    t.clock.advance(7 * 86_400 + 1);
    assert_eq!(t.app.prune_history().await.unwrap().exports, 1);
    assert!(t.app.blobs.head(&key).await.unwrap().is_none(), "the archive is deleted");
    let mut erin = Browser::new();
    erin.sign_in(&t, ERIN, PASSWORD).await;
    assert_eq!(erin.get(&t, &url).await.status, StatusCode::NOT_FOUND);
    let csrf = hidden(&erin.get(&t, "/console/account").await, "csrf");
    erin.header("accept", "application/json");
    assert_eq!(erin.get(&t, "/console/account/exports").await.json()["exports"], serde_json::json!([]));
    assert_eq!(erin.post(&t, "/console/account/export", &[("csrf", &csrf)]).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn export_holds_the_person_and_nobody_else_on_sqlite() {
    export_holds_the_person_and_nobody_else(Db::Sqlite).await;
}

#[tokio::test]
async fn export_holds_the_person_and_nobody_else_on_postgres() {
    export_holds_the_person_and_nobody_else(Db::Postgres).await;
}
