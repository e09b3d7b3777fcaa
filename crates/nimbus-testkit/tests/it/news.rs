//! Product news by mail (privacy F6): off unless the person asks for it; every message
//! carries a one-click unsubscribe link (RFC 8058) that works without a session, at once,
//! for its one person; a GET of the link changes nothing; transactional mail is unaffected.

use axum::http::StatusCode;
use nimbus_app::accounts::mail::MailCategory;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, TestApp};

const PASSWORD: &str = "correct horse battery";

/// Mails of `category` sent so far to `to`.
fn sent(t: &TestApp, to: &str, category: MailCategory) -> Vec<nimbus_app::accounts::mail::Mail> {
    t.mail.sent.lock().unwrap().iter().filter(|m| m.to == to && m.category == category).cloned().collect()
}

async fn product_news_is_opt_in_and_stops_with_one_click(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let mut ids = Vec::new();
    for email in ["nina@example.org", "otto@example.org"] {
        let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
        t.app.set_user_role(u.id, CLOUD, Some(Role::Editor)).await.unwrap();
        ids.push(u.id);
    }
    // Off by default: nobody gets news.
    assert_eq!(t.app.send_product_news("News", "Hello").await.unwrap(), 0);

    // Nina asks for it on her privacy page; Otto too, then the link of Nina's is tampered with.
    let mut nina = Browser::new();
    nina.sign_in(&t, "nina@example.org", PASSWORD).await;
    let csrf = hidden(&nina.get(&t, "/console/account/privacy").await, "csrf");
    let r = nina.post(&t, "/console/account/news", &[("csrf", &csrf), ("on", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        nina.post(&t, "/console/account/news", &[("on", "1")]).await.status,
        StatusCode::FORBIDDEN,
        "no CSRF token"
    );
    let mut otto = Browser::new();
    otto.sign_in(&t, "otto@example.org", PASSWORD).await;
    let ocsrf = hidden(&otto.get(&t, "/console/account/privacy").await, "csrf");
    otto.post(&t, "/console/account/news", &[("csrf", &ocsrf), ("on", "1")]).await;
    let mut json = Browser { cookies: nina.cookies.clone(), ..Browser::new() };
    json.header("accept", "application/json");
    assert_eq!(json.get(&t, "/console/account/privacy").await.json()["product_news"], true);

    assert_eq!(t.app.send_product_news("News", "Hello").await.unwrap(), 2);
    let mail = sent(&t, "nina@example.org", MailCategory::ProductNews).pop().expect("news for Nina");
    let link = mail.unsubscribe.clone().expect("a List-Unsubscribe link");
    assert!(mail.body.contains(&link), "the link is in the text too");
    let path = link.split_once("/u/").map(|(_, token)| format!("/u/{token}")).unwrap();

    // Tampered links change nothing: another person's id, a wrong signature, garbage.
    let otto_id = ids[1];
    let (_, rest) = path.trim_start_matches("/u/").split_once('.').unwrap();
    // The signature's last digit changed (to one it is not).
    let flipped = if path.ends_with('0') { '1' } else { '0' };
    let tampered =
        [format!("/u/{otto_id}.{rest}"), format!("{}{flipped}", &path[..path.len() - 1]), "/u/nonsense".to_owned()];
    for p in &tampered {
        let r = Browser::new().post(&t, p, &[("List-Unsubscribe", "One-Click")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{p}");
        assert_eq!(Browser::new().get(&t, p).await.status, StatusCode::BAD_REQUEST, "{p}");
    }

    // A GET (a mail scanner) shows the button and changes nothing.
    let page = Browser::new().get(&t, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page.body).contains("Unsubscribe"));
    assert_eq!(t.app.send_product_news("News", "Again").await.unwrap(), 2);

    // The one-click POST, with no session, stops it at once.
    let r = Browser::new().post(&t, &path, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let before = sent(&t, "nina@example.org", MailCategory::ProductNews).len();
    assert_eq!(t.app.send_product_news("News", "Third").await.unwrap(), 1, "Otto only");
    assert_eq!(sent(&t, "nina@example.org", MailCategory::ProductNews).len(), before);
    assert_eq!(sent(&t, "otto@example.org", MailCategory::ProductNews).len(), 3, "Otto's choice stands");
    // Transactional mail still reaches her.
    t.app.request_password_reset("nina@example.org", None).await.unwrap();
    assert_eq!(sent(&t, "nina@example.org", MailCategory::Transactional).len(), 1);
    // Following the link again is harmless.
    assert_eq!(Browser::new().post(&t, &path, &[]).await.status, StatusCode::OK);

    // Each change is recorded with how it was made, and is in her data.
    let d = t.app.catalog.subject_data(ids[0]).await.unwrap();
    let kinds: Vec<(String, bool)> = d.consents.into_iter().map(|(k, o, _)| (k, o)).collect();
    assert_eq!(kinds, [("product_news".to_owned(), false), ("unsubscribe".to_owned(), true)]);
    assert_eq!(json.get(&t, "/console/account/privacy").await.json()["product_news"], false);
}

#[tokio::test]
async fn product_news_is_opt_in_and_stops_with_one_click_on_sqlite() {
    product_news_is_opt_in_and_stops_with_one_click(Db::Sqlite).await;
}

#[tokio::test]
async fn product_news_is_opt_in_and_stops_with_one_click_on_postgres() {
    product_news_is_opt_in_and_stops_with_one_click(Db::Postgres).await;
}
