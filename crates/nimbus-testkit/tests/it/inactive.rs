//! Inactive-account cleanup (privacy F11): with deletion after 90 days and reminders 14 and
//! 7 days before, a person last active at t0 is reminded at t0+76d and t0+83d and scheduled
//! for deletion (with the usual grace period) at t0+90d; an owner in the same situation, a
//! person who never signed in, and one who signed in again at t0+80d are left alone.

use nimbus_app::privacy::inactive::{InactivePolicy, InactiveRound};
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::Browser;
use nimbus_testkit::{CLOUD, Db, TestApp};

const DAY: i64 = 86_400;
const PASSWORD: &str = "correct horse battery";

async fn inactive_accounts_are_reminded_then_deleted(db: Db) {
    let Some(t) = TestApp::on(db, |c| c.inactive_accounts = Some(InactivePolicy::new(90 * DAY))).await else { return };
    let mut ids = std::collections::HashMap::new();
    for (email, role, signs_in) in [
        ("idle@example.org", Role::Editor, true),
        ("owner@example.org", Role::Owner, true),
        ("never@example.org", Role::Viewer, false),
        ("back@example.org", Role::Viewer, true),
    ] {
        let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
        t.app.set_user_role(u.id, CLOUD, Some(role)).await.unwrap();
        if signs_in {
            Browser::new().sign_in(&t, email, PASSWORD).await;
        }
        ids.insert(email, u.id);
    }
    let reminders = |to: &str| {
        t.mail.sent.lock().unwrap().iter().filter(|m| m.to == to && m.subject.contains("unless you sign in")).count()
    };
    let pending = |email: &'static str| {
        let id = ids[email];
        let app = t.app.clone();
        async move { app.catalog.user_by_id(id).await.unwrap().unwrap().deletion_due_at.is_some() }
    };
    let at = |day: i64| {
        let now = t.app.now() - nimbus_testkit::T0;
        t.clock.advance(day * DAY - now);
    };

    at(75);
    assert_eq!(t.app.inactive_accounts_round().await.unwrap(), InactiveRound::default());
    at(76);
    assert_eq!(t.app.inactive_accounts_round().await.unwrap(), InactiveRound { reminded: 2, scheduled: 0 });
    assert_eq!((reminders("idle@example.org"), reminders("back@example.org")), (1, 1));
    at(77);
    assert_eq!(t.app.inactive_accounts_round().await.unwrap().reminded, 0, "each reminder once");
    at(80);
    Browser::new().sign_in(&t, "back@example.org", PASSWORD).await;
    at(83);
    assert_eq!(t.app.inactive_accounts_round().await.unwrap(), InactiveRound { reminded: 1, scheduled: 0 });
    assert_eq!((reminders("idle@example.org"), reminders("back@example.org")), (2, 1));
    at(90);
    assert_eq!(t.app.inactive_accounts_round().await.unwrap(), InactiveRound { reminded: 0, scheduled: 1 });
    assert!(pending("idle@example.org").await, "scheduled for deletion, with a grace period");
    assert!(
        t.mail.last_link_to("idle@example.org").is_some_and(|l| l.starts_with("/console/account/cancel-deletion/"))
    );
    for spared in ["owner@example.org", "never@example.org", "back@example.org"] {
        assert!(!pending(spared).await, "{spared} is left alone");
    }
    assert_eq!(reminders("owner@example.org") + reminders("never@example.org"), 0);
    t.clock.advance(t.app.config.deletion_grace_secs);
    assert_eq!(t.app.purge_due_accounts().await.unwrap(), 1);
    assert!(t.app.catalog.user_by_id(ids["idle@example.org"]).await.unwrap().is_none());
}

#[tokio::test]
async fn inactive_accounts_are_reminded_then_deleted_on_sqlite() {
    inactive_accounts_are_reminded_then_deleted(Db::Sqlite).await;
}

#[tokio::test]
async fn inactive_accounts_are_reminded_then_deleted_on_postgres() {
    inactive_accounts_are_reminded_then_deleted(Db::Postgres).await;
}

#[tokio::test]
async fn the_cleanup_is_off_by_default() {
    let t = TestApp::new().await;
    let u = t.app.create_user("idle@example.org", Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(Role::Viewer)).await.unwrap();
    Browser::new().sign_in(&t, "idle@example.org", PASSWORD).await;
    t.clock.advance(3650 * DAY);
    assert_eq!(t.app.inactive_accounts_round().await.unwrap(), InactiveRound::default());
}
