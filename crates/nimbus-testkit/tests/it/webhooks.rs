//! Webhooks: events recorded with each write, relayed into delivery jobs, POSTed signed as
//! Cloudinary signs them to a real HTTP receiver, retried with backoff while it fails.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use nimbus_app::events::ConfigChange;
use nimbus_app::history::Pruned;
use nimbus_app::jobs::{JobFilter, JobQueue, JobState, NewJob};
use nimbus_app::ports::Clock as _;
use nimbus_app::ports::Outbox as _;
use nimbus_core::signature::{Algorithm, notification_signature};
use nimbus_testkit::{CLOUD, Db, KEY, Multipart, SECRET, T0, TestApp, photo_jpeg, png};
use serde_json::{Value, json};

/// A webhook receiver on a loopback port: records every request, answers `status`.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let (g, s) = (g.clone(), s.clone());
            async move {
                g.lock().unwrap().push((headers, body));
                StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}/hook"), got, status }
    }

    /// The bodies received so far, each checked against its signature.
    fn bodies(&self) -> Vec<Value> {
        let got = self.got.lock().unwrap();
        got.iter()
            .map(|(h, body)| {
                let ts: i64 = h["x-cld-timestamp"].to_str().unwrap().parse().unwrap();
                let sig = h["x-cld-signature"].to_str().unwrap();
                assert_eq!(sig, notification_signature(body, ts, SECRET, Algorithm::Sha1), "signature");
                assert_eq!(h["content-type"], "application/json");
                serde_json::from_slice(body).unwrap()
            })
            .collect()
    }
}

async fn app(db: Db) -> Option<TestApp> {
    TestApp::on(db, |c| c.remote_allowlist = vec!["127.0.0.1".into()]).await
}

