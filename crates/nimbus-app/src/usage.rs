//! Usage per environment and day: deliveries and derivatives rendered are counted in memory
//! on each node and added to the catalog's daily rows by [`App::flush_usage`] (every minute,
//! and at shutdown), with the bytes stored at that moment. Counts only: nothing about who
//! asked. A node that dies loses at most its last minute of counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::App;
use crate::error::AppResult;
use crate::ports::UsageDay;

pub use nimbus_core::timefmt::day_of;

/// Deliveries and renders of one environment on one day.
type Counts = HashMap<(i64, i64), (i64, i64)>;

/// This node's counts since the last flush, by environment and day.
#[derive(Clone, Default)]
pub struct UsageMeter {
    counts: Arc<Mutex<Counts>>,
}

impl UsageMeter {
    fn add(&self, env: i64, day: i64, requests: i64, renders: i64) {
        let mut c = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = c.entry((env, day)).or_default();
        e.0 += requests;
        e.1 += renders;
    }

    fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl App {
    /// One delivery served in `cloud` (whether the lookup came from the node's cache or not),
    /// and the visit delivery analytics may count.
    pub async fn count_delivery(&self, cloud: &str, visit: Option<crate::analytics::Visit<'_>>) {
        if let Ok(Some(entry)) = self.delivery_env(cloud).await {
            self.usage.add(entry.env.id, day_of(self.now()), 1, 0);
            if let Some(v) = visit
                && let Err(e) = self.count_view(entry.env.id, &v).await
            {
                tracing::warn!(error = %e, "a delivery view was not counted");
            }
        }
    }

    /// One derivative rendered.
    pub fn count_render(&self, env: i64) {
        self.usage.add(env, day_of(self.now()), 0, 1);
    }

    /// Adds this node's counts to the catalog. Counts that fail to be written are kept for the
    /// next flush.
    pub async fn flush_usage(&self) -> AppResult<()> {
        let analytics = self.flush_analytics().await;
        let counts = self.usage.take();
        let mut failed = None;
        for ((env, day), (requests, renders)) in counts {
            let bytes = match self.catalog.usage(env).await {
                Ok(u) => u.bytes,
                Err(e) => {
                    self.usage.add(env, day, requests, renders);
                    failed = Some(e);
                    continue;
                }
            };
            if let Err(e) = self.catalog.add_usage(env, day, requests, renders, bytes).await {
                self.usage.add(env, day, requests, renders);
                failed = Some(e);
            }
        }
        match failed {
            Some(e) => Err(e.into()),
            None => analytics,
        }
    }

    /// The last `days` days of an environment, one row per day (zeros where nothing was
    /// counted), oldest first.
    pub async fn usage_history(&self, env: i64, days: i64) -> AppResult<Vec<UsageDay>> {
        let today = day_of(self.now());
        let from = today - days + 1;
        let rows = self.catalog.usage_days(env, from, today).await?;
        Ok((from..=today)
            .map(|d| rows.iter().find(|r| r.day == d).copied().unwrap_or(UsageDay { day: d, ..UsageDay::default() }))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_utc_days() {
        assert_eq!(super::day_of(0), 0);
        assert_eq!(super::day_of(86_399), 0);
        assert_eq!(super::day_of(86_400), 1);
        assert_eq!(super::day_of(-1), -1);
    }
}
