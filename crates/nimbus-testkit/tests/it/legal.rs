//! Requests from authorities (privacy F16): registered by the operator, told to the people
//! concerned by mail once the law allows (at once, after a gag order, never with a reason
//! reviewed every 90 days), hidden from their privacy centre until then, and counted in a
//! transparency report that names nobody.

use axum::http::StatusCode;
use nimbus_app::privacy::legal::{NewLegalRequest, Notify};
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::Browser;
use nimbus_testkit::{CLOUD, Db, TestApp};

const PASSWORD: &str = "correct horse battery";
const DAY: i64 = 86_400;

fn request(emails: &[&str], notify: Notify, received_at: i64) -> NewLegalRequest {
    NewLegalRequest {
        authority: "Metropolitan Police".into(),
        authority_kind: "police".into(),
        legal_basis: "Production order 2026/17".into(),
        categories: vec!["account".into(), "session".into()],
        received_at,
        disclosed_at: None,
        attachment_sha256: Some(nimbus_app::privacy::legal::digest(b"the order")),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        notify,
    }
}

fn legal_mails(t: &TestApp, to: &str) -> Vec<String> {
    let sent = t.mail.sent.lock().unwrap();
    sent.iter().filter(|m| m.to == to && m.subject.contains("authority")).map(|m| m.body.clone()).collect()
}

async fn people_are_told_of_legal_requests_when_the_law_allows(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    for email in ["una@example.org", "gus@example.org", "nell@example.org"] {
        let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
        t.app.set_user_role(u.id, CLOUD, Some(Role::Editor)).await.unwrap();
    }
    let now = t.app.now();

    // No gag: told at the next round, once, with the date and the kinds of data.
    let open = t.app.register_legal_request(request(&["una@example.org"], Notify::Now, now)).await.unwrap();
    // Gagged for ten days.
    let gag_until = now + 10 * DAY;
    t.app.register_legal_request(request(&["gus@example.org"], Notify::After(gag_until), now)).await.unwrap();
    // Never, with a reason.
    let never = t
        .app
        .register_legal_request(request(&["nell@example.org"], Notify::Never("ongoing investigation".into()), now))
        .await
        .unwrap();
    t.app.legal_disclosed(open, now).await.unwrap();

    assert_eq!(t.app.send_legal_notices().await.unwrap(), 1);
    let una = legal_mails(&t, "una@example.org");
    assert_eq!(una.len(), 1);
    let date = &nimbus_core::timefmt::iso8601(now)[..10];
    assert!(una[0].contains(date) && una[0].contains("account, session") && una[0].contains("disclosed"), "{}", una[0]);
    assert_eq!(t.app.send_legal_notices().await.unwrap(), 0, "once");
    assert!(legal_mails(&t, "gus@example.org").is_empty(), "not during the gag");

    // Nothing about a request in the privacy centre of someone not yet told.
    let mut gus = Browser::new();
    gus.sign_in(&t, "gus@example.org", PASSWORD).await;
    gus.header("accept", "application/json");
    let center = gus.get(&t, "/console/account/privacy").await;
    assert_eq!(center.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&center.body).to_lowercase();
    assert!(!text.contains("legal") && !text.contains("authorit"), "{text}");

    t.clock.advance(10 * DAY - 60);
    assert_eq!(t.app.send_legal_notices().await.unwrap(), 0, "the day before the gag ends");
    t.clock.advance(120);
    assert_eq!(t.app.send_legal_notices().await.unwrap(), 1);
    assert_eq!(legal_mails(&t, "gus@example.org").len(), 1);
    assert!(legal_mails(&t, "nell@example.org").is_empty(), "never");

    // The decision never to tell comes up for review every 90 days.
    assert!(t.app.legal_reviews_due().await.unwrap().is_empty());
    t.clock.advance(80 * DAY + 60);
    assert_eq!(t.app.legal_reviews_due().await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), [never]);
    t.app.legal_reviewed(never).await.unwrap();
    assert!(t.app.legal_reviews_due().await.unwrap().is_empty());

    // The transparency report counts, and names nobody.
    let year = nimbus_core::timefmt::year_of(now);
    let report = t.app.transparency_report(year).await.unwrap();
    let police = report.iter().find(|l| l.authority_kind == "police").unwrap();
    assert_eq!((police.requests, police.disclosed, police.people), (3, 1, 3));
    let text = format!("{report:?}").to_lowercase();
    for needle in ["una", "gus", "nell", "example.org", "metropolitan", "2026/17"] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }

    // Bad registrations are refused by name.
    for (r, what) in [
        (NewLegalRequest { authority_kind: "army".into(), ..request(&["una@example.org"], Notify::Now, now) }, "army"),
        (
            NewLegalRequest { categories: vec!["secrets".into()], ..request(&["una@example.org"], Notify::Now, now) },
            "secrets",
        ),
        (request(&["nobody@example.org"], Notify::Now, now), "nobody@example.org"),
        (request(&["una@example.org"], Notify::Never(" ".into()), now), "never_reason"),
    ] {
        let e = t.app.register_legal_request(r).await.unwrap_err();
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
}

#[tokio::test]
async fn people_are_told_of_legal_requests_when_the_law_allows_on_sqlite() {
    people_are_told_of_legal_requests_when_the_law_allows(Db::Sqlite).await;
}

#[tokio::test]
async fn people_are_told_of_legal_requests_when_the_law_allows_on_postgres() {
    people_are_told_of_legal_requests_when_the_law_allows(Db::Postgres).await;
}