async fn notifications_for_every_write(t: &TestApp) {
    let hook = Receiver::start().await;
    let w = t.worker("w");
    let url = hook.url.as_str();
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "h/one"), ("notification_url", url)],
            Some(("a.png", &png(8, 8))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(w.run_once().await.unwrap(), 1);
    let b = hook.bodies();
    assert_eq!(b.len(), 1);
    let up = &b[0];
    assert_eq!((up["notification_type"].as_str(), up["public_id"].as_str()), (Some("upload"), Some("h/one")));
    assert_eq!(up["asset_id"], r.json()["asset_id"]);
    assert_eq!((up["api_key"].as_str(), up["signature_key"].as_str()), (Some(KEY), Some(KEY)));
    assert!(up["timestamp"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(up["request_id"].as_str().unwrap().len(), 32);

    // Tags, context, metadata-free update, rename, destroy: each announced once.
    let ok = |r: nimbus_testkit::TestResponse| assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // On tags and context, notification_url is sent outside the signature, as the SDKs do.
    for (action, fields) in [
        ("tags", [("command", "add"), ("tag", "red"), ("public_ids", "h/one")]),
        ("context", [("command", "add"), ("context", "alt=x"), ("public_ids", "h/one")]),
    ] {
        let mp = Multipart::signed(&fields, t.clock.now(), KEY, SECRET).unsigned_field("notification_url", url);
        ok(t.post_multipart(&format!("/v1_1/{CLOUD}/image/{action}"), mp).await);
    }
    ok(t.upload_api(
        "image",
        "rename",
        &[("from_public_id", "h/one"), ("to_public_id", "h/two"), ("notification_url", url)],
        None,
    )
    .await);
    ok(t.upload_api("image", "destroy", &[("public_id", "h/two"), ("notification_url", url)], None).await);
    // Without notification_url: nothing is sent.
    ok(t.upload_api("image", "upload", &[("public_id", "h/quiet")], Some(("a.png", &png(8, 8)))).await);
    w.run_once().await.unwrap();
    // Deliveries run side by side: in any order, each once.
    let b = hook.bodies();
    let mut kinds: Vec<&str> = b.iter().map(|v| v["notification_type"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["delete", "rename", "resource_context_changed", "resource_tags_changed", "upload"]);
    let of = |kind: &str| b.iter().find(|v| v["notification_type"] == kind).unwrap().clone();
    assert_eq!(of("resource_tags_changed")["resources"][0]["added"], json!(["red"]));
    assert_eq!(of("resource_tags_changed")["resources"][0]["public_id"], "h/one");
    assert_eq!(of("resource_context_changed")["resources"]["h/one"]["added"], json!([{"name": "alt", "value": "x"}]));
    let rename = of("rename");
    assert_eq!((rename["from_public_id"].as_str(), rename["to_public_id"].as_str()), (Some("h/one"), Some("h/two")));
    assert_eq!(of("delete")["resources"][0]["public_id"], "h/two");
    // Every event of the environment is in the outbox, relayed.
    let events = t.catalog.pending_events(100).await.unwrap();
    assert!(events.is_empty(), "all relayed: {events:?}");
}

async fn failed_deliveries_are_retried(t: &TestApp) {
    let hook = Receiver::start().await;
    hook.status.store(503, Ordering::SeqCst);
    let w = t.worker("w");
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "r/one"), ("notification_url", &hook.url)],
            Some(("a.png", &png(8, 8))),
        )
        .await;
    assert_eq!(r.status, 200);
    w.run_once().await.unwrap();
    let jobs = t.catalog.list_jobs(&JobFilter { kind: Some("webhook".into()), limit: 10, ..Default::default() }).await;
    let job = jobs.unwrap().into_iter().next().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1));
    assert!(job.run_at > t.clock.now() && job.run_at <= t.clock.now() + 30, "first retry within 30 s: {}", job.run_at);
    assert_eq!(job.last_error.as_deref(), Some("the receiver answered HTTP 503"));
    // Not due yet: nothing runs.
    assert_eq!(w.run_once().await.unwrap(), 0);
    hook.status.store(200, Ordering::SeqCst);
    t.clock.advance(31);
    assert_eq!(w.run_once().await.unwrap(), 1);
    let done = t.catalog.job(job.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    let got = hook.bodies();
    assert_eq!(got.len(), 2, "the same notification twice (at least once)");
    assert_eq!(got[0], got[1]);
    // The attempts are visible through the Admin API.
    let v = t.admin(Method::GET, &format!("jobs/{}", job.id), None).await.json();
    assert_eq!(v["state"], "done");
    let log: Vec<&str> = v["attempts_log"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(log, ["retry", "done"]);
    // A day of failures ends in the dead state.
    hook.status.store(500, Ordering::SeqCst);
    t.upload_api(
        "image",
        "upload",
        &[("public_id", "r/two"), ("notification_url", &hook.url)],
        Some(("a.png", &png(8, 8))),
    )
    .await;
    w.run_once().await.unwrap();
    t.clock.advance(24 * 3600 + 1);
    w.run_once().await.unwrap();
    let dead = t.admin(Method::GET, "jobs?state=dead", None).await.json();
    assert_eq!(dead["jobs"].as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead["jobs"][0]["last_error"], "not delivered within 24 hours");
}

async fn triggers_announce_every_event_of_their_type(t: &TestApp) {
    let hook = Receiver::start().await;
    let all = Receiver::start().await;
    let w = t.worker("w");
    let r = t.admin(Method::POST, "triggers", Some(json!({"uri": hook.url, "event_type": "upload"}))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    assert_eq!((created["event_type"].as_str(), created["uri_type"].as_str()), (Some("upload"), Some("webhook")));
    let id = created["id"].as_str().unwrap().to_owned();
    let dup = t.admin(Method::POST, "triggers", Some(json!({"uri": hook.url, "event_type": "upload"}))).await;
    assert_eq!(dup.status, 409);
    t.admin(Method::POST, "triggers", Some(json!({"uri": all.url, "event_type": "all"}))).await;
    for bad in
        [json!({"uri": "http://10.1.2.3/x", "event_type": "upload"}), json!({"uri": hook.url, "event_type": "nope"})]
    {
        assert_eq!(t.admin(Method::POST, "triggers", Some(bad)).await.status, 400);
    }
    let unsent = t.admin(Method::POST, "triggers", Some(json!({"uri": hook.url, "event_type": "moderation"}))).await;
    assert_eq!((unsent.status.as_u16(), unsent.error().contains("event_type=moderation")), (400, true));
    let list = t.admin(Method::GET, "triggers", None).await.json();
    assert_eq!(list["total"], 2);
    assert_eq!(t.admin(Method::GET, "triggers?event_type=upload", None).await.json()["total"], 1);

    t.upload_api("image", "upload", &[("public_id", "t/one")], Some(("a.png", &png(8, 8)))).await;
    t.upload_api("image", "destroy", &[("public_id", "t/one")], None).await;
    w.run_once().await.unwrap();
    assert_eq!(hook.bodies().iter().map(|b| b["notification_type"].clone()).collect::<Vec<_>>(), [json!("upload")]);
    assert_eq!(all.bodies().len(), 2, "upload and delete");

    // Moved, then deleted: later events go to the new place, then nowhere.
    let moved = Receiver::start().await;
    let r = t.admin(Method::PUT, &format!("triggers/{id}"), Some(json!({"new_uri": moved.url}))).await;
    assert_eq!(r.json(), json!({"message": "ok"}));
    t.upload_api("image", "upload", &[("public_id", "t/two")], Some(("a.png", &png(8, 8)))).await;
    w.run_once().await.unwrap();
    assert_eq!((hook.bodies().len(), moved.bodies().len()), (1, 1));
    assert_eq!(t.admin(Method::DELETE, &format!("triggers/{id}"), None).await.status, 200);
    assert_eq!(t.admin(Method::DELETE, &format!("triggers/{id}"), None).await.status, 404);
}

async fn eager_async_runs_as_a_job_and_is_announced(t: &TestApp) {
    let hook = Receiver::start().await;
    let w = t.worker("w");
    let r = t
        .upload_api(
            "image",
            "upload",
            &[
                ("public_id", "e/one"),
                ("eager", "c_scale,w_4"),
                ("eager_async", "true"),
                ("eager_notification_url", &hook.url),
            ],
            Some(("a.jpg", &photo_jpeg(16, 16))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["eager"][0]["status"], "processing");
    let queued = t.catalog.list_jobs(&JobFilter { kind: Some("eager".into()), limit: 5, ..Default::default() }).await;
    assert_eq!(queued.unwrap().len(), 1, "enqueued with the upload");
    w.run_once().await.unwrap();
    let b = hook.bodies();
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!((b[0]["notification_type"].as_str(), b[0]["public_id"].as_str()), (Some("eager"), Some("e/one")));
    assert_eq!(
        (b[0]["eager"][0]["width"].as_i64(), b[0]["eager"][0]["transformation"].as_str()),
        (Some(4), Some("c_scale,w_4"))
    );
    let derived = t.admin(Method::GET, "resources/image/upload/e/one", None).await.json();
    assert_eq!(derived["derived"].as_array().unwrap().len(), 1);
}

/// A node killed between storing an eager derivative's blob and listing it leaves the blob
/// only; the job's next attempt finds the blob and lists it.
async fn eager_retry_lists_a_blob_left_unlisted(t: &TestApp) {
    use sqlx::Connection as _;
    let w = t.worker("w");
    let fields = [("public_id", "e/two"), ("eager", "c_scale,w_4"), ("eager_async", "true")];
    let r = t.upload_api("image", "upload", &fields, Some(("a.jpg", &photo_jpeg(16, 16)))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The same derivative, rendered by a delivery: blob and row; then the row goes.
    let d = t.get(&format!("/demo/image/upload/c_scale,w_4/v{}/e/two.jpg", r.json()["version"]), &[]).await;
    assert_eq!(d.status, 200);
    let listed =
        || async { t.admin(Method::GET, "resources/image/upload/e/two", None).await.json()["derived"].clone() };
    assert_eq!(listed().await.as_array().map(Vec::len), Some(1));
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    sqlx::query("DELETE FROM derived_assets").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    assert_eq!(listed().await.as_array().map(Vec::len), Some(0));
    w.run_once().await.unwrap();
    let derived = listed().await;
    assert_eq!(derived.as_array().map(Vec::len), Some(1), "{derived}");
    assert_eq!(derived[0]["transformation"], "c_scale,w_4");
}

async fn unreferenced_bytes_go_by_a_job(t: &TestApp) {
    let w = t.worker("w");
    let r = t.upload_api("image", "upload", &[("public_id", "g/one")], Some(("a.jpg", &photo_jpeg(40, 30)))).await;
    let v1 = r.json();
    let d = t.get(&format!("/demo/image/upload/c_scale,w_10/v{}/g/one.jpg", v1["version"]), &[]).await;
    assert_eq!(d.status, 200);
    let blobs = |prefix: &'static str| async move { t.app.blobs.list(prefix).await.unwrap().len() };
    let (originals, derived) = (blobs("originals/").await, blobs("derived/").await);
    // Overwritten: the old version's original and derivative go once the job ran.
    t.clock.advance(1);
    t.upload_api("image", "upload", &[("public_id", "g/one")], Some(("b.jpg", &photo_jpeg(41, 30)))).await;
    assert_eq!(blobs("originals/").await, originals + 1, "kept until the job runs");
    w.run_once().await.unwrap();
    assert_eq!((blobs("originals/").await, blobs("derived/").await), (originals, derived - 1));
    // Destroyed: its original goes too.
    t.upload_api("image", "destroy", &[("public_id", "g/one")], None).await;
    w.run_once().await.unwrap();
    assert_eq!(blobs("originals/").await, originals - 1);
}

/// The outbox names who acted, for every kind of write (the audit trail reads it).
async fn events_name_who_acted(t: &TestApp) {
    let env = t.app.environment(nimbus_testkit::CLOUD).await.unwrap().id;
    t.upload_api("image", "upload", &[("public_id", "who/one")], Some(("a.png", &png(4, 4)))).await;
    let field = json!({"type": "string", "external_id": "who_f", "label": "Who"});
    assert_eq!(t.admin(Method::POST, "metadata_fields", Some(field)).await.status, 200);
    let events = t.catalog.events(env, None, 10).await.unwrap();
    let kinds: Vec<(&str, &str)> = events.iter().map(|e| (e.event.kind(), e.actor.as_str())).collect();
    let key = format!("key:{KEY}");
    assert!(kinds.contains(&("schema_changed", key.as_str())), "{kinds:?}");
    assert!(kinds.contains(&("uploaded", key.as_str())), "{kinds:?}");
    // Settings too: presets, named transformations, folders, keys.
    let preset = t.admin(Method::POST, "upload_presets", Some(json!({"name": "who_p", "tags": "a"}))).await;
    assert_eq!(preset.status, 200, "{}", preset.error());
    let named =
        t.admin(Method::POST, "transformations", Some(json!({"name": "who_t", "transformation": "c_fill,w_10"}))).await;
    assert_eq!(named.status, 200, "{}", named.error());
    assert_eq!(t.admin(Method::POST, "folders/who/sub", None).await.status, 200);
    assert_eq!(t.admin(Method::DELETE, "upload_presets/who_p", None).await.status, 200);
    let second = t.app.create_api_key(CLOUD).await.unwrap();
    t.app.revoke_api_key(&second.api_key).await.unwrap();
    let events = t.catalog.events(env, None, 50).await.unwrap();
    let kinds: Vec<(&str, &str)> = events.iter().map(|e| (e.event.kind(), e.actor.as_str())).collect();
    for expected in [
        ("preset_created", key.as_str()),
        ("preset_deleted", key.as_str()),
        ("transformation_created", key.as_str()),
        ("folder_created", key.as_str()),
        ("key_created", "system"),
        ("key_revoked", "system"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    let folders: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            nimbus_app::events::Event::Configured { change: ConfigChange::FolderCreated(f) } => Some(f.as_str()),
            _ => None,
        })
        .filter(|f| f.starts_with("who"))
        .collect();
    assert_eq!(folders, ["who/sub", "who"], "the folder and its new parent, newest first");
    let schema = events.iter().find(|e| e.event.kind() == "schema_changed").unwrap();
    assert!(
        matches!(&schema.event, nimbus_app::events::Event::SchemaChanged { changed, .. }
            if changed == &[nimbus_app::events::SchemaItem::PutField("who_f".into())]),
        "{schema:?}"
    );
}

/// Another environment's key reaches neither this environment's triggers nor its jobs.
async fn other_environments_see_no_triggers_or_jobs(t: &TestApp) {
    let hook = Receiver::start().await;
    let created =
        t.admin(Method::POST, "triggers", Some(json!({"uri": hook.url, "event_type": "upload"}))).await.json();
    let trigger = created["id"].as_str().unwrap().to_owned();
    t.upload_api(
        "image",
        "upload",
        &[("public_id", "iso/one"), ("notification_url", &hook.url)],
        Some(("a.png", &png(4, 4))),
    )
    .await;
    t.worker("w").run_once().await.unwrap();
    let jobs = t.admin(Method::GET, "jobs", None).await.json();
    let job = jobs["jobs"][0]["id"].as_i64().unwrap();
    let (_, other) = t.app.create_environment("other", None).await.unwrap();
    let (ok, os) = (other.api_key.as_str(), other.api_secret.as_str());
    let as_other = |m: Method, path: String, body: Option<Value>| async move {
        t.admin_as(ok, os, m, &format!("/v1_1/other/{path}"), body).await
    };
    assert_eq!(as_other(Method::GET, "triggers".into(), None).await.json()["total"], 0);
    let moved =
        as_other(Method::PUT, format!("triggers/{trigger}"), Some(json!({"new_uri": "http://example.com/x"}))).await;
    assert_eq!(moved.status, 404);
    assert_eq!(as_other(Method::DELETE, format!("triggers/{trigger}"), None).await.status, 404);
    assert_eq!(as_other(Method::GET, "jobs".into(), None).await.json()["jobs"], json!([]));
    for path in [format!("jobs/{job}"), format!("jobs/{job}/retry"), format!("jobs/{job}/cancel")] {
        let m = if path.ends_with(&job.to_string()) { Method::GET } else { Method::POST };
        assert_eq!(as_other(m, path.clone(), None).await.status, 404, "{path}");
    }
    assert_eq!(t.admin(Method::GET, "triggers", None).await.json()["total"], 1, "untouched");
    assert_eq!(t.admin(Method::GET, &format!("jobs/{job}"), None).await.status, 200);
}

async fn refused_targets(t: &TestApp) {
    let long = format!("https://example.com/{}", "a".repeat(3000));
    for (url, status) in [
        ("http://10.0.0.1/x", 400),
        ("ftp://example.com/x", 400),
        ("not a url", 400),
        ("http://[::1]/x", 400),
        ("http://169.254.169.254/latest", 400),
        (long.as_str(), 400),
    ] {
        let r = t
            .upload_api(
                "image",
                "upload",
                &[("public_id", "x"), ("notification_url", url)],
                Some(("a.png", &png(8, 8))),
            )
            .await;
        assert_eq!(r.status, status, "{url}: {}", String::from_utf8_lossy(&r.body));
    }
}

/// Relayed events and finished jobs go once past their retention; events not yet relayed
/// and jobs still queued stay, whatever their age.
async fn finished_history_is_pruned(t: &TestApp) {
    let env = t.app.environment(nimbus_testkit::CLOUD).await.unwrap().id;
    let hook = Receiver::start().await;
    let up = |id: &'static str| {
        let url = hook.url.clone();
        async move {
            let r = t
                .upload_api(
                    "image",
                    "upload",
                    &[("public_id", id), ("notification_url", &url)],
                    Some(("a.png", &png(4, 4))),
                )
                .await;
            assert_eq!(r.status, 200);
        }
    };
    up("h/old").await;
    t.worker("w").run_once().await.unwrap();
    let delivered = t.app.list_jobs(Some(env), None, None, None, 100).await.unwrap();
    assert!(delivered.iter().any(|j| j.state == JobState::Done), "{delivered:?}");
    // A job that will still be queued, and an event not relayed yet.
    let queued = t
        .app
        .catalog
        .enqueue(&NewJob::new("webhook", Some(env), json!({}), t.app.now() + 100 * 86_400), t.app.now())
        .await
        .unwrap()
        .id();
    assert_eq!(t.app.prune_history().await.unwrap(), Pruned::default(), "nothing is old yet");

    t.clock.advance(t.app.config.retention.jobs_secs + 1);
    up("h/new").await;
    let pruned = t.app.prune_history().await.unwrap();
    assert_eq!(pruned.events, 0, "events are kept longer than jobs");
    assert!(pruned.jobs >= 1, "{pruned:?}");
    let jobs = t.app.list_jobs(Some(env), None, None, None, 100).await.unwrap();
    assert!(jobs.iter().all(|j| !matches!(j.state, JobState::Done | JobState::Dead | JobState::Cancelled)), "{jobs:?}");
    assert!(jobs.iter().any(|j| j.id == queued), "a queued job stays");

    t.clock.advance(t.app.config.retention.events_secs);
    let pruned = t.app.prune_history().await.unwrap();
    assert!(pruned.events >= 1, "{pruned:?}");
    let events = t.catalog.events(env, None, 100).await.unwrap();
    assert!(!events.is_empty(), "the event of h/new was never relayed: kept");
    assert!(events.iter().all(|e| e.created_at > T0), "the relayed ones are gone: {events:?}");
}

async fn all_on(db: Db) {
    let Some(t) = app(db).await else { return };
    notifications_for_every_write(&t).await;
    refused_targets(&t).await;
    unreferenced_bytes_go_by_a_job(&t).await;
    events_name_who_acted(&t).await;
    let Some(t) = app(db).await else { return };
    failed_deliveries_are_retried(&t).await;
    let Some(t) = app(db).await else { return };
    triggers_announce_every_event_of_their_type(&t).await;
    let Some(t) = app(db).await else { return };
    eager_async_runs_as_a_job_and_is_announced(&t).await;
    eager_retry_lists_a_blob_left_unlisted(&t).await;
    let Some(t) = app(db).await else { return };
    other_environments_see_no_triggers_or_jobs(&t).await;
    let Some(t) = app(db).await else { return };
    finished_history_is_pruned(&t).await;
}

#[tokio::test]
async fn webhooks_on_sqlite() {
    all_on(Db::Sqlite).await;
}

#[tokio::test]
async fn webhooks_on_postgres() {
    all_on(Db::Postgres).await;
}
