//! The job-queue conformance suite: the same checks on SQLite and on PostgreSQL, with time
//! passed in (no sleeps).

use nimbus_app::jobs::{Enqueued, Failure, JobFilter, JobQueue, JobState, NewJob};
use nimbus_db::SqlCatalog;
use nimbus_testkit::{ScratchDir, scratch_postgres};
use serde_json::json;

const LEASE: i64 = 30;

fn job(kind: &str, n: i64, run_at: i64) -> NewJob {
    NewJob::new(kind, None, json!({ "n": n }), run_at)
}

async fn suite(q: &SqlCatalog) {
    // Enqueue, idempotency keys.
    let a = q.enqueue(&job("k", 1, 100).key("a"), 100).await.unwrap();
    assert!(matches!(a, Enqueued::New(_)));
    assert_eq!(q.enqueue(&job("k", 99, 100).key("a"), 101).await.unwrap(), Enqueued::Duplicate(a.id()));
    let stored = q.job(a.id()).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.payload["n"].as_i64(), stored.attempts), (JobState::Queued, Some(1), 0));

    // Priorities first, then the oldest due; jobs not due yet stay.
    let low = q.enqueue(&job("k", 2, 90), 100).await.unwrap().id();
    let high = q.enqueue(&job("k", 3, 100).priority(5), 100).await.unwrap().id();
    let later = q.enqueue(&job("k", 4, 500), 100).await.unwrap().id();
    let got = q.claim("w1", 2, LEASE, 100).await.unwrap();
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![high, low]);
    assert!(got.iter().all(|j| j.state == JobState::Running && j.attempts == 1 && j.lease_until == Some(130)));
    let got = q.claim("w2", 10, LEASE, 100).await.unwrap();
    assert_eq!(
        got.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a.id()],
        "running jobs and future ones are not claimed"
    );

    // Only the lease holder finishes a job.
    assert!(!q.complete(high, "w2", 101).await.unwrap());
    assert!(q.complete(high, "w1", 101).await.unwrap());
    assert_eq!(q.job(high).await.unwrap().unwrap().state, JobState::Done);
    assert!(!q.complete(high, "w1", 102).await.unwrap(), "done once");

    // Heartbeats extend the lease; an expired lease is taken by another worker.
    assert!(q.heartbeat(low, "w1", LEASE, 120).await.unwrap());
    assert!(!q.heartbeat(low, "w2", LEASE, 120).await.unwrap());
    let at_140: Vec<i64> = q.claim("w2", 10, LEASE, 140).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(at_140, vec![a.id()], "low's lease was renewed until 150; a's expired at 130");
    let again = q.claim("w2", 10, LEASE, 151).await.unwrap();
    let ids: Vec<i64> = again.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![low]);
    let low_job = again.iter().find(|j| j.id == low).unwrap();
    assert_eq!((low_job.attempts, low_job.lease_owner.as_deref()), (2, Some("w2")));
    assert!(!q.complete(low, "w1", 152).await.unwrap(), "the first worker lost it");
    let attempts = q.job_attempts(low).await.unwrap();
    assert_eq!(attempts.iter().map(|a| a.outcome.as_deref()).collect::<Vec<_>>(), vec![Some("lost"), None]);

    // Failures: retried at the given time while attempts remain, then dead.
    assert_eq!(q.fail(low, "w2", "receiver down", Failure::RetryAt(200), 152).await.unwrap(), Some(JobState::Queued));
    let j = q.job(low).await.unwrap().unwrap();
    assert_eq!((j.state, j.run_at, j.last_error.as_deref()), (JobState::Queued, 200, Some("receiver down")));
    assert!(q.claim("w2", 10, LEASE, 199).await.unwrap().iter().all(|j| j.id != low));
    let two = q.enqueue(&job("k", 5, 100).attempts(2).key("two"), 100).await.unwrap().id();
    for (at, expect) in [(300, JobState::Queued), (400, JobState::Dead)] {
        let claimed = q.claim("w3", 10, LEASE, at).await.unwrap();
        assert!(claimed.iter().any(|j| j.id == two));
        assert_eq!(q.fail(two, "w3", "boom", Failure::RetryAt(at + 50), at).await.unwrap(), Some(expect));
        for j in claimed.iter().filter(|j| j.id != two) {
            q.complete(j.id, "w3", at).await.unwrap();
        }
    }
    assert_eq!(q.job_attempts(two).await.unwrap().len(), 2);
    // Abort: dead at once; a dead job can be queued again by hand, with a new budget.
    assert!(q.retry_job(two, 500).await.unwrap());
    let claimed = q.claim("w4", 10, LEASE, 500).await.unwrap();
    assert!(claimed.iter().any(|j| j.id == two && j.attempts == 3));
    assert_eq!(q.fail(two, "w4", "bad payload", Failure::Abort, 501).await.unwrap(), Some(JobState::Dead));
    assert!(!q.retry_job(later, 501).await.unwrap(), "only dead or cancelled jobs are retried");

    // A lease that expires on the last attempt makes the job dead, not claimed forever.
    let one = q.enqueue(&job("k", 6, 600).attempts(1), 600).await.unwrap().id();
    assert!(q.claim("w5", 10, LEASE, 600).await.unwrap().iter().any(|j| j.id == one));
    q.claim("w6", 10, LEASE, 700).await.unwrap();
    let j = q.job(one).await.unwrap().unwrap();
    assert_eq!(j.state, JobState::Dead, "{j:?}");

    // Cancel: queued or running only; a cancelled running job's worker loses it.
    assert!(q.cancel_job(later, 701).await.unwrap());
    assert!(!q.cancel_job(later, 702).await.unwrap());
    assert_eq!(q.job(later).await.unwrap().unwrap().state, JobState::Cancelled);

    // Listing and counts.
    let dead = q.list_jobs(&JobFilter { state: Some(JobState::Dead), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(dead.len(), 2);
    let all = q.list_jobs(&JobFilter { limit: 3, ..Default::default() }).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let next = q.list_jobs(&JobFilter { limit: 100, before: all.last().map(|j| j.id), ..Default::default() }).await;
    assert!(next.unwrap().iter().all(|j| j.id < all[2].id));
    let counts = q.job_counts(None).await.unwrap();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, q.list_jobs(&JobFilter { limit: 100, ..Default::default() }).await.unwrap().len() as i64);
}

/// Workers claiming at the same moment never take the same job.
async fn concurrent_claims(q: &SqlCatalog) {
    for n in 0..40 {
        q.enqueue(&job("c", n, 1000), 1000).await.unwrap();
    }
    let claims = (0..4).map(|w| {
        let q = q.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = q.claim(&format!("c{w}"), 3, LEASE, 1000).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().filter(|j| j.kind == "c").map(|j| j.id));
            }
        })
    });
    let mut all: Vec<i64> = Vec::new();
    for c in claims {
        all.extend(c.await.unwrap());
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!((n, all.len()), (40, 40), "every job claimed exactly once");
}

#[tokio::test]
async fn job_queue_on_sqlite() {
    let dir = ScratchDir::new("jobs");
    let q = SqlCatalog::connect(&format!("sqlite://{}", dir.path().join("c.db").display())).await.unwrap();
    suite(&q).await;
    concurrent_claims(&q).await;
}

#[tokio::test]
async fn job_queue_on_postgres() {
    let Some(url) = scratch_postgres().await else { return };
    let q = SqlCatalog::connect(&url).await.unwrap();
    suite(&q).await;
    concurrent_claims(&q).await;
}
