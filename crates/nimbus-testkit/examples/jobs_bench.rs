//! The job queue and webhooks, measured in one process on a real catalog (run by
//! `bench/jobs.sh`):
//!
//! - jobs per second: N no-op jobs (blob deletions with nothing to delete) enqueued one per
//!   transaction, then run by one worker (4 at a time): claim, heartbeat task, complete;
//! - webhook latency: M uploads with a `notification_url`, one after another, with the worker
//!   running as in `nimbus serve`; the time from each upload's answer (its write committed) to
//!   the loopback receiver getting the notification, p50 and p99.
//!
//! Usage: `jobs_bench sqlite|postgres [JOBS] [UPLOADS]`; prints one JSON line.

#![allow(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use nimbus_app::jobs::NewJob;
use nimbus_testkit::{Db, TestApp, png};
use serde_json::{Value, json};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let db = match args.get(1).map(String::as_str) {
        Some("postgres") => Db::Postgres,
        _ => Db::Sqlite,
    };
    let jobs: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let uploads: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(200);
    let t = TestApp::on(db, |c| c.remote_allowlist = vec!["127.0.0.1".into()]).await.expect("database");

    // Jobs per second.
    let started = Instant::now();
    for i in 0..jobs {
        let j = NewJob::new(nimbus_app::jobs::BLOB_DELETE, None, json!({ "keys": [], "n": i }), 0);
        t.app.catalog.enqueue(&j, 0).await.expect("enqueue");
    }
    let enqueue_secs = started.elapsed().as_secs_f64();
    let worker = t.worker("bench");
    let started = Instant::now();
    let ran = worker.run_once().await.expect("run");
    let run_secs = started.elapsed().as_secs_f64();
    assert_eq!(ran, jobs);

    // Webhook latency.
    let arrivals: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = arrivals.clone();
    let receiver = axum::Router::new().fallback(move |body: Bytes| {
        let seen = seen.clone();
        async move {
            let at = Instant::now();
            if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                if let Some(id) = v["public_id"].as_str() {
                    seen.lock().unwrap().entry(id.to_owned()).or_insert(at);
                }
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(t.worker("bench-live").run(async {
        let _ = stopped.await;
    }));
    let image = png(8, 8);
    let mut committed = HashMap::new();
    for i in 0..uploads {
        let id = format!("w/{i}");
        let r = t
            .upload_api("image", "upload", &[("public_id", &id), ("notification_url", &hook)], Some(("a.png", &image)))
            .await;
        assert_eq!(r.status, 200);
        committed.insert(id, Instant::now());
        // One at a time, a little apart, as independent writes.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap().len() < uploads && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    let _ = running.await;
    let got = arrivals.lock().unwrap().clone();
    let mut ms: Vec<f64> = committed
        .iter()
        .filter_map(|(id, at)| got.get(id).map(|a| a.saturating_duration_since(*at).as_secs_f64() * 1000.0))
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "db": if db == Db::Postgres { "postgres" } else { "sqlite" },
            "jobs": jobs,
            "enqueue_per_sec": (jobs as f64 / enqueue_secs).round(),
            "jobs_per_sec": (jobs as f64 / run_secs).round(),
            "webhooks": ms.len(),
            "webhook_p50_ms": (percentile(&ms, 0.5) * 10.0).round() / 10.0,
            "webhook_p99_ms": (percentile(&ms, 0.99) * 10.0).round() / 10.0,
        })
    );
}
