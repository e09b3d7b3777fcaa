//! Sign-in attempts per address, per node: at most [`MAX_ATTEMPTS`] in [`WINDOW_SECS`],
//! counted before any password is hashed. The lockout (five failures in a row) protects an
//! account; this bounds how fast anyone may try, with right or wrong passwords, and how much
//! hashing one address can cost. Kept in memory, by address, never logged.

use std::sync::{Arc, Mutex};

use moka::sync::Cache;

pub const MAX_ATTEMPTS: u32 = 10;
pub const WINDOW_SECS: i64 = 5 * 60;
/// Addresses remembered at once (the oldest are forgotten first).
const REMEMBERED: u64 = 100_000;

#[derive(Clone)]
pub struct AttemptLimiter {
    seen: Cache<String, Arc<Mutex<(i64, u32)>>>,
}

impl Default for AttemptLimiter {
    fn default() -> Self {
        Self { seen: Cache::builder().max_capacity(REMEMBERED).build() }
    }
}

impl AttemptLimiter {
    /// Counts an attempt for `key` at `now`; `Err(seconds)` until the window allows another.
    pub fn hit(&self, key: &str, now: i64) -> Result<(), i64> {
        let slot = self.seen.get_with(key.to_owned(), || Arc::new(Mutex::new((now, 0))));
        let mut s = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now - s.0 >= WINDOW_SECS {
            *s = (now, 0);
        }
        if s.1 >= MAX_ATTEMPTS {
            return Err(WINDOW_SECS - (now - s.0));
        }
        s.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ten_attempts_per_window() {
        let l = super::AttemptLimiter::default();
        for _ in 0..super::MAX_ATTEMPTS {
            assert!(l.hit("a@example.org", 1000).is_ok());
        }
        assert_eq!(l.hit("a@example.org", 1010), Err(290));
        assert!(l.hit("b@example.org", 1010).is_ok(), "per address");
        assert!(l.hit("a@example.org", 1300).is_ok(), "a new window");
    }
}
