//! The CPU pool: the one place blocking work leaves the async threads. At most `threads` jobs
//! run at once and at most `queue` more wait; beyond that callers get a "busy" error at once
//! instead of piling up. A panicking job becomes an error, not a crash.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::AppError;

#[derive(Clone)]
pub struct CpuPool {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
}

impl CpuPool {
    pub fn new(threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        Self { running: Arc::new(Semaphore::new(threads)), admitted: Arc::new(Semaphore::new(threads + queue)) }
    }

    /// Runs `job` on a blocking thread once a slot is free.
    pub async fn run<T, F>(&self, job: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _admitted = self.admitted.clone().try_acquire_owned().map_err(|_| AppError::Busy)?;
        let _running = self.running.clone().acquire_owned().await.map_err(|_| AppError::Cpu("pool closed"))?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(job)).await.map_err(|_| AppError::Cpu("job panicked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_panics() {
        let pool = CpuPool::new(1, 1);
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
        let err = pool.run(|| -> u8 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(err, AppError::Cpu("job panicked")));
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn refuses_work_beyond_the_queue() {
        let pool = CpuPool::new(1, 0);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let busy = pool.clone();
        let running = tokio::spawn(async move { busy.run(move || rx.recv().is_ok()).await });
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|| ()).await, Err(AppError::Busy)));
        tx.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert_eq!(pool.run(|| 7).await.unwrap(), 7, "free again");
    }
}
