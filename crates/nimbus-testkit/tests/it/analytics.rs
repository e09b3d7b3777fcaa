//! Cookieless delivery analytics (privacy F12, F15, F18): views and unique visitors per
//! asset and day, a visitor being a salted hash of the client's address and browser; the same
//! visitor counts once a day and differently the next; `DNT: 1` and `Sec-GPC: 1` are not
//! counted; no delivery response sets a cookie; no address is stored; salts and hashes go
//! after two days while the counts stay; reports show fewer than five visitors as such.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use nimbus_app::ports::EnvRepo;
use nimbus_testkit::{CLOUD, Db, TestApp, TestResponse, photo_jpeg};
use sqlx::Connection as _;

async fn fetch(t: &TestApp, method: &str, uri: &str, ip: &str, ua: &str, extra: &[(&str, &str)]) -> TestResponse {
    let peer: std::net::SocketAddr = format!("{ip}:51000").parse().unwrap();
    let mut b = Request::builder().method(method).uri(uri).header("user-agent", ua);
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    let r = t.call(b.extension(axum::extract::ConnectInfo(peer)).body(Body::empty()).unwrap()).await;
    assert!(r.headers.get("set-cookie").is_none(), "no cookie on a delivery: {uri}");
    r
}

/// Rows of `table`, and its salts' days.
async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
    c.close().await.unwrap();
    n
}

async fn deliveries_are_counted_without_cookies_or_addresses(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    let up = t.upload_api("image", "upload", &[("public_id", "visited")], Some(("v.jpg", &photo_jpeg(16, 12)))).await;
    assert_eq!(up.status, StatusCode::OK);
    let asset_id = up.json()["asset_id"].as_str().unwrap().to_owned();
    let env = t.catalog.env_by_cloud(CLOUD).await.unwrap().unwrap().id;
    let original = format!("/{CLOUD}/image/upload/visited.jpg");
    let derived = format!("/{CLOUD}/image/upload/w_8/visited.jpg");
    let day = nimbus_app::usage::day_of(t.app.now());

    // Same address and browser twice (an original and a derivative of one asset): one visitor.
    for uri in [&original, &derived] {
        assert_eq!(fetch(&t, "GET", uri, "203.0.113.5", "Firefox/140", &[]).await.status, StatusCode::OK);
    }
    fetch(&t, "GET", &original, "203.0.113.5", "Chrome/150", &[]).await;
    fetch(&t, "GET", &original, "203.0.113.6", "Firefox/140", &[]).await;
    // Not counted: the privacy signals, and HEAD.
    fetch(&t, "GET", &original, "198.51.100.1", "Firefox/140", &[("dnt", "1")]).await;
    fetch(&t, "GET", &original, "198.51.100.2", "Firefox/140", &[("sec-gpc", "1")]).await;
    fetch(&t, "HEAD", &original, "198.51.100.3", "Firefox/140", &[]).await;
    t.app.flush_usage().await.unwrap();
    assert_eq!(t.catalog.delivery_analytics(env, day).await.unwrap(), [(asset_id.clone(), 4, 3)]);
    // Fewer than five visitors: the report does not give the number.
    let report = t.app.delivery_report(CLOUD, day).await.unwrap();
    assert_eq!((report[0].views, report[0].visitors, report[0].public_id.as_deref()), (4, None, Some("visited")));
    for i in 10..13 {
        fetch(&t, "GET", &original, &format!("192.0.2.{i}"), "Safari/18", &[]).await;
    }
    t.app.flush_usage().await.unwrap();
    let report = t.app.delivery_report(CLOUD, day).await.unwrap();
    assert_eq!((report[0].views, report[0].visitors), (7, Some(6)));

    // No address anywhere in the catalog.
    for ip in ["203.0.113.5", "198.51.100.1", "192.0.2.10"] {
        let found = t.app.privacy_sweep(&[ip.to_owned()], &[]).await.unwrap();
        assert!(found.is_empty(), "{ip}: {found:?}");
    }

    // The next day the same visitor is another hash; two days on, the first day's hashes and
    // salt are gone while its counts stay.
    t.clock.advance(86_400);
    fetch(&t, "GET", &original, "203.0.113.5", "Firefox/140", &[]).await;
    t.app.flush_usage().await.unwrap();
    let same_twice = count(
        &t,
        "SELECT COUNT(*) FROM delivery_visitors a JOIN delivery_visitors b ON a.visitor = b.visitor AND a.day < b.day",
    )
    .await;
    assert_eq!(same_twice, 0, "no visitor hash repeats across days");
    assert_eq!(t.app.prune_history().await.unwrap().visitors, 0, "yesterday's hashes are still needed");
    t.clock.advance(86_400);
    assert!(t.app.prune_history().await.unwrap().visitors > 0);
    assert_eq!(t.app.prune_history().await.unwrap().visitors, 0, "idempotent");
    let oldest_salt = count(&t, "SELECT COALESCE(MIN(day), 0) FROM analytics_salts").await;
    assert!(count(&t, "SELECT COUNT(*) FROM analytics_salts").await <= 2);
    assert!(oldest_salt > day, "no salt older than 48 hours");
    assert_eq!(count(&t, &format!("SELECT COUNT(*) FROM delivery_visitors WHERE day = {day}")).await, 0);
    let report = t.app.delivery_report(CLOUD, day).await.unwrap();
    assert_eq!((report[0].views, report[0].visitors), (7, Some(6)), "the final count");
}

