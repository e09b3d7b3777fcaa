//! Objection to sharing (privacy F7) and Global Privacy Control (F15): a signed-in request
//! with `Sec-GPC: 1` sets the objection and records that the signal set it; the person can
//! set or lift it in the console; every change is recorded once, with its source, and is in
//! their archive; nobody else is touched.

use axum::http::StatusCode;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, TestApp};

const PASSWORD: &str = "correct horse battery";

async fn consents(t: &TestApp, user_id: i64) -> Vec<(String, bool)> {
    let d = t.app.catalog.subject_data(user_id).await.unwrap();
    d.consents.into_iter().map(|(k, o, _)| (k, o)).collect()
}

async fn gpc_sets_the_objection_the_person_can_lift(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let mut ids = Vec::new();
    for email in ["gina@example.org", "otto@example.org"] {
        let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
        t.app.set_user_role(u.id, CLOUD, Some(Role::Editor)).await.unwrap();
        ids.push(u.id);
    }
    let (gina, otto) = (ids[0], ids[1]);

    // Signing in with the signal sets the objection, once.
    let mut b = Browser::new();
    b.header("sec-gpc", "1");
    assert_eq!(b.sign_in(&t, "gina@example.org", PASSWORD).await.status, StatusCode::SEE_OTHER);
    for _ in 0..3 {
        assert_eq!(b.get(&t, "/console/account").await.status, StatusCode::OK);
    }
    assert_eq!(consents(&t, gina).await, [("gpc".to_owned(), true)]);
    let mut json = Browser { cookies: b.cookies.clone(), ..Browser::new() };
    json.header("accept", "application/json");
    let center = json.get(&t, "/console/account/privacy").await.json();
    assert_eq!(center["share_opt_out"], true, "{center}");

    // Without the signal, the person lifts it in the console; then sets it again.
    let mut plain = Browser { cookies: b.cookies.clone(), ..Browser::new() };
    let page = plain.get(&t, "/console/account/privacy").await;
    assert!(String::from_utf8_lossy(&page.body).contains("Withdraw my objection"));
    let csrf = hidden(&page, "csrf");
    let r = plain.post(&t, "/console/account/objection", &[("csrf", &csrf), ("objects", "0")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(json.get(&t, "/console/account/privacy").await.json()["share_opt_out"], false);
    let r = plain.post(&t, "/console/account/objection", &[("objects", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token, no change");
    plain.post(&t, "/console/account/objection", &[("csrf", &csrf), ("objects", "1")]).await;
    assert_eq!(
        consents(&t, gina).await,
        [("gpc".to_owned(), true), ("objection".to_owned(), false), ("objection".to_owned(), true)]
    );

    // Another person without the signal is untouched.
    let mut o = Browser::new();
    o.sign_in(&t, "otto@example.org", PASSWORD).await;
    o.get(&t, "/console/account").await;
    assert_eq!(consents(&t, otto).await, []);
    assert!(t.app.catalog.user_by_id(otto).await.unwrap().unwrap().share_opt_out_at.is_none());
}

#[tokio::test]
async fn gpc_sets_the_objection_the_person_can_lift_on_sqlite() {
    gpc_sets_the_objection_the_person_can_lift(Db::Sqlite).await;
}

#[tokio::test]
async fn gpc_sets_the_objection_the_person_can_lift_on_postgres() {
    gpc_sets_the_objection_the_person_can_lift(Db::Postgres).await;
}

/// The processors registry: the privacy centre lists each outside party with its purpose, and
/// the direct-marketing ones are what the Shine the Light report names (none by default).
#[tokio::test]
async fn processors_are_listed_with_their_purpose() {
    use nimbus_core::processors::{Processor, Purpose, direct_marketing};
    let t = TestApp::new().await;
    assert!(direct_marketing(&t.app.config.processors).is_empty(), "none by default");
    let t = TestApp::on(Db::Sqlite, |c| {
        c.processors = vec![
            Processor {
                name: "Mail relay smtp.example.net".into(),
                purpose: Purpose::TransactionalMail,
                data: vec!["e-mail address".into()],
                location: None,
            },
            Processor {
                name: "Mailing house".into(),
                purpose: Purpose::DirectMarketing,
                data: vec!["e-mail address".into()],
                location: Some("US".into()),
            },
        ]
    })
    .await
    .unwrap();
    let u = t.app.create_user("pia@example.org", Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(Role::Viewer)).await.unwrap();
    let mut b = Browser::new();
    b.sign_in(&t, "pia@example.org", PASSWORD).await;
    b.header("accept", "application/json");
    let center = b.get(&t, "/console/account/privacy").await.json();
    let purposes: Vec<&str> =
        center["processors"].as_array().unwrap().iter().map(|p| p["purpose"].as_str().unwrap()).collect();
    assert_eq!(purposes, ["transactional_mail", "direct_marketing"], "{center}");
    assert_eq!(direct_marketing(&t.app.config.processors).len(), 1);
    let page = String::from_utf8_lossy(&t.get("/privacy", &[]).await.body).into_owned();
    assert!(page.contains("Mailing house") && page.contains("direct_marketing"));
}
