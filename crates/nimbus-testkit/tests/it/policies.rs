//! Policy versions (privacy F17): notice periods enforced by class of change, `/privacy`
//! serving the version in force with the next one announced, notices mailed to people active
//! in the last year only, and acceptance recorded when a person signs in under a version.

use nimbus_app::AppError;
use nimbus_app::privacy::policies::NewPolicy;
use nimbus_core::accounts::Role;
use nimbus_core::policy::ChangeClass;
use nimbus_testkit::browser::Browser;
use nimbus_testkit::{CLOUD, Db, T0, TestApp};

const DAY: i64 = 86_400;
const PASSWORD: &str = "correct horse battery";

fn version(class: ChangeClass, text: &str, effective_at: Option<i64>) -> NewPolicy {
    NewPolicy {
        kind: "privacy".into(),
        class,
        text_md: format!("{text}\n\nSecond paragraph <b>as text</b>."),
        changelog_md: format!("Changes for {text}."),
        effective_at,
    }
}

async fn privacy_json(t: &TestApp) -> serde_json::Value {
    t.get("/privacy", &[("accept", "application/json")]).await.json()
}

async fn notice_periods_and_who_hears(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    for (email, active) in [("active@example.org", true), ("dormant@example.org", false)] {
        let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
        t.app.set_user_role(u.id, CLOUD, Some(Role::Editor)).await.unwrap();
        if active {
            Browser::new().sign_in(&t, email, PASSWORD).await;
        }
    }
    let notices =
        |to: &str| t.mail.sent.lock().unwrap().iter().filter(|m| m.to == to && m.subject.contains("privacy")).count();

    // A legal change is in force at once; only the active person is told.
    let v1 = t.app.publish_policy(version(ChangeClass::Legal, "First text", None)).await.unwrap();
    assert_eq!((v1.policy.version, v1.policy.effective_at, v1.notified), (1, T0, 1));
    assert_eq!((notices("active@example.org"), notices("dormant@example.org")), (1, 0));
    let now = privacy_json(&t).await;
    assert_eq!((now["live"]["version"].as_i64(), now["upcoming"].is_null()), (Some(1), true), "{now}");

    // A substantial change needs 30 days of notice.
    let early = t.app.publish_policy(version(ChangeClass::Substantial, "Second text", Some(T0 + 10 * DAY))).await;
    assert!(matches!(early, Err(AppError::PolicyRefused(_))), "{early:?}");
    let v2 = t.app.publish_policy(version(ChangeClass::Substantial, "Second text", Some(T0 + 30 * DAY))).await.unwrap();
    assert_eq!(v2.policy.version, 2);
    assert_eq!(notices("active@example.org"), 2);
    let past = t.app.publish_policy(version(ChangeClass::Legal, "Third", Some(T0 + 20 * DAY))).await;
    assert!(matches!(past, Err(AppError::PolicyRefused(_))), "not before the latest version: {past:?}");

    // Everyone signed in sees the change announced in the console until it takes effect.
    let mut b = Browser::new();
    b.sign_in(&t, "active@example.org", PASSWORD).await;
    let page = String::from_utf8_lossy(&b.get(&t, "/console/account").await.body).into_owned();
    assert!(page.contains("The privacy policy change on") && page.contains("Changes for Second text."), "{page}");

    t.clock.advance(29 * DAY);
    let before = privacy_json(&t).await;
    assert_eq!(before["live"]["version"], 1);
    assert_eq!(before["upcoming"]["version"], 2);
    let html = String::from_utf8_lossy(&t.get("/privacy", &[]).await.body).into_owned();
    assert!(html.contains("This policy changes on") && html.contains("Changes for Second text."), "{html}");
    assert!(html.contains("&lt;b&gt;as text&lt;/b&gt;"), "policy text is escaped");
    t.clock.advance(DAY);
    b.sign_in(&t, "active@example.org", PASSWORD).await;
    let page = b.get(&t, "/console/account").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    assert!(!String::from_utf8_lossy(&page.body).contains("The privacy policy change on"), "no banner once in force");
    let after = privacy_json(&t).await;
    assert_eq!((after["live"]["version"].as_i64(), after["upcoming"].is_null()), (Some(2), true), "{after}");
    let versions = t.get("/privacy/versions", &[("accept", "application/json")]).await.json();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);

    // Signing in under version 2 records the acceptance.
    let dormant = t.app.user_by_email("dormant@example.org").await.unwrap();
    let accepted = || async {
        t.app
            .catalog
            .subject_rows(dormant.id)
            .await
            .unwrap()
            .into_iter()
            .find(|(t, _)| t == "policy_acceptances")
            .map(|(_, n)| n)
    };
    assert_eq!(accepted().await, None);
    Browser::new().sign_in(&t, "dormant@example.org", PASSWORD).await;
    assert_eq!(accepted().await, Some(1));
    Browser::new().sign_in(&t, "dormant@example.org", PASSWORD).await;
    assert_eq!(accepted().await, Some(1), "once per version");
}

#[tokio::test]
async fn notice_periods_and_who_hears_on_sqlite() {
    notice_periods_and_who_hears(Db::Sqlite).await;
}

#[tokio::test]
async fn notice_periods_and_who_hears_on_postgres() {
    notice_periods_and_who_hears(Db::Postgres).await;
}