#[tokio::test]
async fn deliveries_are_counted_without_cookies_or_addresses_on_sqlite() {
    deliveries_are_counted_without_cookies_or_addresses(Db::Sqlite).await;
}

#[tokio::test]
async fn deliveries_are_counted_without_cookies_or_addresses_on_postgres() {
    deliveries_are_counted_without_cookies_or_addresses(Db::Postgres).await;
}

/// With the operator's geo database, views are counted per country and day (F13): the
/// address is looked up and forgotten; an address the database does not know counts as
/// `unknown`; small countries show together as `other`. Without one, no country is counted.
async fn views_are_counted_by_country_with_a_geo_database(db: Db) {
    use std::net::Ipv4Addr;
    use std::sync::Arc;
    let bytes = nimbus_testkit::mmdb::country_db(&[
        (Ipv4Addr::new(89, 160, 20, 112), 28, "SE"),
        (Ipv4Addr::new(203, 0, 113, 0), 24, "NZ"),
    ]);
    let geo = Arc::new(nimbus_app::geo::Geo::from_bytes(bytes).unwrap());
    assert_eq!(geo.country("89.160.20.115".parse().unwrap()), "SE");
    assert_eq!(geo.country("::ffff:89.160.20.113".parse().unwrap()), "SE", "IPv4-mapped");
    assert_eq!(geo.country("89.160.20.128".parse().unwrap()), "unknown", "outside the /28");
    assert_eq!(geo.country("2001:db8::1".parse().unwrap()), "unknown", "an IPv6 address in an IPv4 database");
    let Some(t) = TestApp::on(db, |c| c.geo = Some(geo.clone())).await else { return };
    let up = t.upload_api("image", "upload", &[("public_id", "abroad")], Some(("a.jpg", &photo_jpeg(8, 8)))).await;
    assert_eq!(up.status, StatusCode::OK);
    let uri = format!("/{CLOUD}/image/upload/abroad.jpg");
    for i in 0..6 {
        fetch(&t, "GET", &uri, &format!("89.160.20.{}", 112 + i), "Firefox/140", &[]).await;
    }
    fetch(&t, "GET", &uri, "203.0.113.7", "Firefox/140", &[]).await;
    fetch(&t, "GET", &uri, "198.51.100.7", "Firefox/140", &[]).await;
    fetch(&t, "GET", &uri, "89.160.20.120", "Firefox/140", &[("dnt", "1")]).await;
    t.app.flush_usage().await.unwrap();
    let env = t.catalog.env_by_cloud(CLOUD).await.unwrap().unwrap().id;
    let day = nimbus_app::usage::day_of(t.app.now());
    let stored = t.catalog.delivery_countries(env, day).await.unwrap();
    assert_eq!(stored, [("SE".to_owned(), 6), ("NZ".to_owned(), 1), ("unknown".to_owned(), 1)]);
    let shown = t.app.delivery_countries(CLOUD, day).await.unwrap().countries;
    assert_eq!(shown, [("SE".to_owned(), 6), ("other".to_owned(), 2)], "small countries together");
    for ip in ["89.160.20.115", "203.0.113.7"] {
        let found = t.app.privacy_sweep(&[ip.to_owned()], &[]).await.unwrap();
        assert!(found.is_empty(), "{ip}: {found:?}");
    }
    // Without a database: views, no countries.
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    t.upload_api("image", "upload", &[("public_id", "abroad")], Some(("a.jpg", &photo_jpeg(8, 8)))).await;
    fetch(&t, "GET", &uri, "89.160.20.115", "Firefox/140", &[]).await;
    t.app.flush_usage().await.unwrap();
    let env = t.catalog.env_by_cloud(CLOUD).await.unwrap().unwrap().id;
    assert!(t.catalog.delivery_countries(env, day).await.unwrap().is_empty());
    assert_eq!(t.catalog.delivery_analytics(env, day).await.unwrap().len(), 1);
}

#[tokio::test]
async fn views_are_counted_by_country_with_a_geo_database_on_sqlite() {
    views_are_counted_by_country_with_a_geo_database(Db::Sqlite).await;
}

#[tokio::test]
async fn views_are_counted_by_country_with_a_geo_database_on_postgres() {
    views_are_counted_by_country_with_a_geo_database(Db::Postgres).await;
}

/// Off, nothing is counted (and usage still is).
#[tokio::test]
async fn delivery_analytics_can_be_turned_off() {
    let Some(t) = TestApp::on(Db::Sqlite, |c| c.delivery_analytics = false).await else { return };
    let up = t.upload_api("image", "upload", &[("public_id", "quiet")], Some(("q.jpg", &photo_jpeg(8, 8)))).await;
    assert_eq!(up.status, StatusCode::OK);
    fetch(&t, "GET", &format!("/{CLOUD}/image/upload/quiet.jpg"), "203.0.113.5", "Firefox/140", &[]).await;
    t.app.flush_usage().await.unwrap();
    let env = t.catalog.env_by_cloud(CLOUD).await.unwrap().unwrap().id;
    let day = nimbus_app::usage::day_of(t.app.now());
    assert!(t.catalog.delivery_analytics(env, day).await.unwrap().is_empty());
    assert_eq!(count(&t, "SELECT COUNT(*) FROM analytics_salts").await, 0);
}
