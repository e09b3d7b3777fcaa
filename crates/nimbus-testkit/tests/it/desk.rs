//! The request desk (privacy F8, F19): anyone asks about their data at `/privacy/requests`,
//! proves the address by a mailed link, and the operator answers within 30 days (once
//! extendable to 90 with a reason); removal requests for content reach the environment's
//! admins; nothing is exported before the address is verified.

use axum::http::StatusCode;
use nimbus_app::AppError;
use nimbus_app::ports::EnvRepo as _;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::Browser;
use nimbus_testkit::{CLOUD, Db, T0, TestApp, photo_jpeg};

const DAY: i64 = 86_400;

/// The verification path mailed to `to` last.
fn verify_path(t: &TestApp, to: &str) -> String {
    let sent = t.mail.sent.lock().unwrap();
    let m = sent.iter().rev().find(|m| m.to == to).expect("a mail");
    let at = m.body.find("/privacy/requests/verify/").expect("a link");
    m.body[at..].split_whitespace().next().unwrap().to_owned()
}

async fn requests_are_verified_due_and_answered(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let owner = t.app.create_user("owner@example.org", Some("a long enough password".into())).await.unwrap();
    t.app.set_user_role(owner.id, CLOUD, Some(Role::Owner)).await.unwrap();
    let ana = t.app.create_user("ana@example.org", Some("a long enough password".into())).await.unwrap();
    t.app.set_user_role(ana.id, CLOUD, Some(Role::Viewer)).await.unwrap();
    let mut b = Browser::new();
    b.header("accept", "application/json");

    // The form, then a request: due 30 days after receipt.
    let form = b.get(&t, "/privacy/requests").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&form.body).contains("<label for=\"email\""));
    let r = b
        .post(&t, "/privacy/requests", &[("kind", "access"), ("email", "Ana@Example.org"), ("details", "all of it")])
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_i64().unwrap();
    let (req, log) = t.app.subject_request(id).await.unwrap();
    assert_eq!((req.email.as_str(), req.received_at, req.due_at), ("ana@example.org", T0, T0 + 30 * DAY));
    assert_eq!(log.len(), 1);

    // Nothing is exported before the address is verified (403).
    let err = t.app.export_for_request(id, "operator").await.unwrap_err();
    assert!(matches!(err, AppError::RequestNotVerified(i) if i == id), "{err}");
    // The mailed link: a GET changes nothing, the button's POST verifies, once.
    let path = verify_path(&t, "ana@example.org");
    assert_eq!(b.get(&t, &path).await.status, StatusCode::OK);
    assert!(t.app.subject_request(id).await.unwrap().0.verified_at.is_none(), "a GET verifies nothing");
    let v = b.post(&t, &path, &[]).await;
    assert_eq!((v.status, v.json()["status"].as_str()), (StatusCode::OK, Some("verified")));
    assert_eq!(b.post(&t, &path, &[]).await.status, StatusCode::BAD_REQUEST, "used up");

    // What is held about her: her account's rows; client addresses cannot be searched.
    let found = t.app.find_subject(id).await.unwrap();
    let (user, rows) = found.account.clone().unwrap();
    assert_eq!(user, ana.id);
    assert!(rows.iter().any(|(table, n)| table == "users" && *n == 1), "{rows:?}");
    assert!(found.cautions.iter().any(|c| c.contains("IP addresses cannot be searched")));
    // Verified: her archive is made, and its link goes to her address.
    let export = t.app.export_for_request(id, "operator").await.unwrap().expect("an account");
    t.worker("w").run_once().await.unwrap();
    assert!(
        t.mail
            .sent
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.to == "ana@example.org" && m.body.contains("/console/account/exports")),
        "archive {export} announced"
    );

    // Extending needs a reason, moves the due date to 90 days after receipt, and only once.
    assert!(matches!(t.app.extend_subject_request(id, " ", "operator").await, Err(AppError::MissingParam("reason"))));
    let r = t.app.extend_subject_request(id, "the archive needs the backups", "operator").await.unwrap();
    assert_eq!(r.due_at, T0 + 90 * DAY);
    assert!(matches!(t.app.extend_subject_request(id, "again", "operator").await, Err(AppError::Conflict(_))));
    let r = t.app.close_subject_request(id, false, "archive sent", "operator").await.unwrap();
    assert_eq!(r.status, "done");
    let (_, log) = t.app.subject_request(id).await.unwrap();
    let notes: Vec<&str> = log.iter().map(|l| l.note.as_str()).collect();
    assert_eq!(notes.len(), 5, "{notes:?}");
    assert!(
        notes[1] == "e-mail address verified"
            && notes[3].starts_with("extended to")
            && notes[4] == "done: archive sent"
    );

    // A removal request names the content; the environment's owner is told.
    let up = t.upload_api("image", "upload", &[("public_id", "team/ana")], Some(("a.jpg", &photo_jpeg(8, 8)))).await;
    let url = up.json()["secure_url"].as_str().unwrap().to_owned();
    let r = b
        .post(
            &t,
            "/privacy/removal-request",
            &[("asset_url", &url), ("email", "ana@example.org"), ("description", "that is me")],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&r.body));
    let removal = r.json()["id"].as_i64().unwrap();
    let (req, _) = t.app.subject_request(removal).await.unwrap();
    assert_eq!(
        (req.kind.as_str(), req.cloud.as_deref(), req.public_id.as_deref()),
        ("removal", Some(CLOUD), Some("team/ana"))
    );
    assert!(t.mail.sent.lock().unwrap().iter().any(|m| m.to == "owner@example.org" && m.body.contains("team/ana")));
    assert!(
        !t.mail.sent.lock().unwrap().iter().any(|m| m.to == "ana@example.org" && m.subject.contains("content in")),
        "not to a viewer"
    );
    let found = t.app.find_subject(removal).await.unwrap();
    assert_eq!(found.assets, [(CLOUD.to_owned(), "image".to_owned(), "upload".to_owned())]);
    assert_eq!(found.requests, [id]);
    // Refused by name: a removal without the content's address, an unknown kind, a bad address.
    for fields in [
        vec![("kind", "removal"), ("email", "x@example.org")],
        vec![("kind", "sell"), ("email", "x@example.org")],
        vec![("kind", "access"), ("email", "not an address")],
    ] {
        assert_eq!(b.post(&t, "/privacy/requests", &fields).await.status, StatusCode::BAD_REQUEST, "{fields:?}");
    }
    // A third request from one address in a day is the last (each sends a mail).
    assert_eq!(
        b.post(&t, "/privacy/requests", &[("kind", "object"), ("email", "ana@example.org")]).await.status,
        StatusCode::ACCEPTED
    );
    let r = b.post(&t, "/privacy/requests", &[("kind", "erase"), ("email", "ana@example.org")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    // Overdue ones come first; closed requests go three years after closing.
    t.clock.advance(31 * DAY);
    let all = t.app.subject_requests().await.unwrap();
    assert_eq!(all.last().map(|r| r.id), Some(id), "the closed one last");
    t.clock.advance(3 * 365 * DAY);
    assert_eq!(t.app.prune_history().await.unwrap().requests, 1);
    assert!(t.app.subject_request(id).await.is_err());
    assert_eq!(t.app.subject_requests().await.unwrap().len(), 2, "the open ones stay");
}

#[tokio::test]
async fn requests_are_verified_due_and_answered_on_sqlite() {
    requests_are_verified_due_and_answered(Db::Sqlite).await;
}

#[tokio::test]
async fn requests_are_verified_due_and_answered_on_postgres() {
    requests_are_verified_due_and_answered(Db::Postgres).await;
}

/// A restricted asset (F19): the original and every derivative answer 451, and searches leave
/// it out of their results, totals and aggregations; lifting the restriction restores all.
async fn restricted_assets_are_not_delivered_or_found(db: Db) {
    use axum::http::Method;
    use nimbus_app::events::Caller;
    use nimbus_core::{DeliveryType, ResourceType};
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    for (id, tags) in [("team/ana", "team,only_ana"), ("team/bo", "team")] {
        let r = t
            .upload_api("image", "upload", &[("public_id", id), ("tags", tags)], Some(("a.jpg", &photo_jpeg(16, 12))))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let original = format!("/{CLOUD}/image/upload/team/ana.jpg");
    let derived = format!("/{CLOUD}/image/upload/w_8/team/ana.jpg");
    assert_eq!(t.get(&derived, &[]).await.status, StatusCode::OK, "rendered before");
    let t = &t;
    // The answer without its `time`.
    let search = |body: serde_json::Value| async move {
        let mut v = t.admin(Method::POST, "resources/search", Some(body)).await.json();
        v.as_object_mut().unwrap().remove("time");
        v
    };
    let body = serde_json::json!({ "expression": "tags=team", "aggregate": ["format", "tags", "bytes"] });
    let before = search(body.clone()).await;
    assert_eq!(before["total_count"], 2);

    let env = t.catalog.env_by_cloud(CLOUD).await.unwrap().unwrap().id;
    let caller = Caller::system(env);
    let (rt, dt) = (ResourceType::Image, DeliveryType::Upload);
    assert!(matches!(
        t.app.restrict_asset(&caller, rt, dt, "team/ana", " ").await,
        Err(AppError::MissingParam("reason"))
    ));
    assert!(t.app.restrict_asset(&caller, rt, dt, "team/ana", "request 7").await.unwrap());
    assert!(!t.app.restrict_asset(&caller, rt, dt, "team/ana", "request 7").await.unwrap(), "already");
    for uri in [&original, &derived, &format!("/{CLOUD}/image/upload/w_9/team/ana.jpg")] {
        let r = t.get(uri, &[]).await;
        assert_eq!(r.status, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS, "{uri}");
        assert_eq!(r.header("x-cld-error"), Some("Unavailable for legal reasons - team/ana"));
    }
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/team/bo.jpg"), &[]).await.status, StatusCode::OK, "the other");
    let after = search(body.clone()).await;
    assert_eq!(after["total_count"], 1);
    let ids: Vec<&str> =
        after["resources"].as_array().unwrap().iter().map(|r| r["public_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["team/bo"]);
    assert_eq!(after["aggregations"]["format"]["jpg"], 1);
    assert_eq!(after["aggregations"]["tags"]["team"], 1);
    assert!(after["aggregations"]["tags"].get("only_ana").is_none(), "a tag only it has is not shown");
    let bytes: i64 = after["aggregations"]["bytes"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum();
    assert_eq!(bytes, 1);
    assert_eq!(search(serde_json::json!({ "expression": "public_id=team/ana" })).await["total_count"], 0);

    assert!(t.app.lift_restriction(&caller, rt, dt, "team/ana").await.unwrap());
    assert_eq!(t.get(&derived, &[]).await.status, StatusCode::OK);
    assert_eq!(search(body).await, before, "all as before");
}

#[tokio::test]
async fn restricted_assets_are_not_delivered_or_found_on_sqlite() {
    restricted_assets_are_not_delivered_or_found(Db::Sqlite).await;
}

#[tokio::test]
async fn restricted_assets_are_not_delivered_or_found_on_postgres() {
    restricted_assets_are_not_delivered_or_found(Db::Postgres).await;
}

/// The desk in the console: owners answer the requests that name no environment, owners and
/// admins the removal requests about their environment; others get 403 or nothing.
#[tokio::test]
async fn the_console_desk_shows_each_person_their_requests() {
    use nimbus_testkit::browser::hidden;
    let t = TestApp::new().await;
    const PASSWORD: &str = "a long enough password";
    for (email, role) in
        [("owner@example.org", Role::Owner), ("admin@example.org", Role::Admin), ("viewer@example.org", Role::Viewer)]
    {
        let u = t.app.create_user(email, Some(PASSWORD.into())).await.unwrap();
        t.app.set_user_role(u.id, CLOUD, Some(role)).await.unwrap();
    }
    let mut public = Browser::new();
    public.header("accept", "application/json");
    let general = public.post(&t, "/privacy/requests", &[("kind", "erase"), ("email", "kim@example.org")]).await.json()
        ["id"]
        .as_i64()
        .unwrap();
    let url = format!("http://nimbus.test/{CLOUD}/image/upload/v1/team/kim.jpg");
    let removal = public
        .post(
            &t,
            "/privacy/removal-request",
            &[("asset_url", &url), ("email", "kim@example.org"), ("description", "me")],
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let ids = |b: serde_json::Value| -> Vec<i64> {
        b["requests"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
    };

    let mut owner = Browser::new();
    owner.sign_in(&t, "owner@example.org", PASSWORD).await;
    owner.header("accept", "application/json");
    let mut seen = ids(owner.get(&t, "/console/admin/privacy/requests").await.json());
    seen.sort_unstable();
    assert_eq!(seen, [general, removal]);
    let mut admin = Browser::new();
    admin.sign_in(&t, "admin@example.org", PASSWORD).await;
    admin.header("accept", "application/json");
    assert_eq!(ids(admin.get(&t, "/console/admin/privacy/requests").await.json()), [removal]);
    assert_eq!(
        admin.get(&t, &format!("/console/admin/privacy/requests/{general}")).await.status,
        StatusCode::NOT_FOUND
    );
    let mut viewer = Browser::new();
    viewer.sign_in(&t, "viewer@example.org", PASSWORD).await;
    assert_eq!(viewer.get(&t, "/console/admin/privacy/requests").await.status, StatusCode::FORBIDDEN);

    // Overdue requests show on the library page of those who answer them, and only then.
    let library = format!("/console/{CLOUD}/library");
    let banner = |r: nimbus_testkit::TestResponse| String::from_utf8_lossy(&r.body).contains("are overdue");
    let mut owner_page = Browser::new();
    owner_page.sign_in(&t, "owner@example.org", PASSWORD).await;
    assert!(!banner(owner_page.get(&t, &library).await), "nothing overdue yet");
    t.clock.advance(31 * DAY);
    let (mut owner_page, mut viewer_page) = (Browser::new(), Browser::new());
    owner_page.sign_in(&t, "owner@example.org", PASSWORD).await;
    viewer_page.sign_in(&t, "viewer@example.org", PASSWORD).await;
    let page = owner_page.get(&t, &library).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page.body).contains("2 request(s) about people's data are overdue"));
    assert!(!banner(viewer_page.get(&t, &library).await), "a viewer answers none");
    t.clock.set(T0);

    // The page, its forms, and the answers through them.
    let mut page_browser = Browser::new();
    page_browser.sign_in(&t, "owner@example.org", PASSWORD).await;
    let page = page_browser.get(&t, &format!("/console/admin/privacy/requests/{general}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("No account with this address") && html.contains("<label for=\"reason\""));
    let csrf = hidden(&page, "csrf");
    let base = format!("/console/admin/privacy/requests/{general}");
    let r = page_browser.post(&t, &format!("{base}/export"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not verified");
    assert_eq!(
        page_browser.post(&t, &format!("{base}/extend"), &[("csrf", "forged"), ("reason", "x")]).await.status,
        StatusCode::FORBIDDEN,
        "CSRF"
    );
    let r = page_browser.post(&t, &format!("{base}/extend"), &[("csrf", &csrf), ("reason", "backups")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = page_browser
        .post(&t, &format!("{base}/close"), &[("csrf", &csrf), ("note", "nothing held"), ("refused", "true")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let v = owner.get(&t, &base).await.json();
    assert_eq!(
        (v["status"].as_str(), v["due_at"].as_str()),
        (Some("refused"), Some(nimbus_core::timefmt::iso8601(T0 + 90 * DAY).as_str()))
    );
    let history: Vec<&str> = v["history"].as_array().unwrap().iter().map(|h| h["actor"].as_str().unwrap()).collect();
    assert_eq!(history, ["requester", "owner", "owner"], "roles act, not people");
}
