//! Admin API rate limiting per environment and hour, reported in Cloudinary's
//! `X-FeatureRateLimit-*` headers. Counters live in each node's memory: with several nodes
//! the limit applies per node (a cache of a policy, not data that must survive).

use std::collections::HashMap;
use std::sync::Mutex;

/// What one call left of the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset_at: i64,
    pub allowed: bool,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    windows: Mutex<HashMap<i64, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32) -> Self {
        Self { limit, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one call of environment `env` at `now`.
    pub fn hit(&self, env: i64, now: i64) -> Budget {
        let window = now - now.rem_euclid(3600);
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(env).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < self.limit;
        if allowed {
            entry.1 += 1;
        }
        Budget { limit: self.limit, remaining: self.limit - entry.1, reset_at: window + 3600, allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_env_and_window() {
        let r = RateLimiter::new(2);
        assert_eq!(r.hit(1, 7200).remaining, 1);
        assert_eq!(r.hit(1, 7201).remaining, 0);
        assert!(!r.hit(1, 7202).allowed);
        assert!(r.hit(2, 7202).allowed);
        let b = r.hit(1, 10800);
        assert!(b.allowed && b.reset_at == 14400);
    }
}
