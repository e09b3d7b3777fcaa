//! Rectification (privacy F3): a new address takes effect only through the link mailed to
//! it, within 24 hours; the old address is told; afterwards no table holds the old address.

use axum::http::StatusCode;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, TestApp};

const PASSWORD: &str = "correct horse battery";
const OLD: &str = "rita.before@example.org";
const NEW: &str = "rita.after@example.net";

async fn address_changes_through_the_new_address(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let u = t.app.create_user(OLD, Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(Role::Editor)).await.unwrap();
    t.app.create_user("taken@example.org", Some(PASSWORD.to_owned())).await.unwrap();
    let mut b = Browser::new();
    b.sign_in(&t, OLD, PASSWORD).await;
    let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");

    let r =
        b.post(&t, "/console/account/email", &[("csrf", &csrf), ("email", NEW), ("password", "wrong one here")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "the password is asked");
    let r = b
        .post(&t, "/console/account/email", &[("csrf", &csrf), ("email", "not an address"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b.post(&t, "/console/account/email", &[("csrf", &csrf), ("email", NEW), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(t.app.catalog.user_by_id(u.id).await.unwrap().unwrap().email, OLD, "nothing changes before the link");
    assert!(t.mail.sent.lock().unwrap().iter().any(|m| m.to == OLD && m.subject.contains("new address was asked")));

    // The link expires after 24 hours.
    let link = t.mail.last_link_to(NEW).expect("a link to the new address");
    assert!(link.starts_with("/console/account/email/"), "{link}");
    t.clock.advance(24 * 3600 + 1);
    assert_eq!(Browser::new().post(&t, &link, &[]).await.status, StatusCode::GONE);

    // Asked again and confirmed: the new address signs in, the old one no longer exists.
    let mut b = Browser::new();
    b.sign_in(&t, OLD, PASSWORD).await;
    let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");
    b.post(&t, "/console/account/email", &[("csrf", &csrf), ("email", NEW), ("password", PASSWORD)]).await;
    let link = t.mail.last_link_to(NEW).unwrap();
    assert_eq!(Browser::new().get(&t, &link).await.status, StatusCode::OK, "a GET only shows the button");
    assert_eq!(t.app.catalog.user_by_id(u.id).await.unwrap().unwrap().email, OLD);
    assert_eq!(Browser::new().post(&t, &link, &[]).await.status, StatusCode::OK);
    assert_eq!(t.app.catalog.user_by_id(u.id).await.unwrap().unwrap().email, NEW);
    assert_eq!(Browser::new().sign_in(&t, NEW, PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::new().sign_in(&t, OLD, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let left = t.app.privacy_sweep(&[OLD.to_owned()], &[]).await.unwrap();
    assert!(left.is_empty(), "the old address is nowhere: {left:?}");

    // An address another account has is refused at confirmation.
    let mut b = Browser::new();
    b.sign_in(&t, NEW, PASSWORD).await;
    let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");
    b.post(&t, "/console/account/email", &[("csrf", &csrf), ("email", "taken@example.org"), ("password", PASSWORD)])
        .await;
    let link = t.mail.last_link_to("taken@example.org").unwrap();
    assert_eq!(Browser::new().post(&t, &link, &[]).await.status, StatusCode::CONFLICT);
    assert_eq!(t.app.catalog.user_by_id(u.id).await.unwrap().unwrap().email, NEW);
}

#[tokio::test]
async fn address_changes_through_the_new_address_on_sqlite() {
    address_changes_through_the_new_address(Db::Sqlite).await;
}

#[tokio::test]
async fn address_changes_through_the_new_address_on_postgres() {
    address_changes_through_the_new_address(Db::Postgres).await;
}
