//! Several nodes on one catalog and one blob store, in one process: what one node writes,
//! another serves, announces and finishes.

use std::sync::atomic::Ordering;

use axum::http::Method;
use nimbus_core::signature::{Algorithm, url_signature};
use nimbus_testkit::{CLOUD, Db, KEY, Multipart, SECRET, T0, TestApp, photo_jpeg, png};

async fn a_derivative_asked_on_two_nodes_at_once_is_rendered_once(a: &TestApp, b: &TestApp) {
    let r = a.upload_api("image", "upload", &[("public_id", "n/one")], Some(("a.jpg", &photo_jpeg(400, 300)))).await;
    assert_eq!(r.status, 200);
    let url = format!("/demo/image/upload/c_scale,w_120/v{T0}/n/one.jpg");
    for round in 0..3 {
        let (ra, rb) = tokio::join!(a.get(&url, &[]), b.get(&url, &[]));
        assert_eq!((ra.status.as_u16(), rb.status.as_u16()), (200, 200), "round {round}");
        assert_eq!(ra.body, rb.body, "both nodes serve the same bytes");
    }
    let renders = a.app.renders.load(Ordering::Relaxed) + b.app.renders.load(Ordering::Relaxed);
    assert_eq!(renders, 1, "rendered once across both nodes");
    // The counter is visible to operators.
    let ready = a.get("/readyz", &[]).await.json();
    let ready_b = b.get("/readyz", &[]).await.json();
    assert_eq!(ready["node"]["renders"].as_u64().unwrap() + ready_b["node"]["renders"].as_u64().unwrap(), 1);
}

async fn chunks_of_one_upload_may_reach_different_nodes(a: &TestApp, b: &TestApp) {
    let whole: Vec<u8> = (0..30u8).collect();
    for (i, node) in [a, b, a].into_iter().enumerate() {
        let (s, e) = (i * 12, (i * 12 + 11).min(29));
        let (ct, body) = Multipart::signed(&[], T0, KEY, SECRET).file(Some(("big.bin", &whole[s..=e]))).finish();
        let req = axum::http::Request::post("/v1_1/demo/raw/upload")
            .header("content-type", ct)
            .header("x-unique-upload-id", "twonodes")
            .header("content-range", format!("bytes {s}-{e}/30"))
            .body(axum::body::Body::from(body))
            .unwrap();
        let r = node.call(req).await;
        assert_eq!(r.status, 200, "chunk {i}: {}", String::from_utf8_lossy(&r.body));
        if i == 2 {
            let url = r.json()["url"].as_str().unwrap().trim_start_matches("http://nimbus.test").to_owned();
            assert_eq!(b.get(&url, &[]).await.body, whole, "assembled from parts on both nodes");
        }
    }
    let left = a.app.blobs.list(nimbus_app::chunked::CHUNKS_PREFIX).await.unwrap();
    assert!(left.is_empty(), "parts removed once assembled: {left:?}");
}

/// Node-local delivery lookups expire within a second: an asset destroyed on one node stops
/// being served by another that had just served it.
async fn a_destroy_on_one_node_reaches_the_other_within_a_second(a: &TestApp, b: &TestApp) {
    let r = a.upload_api("image", "upload", &[("public_id", "n/gone")], Some(("g.png", &png(8, 8)))).await;
    assert_eq!(r.status, 200);
    let url = format!("/demo/image/upload/v{T0}/n/gone.png");
    assert_eq!(b.get(&url, &[]).await.status, 200, "served by the other node (and cached there)");
    let r = a.upload_api("image", "destroy", &[("public_id", "n/gone")], None).await;
    assert_eq!(r.json()["result"], "ok");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(b.get(&url, &[]).await.status, 404, "gone on the other node a second later");
}

/// API keys are read from the catalog on every call: a key revoked on one node is refused by
/// every node at once.
async fn a_key_revoked_on_one_node_is_refused_by_every_node(a: &TestApp, b: &TestApp) {
    assert_eq!(b.admin(Method::GET, "resources/image", None).await.status, 200);
    a.app.revoke_api_key(KEY).await.unwrap();
    let r = b.admin(Method::GET, "resources/image", None).await;
    assert_eq!(r.status, 401, "{}", r.error());
    assert_eq!(a.admin(Method::GET, "resources/image", None).await.status, 401);
}

/// Waits (up to 10 s) for `url` to answer `status` on `node`; true when it did.
async fn answers(node: &TestApp, url: &str, status: u16) -> bool {
    for _ in 0..200 {
        if node.get(url, &[]).await.status.as_u16() == status {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// On PostgreSQL, every write is announced to the other nodes as it commits: with delivery
/// lookups cached for ten minutes, an asset destroyed on one node and a key revoked on it stop
/// being served by the other node at once, and a job enqueued on one node wakes the other's
/// worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_the_other_nodes_caches_as_they_commit() {
    let Some(a) = TestApp::on(Db::Postgres, |c| c.delivery_cache_ttl_ms = 600_000).await else { return };
    let b = a.second_node().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let follower = b.app.clone();
    let following = tokio::spawn(async move {
        follower
            .follow_peer_writes(async {
                let _ = stopped.await;
            })
            .await;
    });
    let r = a.upload_api("image", "upload", &[("public_id", "f/gone")], Some(("g.png", &png(8, 8)))).await;
    assert_eq!(r.status, 200);
    let url = format!("/demo/image/upload/v{T0}/f/gone.png");
    assert_eq!(b.get(&url, &[]).await.status, 200, "served by the other node, and cached there");
    let r = a.upload_api("image", "destroy", &[("public_id", "f/gone")], None).await;
    assert_eq!(r.json()["result"], "ok");
    assert!(answers(&b, &url, 404).await, "the destroy reached the other node's cache");

    // A private asset's URL signed with a second key, served by b (which caches the key's
    // secret), then the key revoked on a.
    let r = a
        .upload_api("image", "upload", &[("public_id", "f/kept"), ("type", "private")], Some(("k.png", &png(8, 8))))
        .await;
    assert_eq!(r.status, 200);
    let second = a.app.create_api_key(CLOUD).await.unwrap();
    let sig = url_signature("f/kept.png", &second.api_secret, Algorithm::Sha1, false);
    let signed = format!("/demo/image/private/s--{sig}--/f/kept.png");
    assert!(answers(&b, &signed, 200).await, "a URL signed with the new key is served");
    a.app.revoke_api_key(&second.api_key).await.unwrap();
    assert!(answers(&b, &signed, 401).await, "the revoked key's signatures are refused by the other node");

    let _ = stop.send(());
    following.await.unwrap();
}

async fn on(db: Db) {
    let Some(a) = TestApp::on(db, |_| {}).await else { return };
    let b = a.second_node().await;
    a_derivative_asked_on_two_nodes_at_once_is_rendered_once(&a, &b).await;
    chunks_of_one_upload_may_reach_different_nodes(&a, &b).await;
    a_destroy_on_one_node_reaches_the_other_within_a_second(&a, &b).await;
    // Last: the test key is gone afterwards.
    a_key_revoked_on_one_node_is_refused_by_every_node(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_sqlite() {
    on(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres() {
    on(Db::Postgres).await;
}
