//! Sign-in attempts per node, counted before any password is hashed: at most
//! [`MAX_ATTEMPTS`] per e-mail address and [`MAX_CLIENT_ATTEMPTS`] per client IP address in
//! [`WINDOW_SECS`]. The lockout (five failures in a row) protects an account; the first bound
//! limits how fast anyone may try one address and how much hashing it can cost, the second
//! how many accounts one client may try (password spraying) and how many reset mails it may
//! have sent. Kept in memory for the window only, never logged.

use std::sync::{Arc, Mutex};

use moka::sync::Cache;

pub const MAX_ATTEMPTS: u32 = 10;
/// Higher than per address: several people may share one address (an office's NAT).
pub const MAX_CLIENT_ATTEMPTS: u32 = 30;
pub const WINDOW_SECS: i64 = 5 * 60;
/// Addresses remembered at once (the oldest are forgotten first).
const REMEMBERED: u64 = 100_000;
const WINDOW: std::time::Duration = std::time::Duration::from_secs(WINDOW_SECS as u64);

#[derive(Clone)]
pub struct AttemptLimiter {
    seen: Cache<String, Arc<Mutex<(i64, u32)>>>,
    max: u32,
}

impl AttemptLimiter {
    /// At most `max` attempts per key and window.
    pub fn new(max: u32) -> Self {
        Self { seen: Cache::builder().max_capacity(REMEMBERED).time_to_live(WINDOW).build(), max }
    }

    /// Counts an attempt for `key` at `now`; `Err(seconds)` until the window allows another.
    pub fn hit(&self, key: &str, now: i64) -> Result<(), i64> {
        let slot = self.seen.get_with(key.to_owned(), || Arc::new(Mutex::new((now, 0))));
        let mut s = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now - s.0 >= WINDOW_SECS {
            *s = (now, 0);
        }
        if s.1 >= self.max {
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
        let l = super::AttemptLimiter::new(super::MAX_ATTEMPTS);
        for _ in 0..super::MAX_ATTEMPTS {
            assert!(l.hit("a@example.org", 1000).is_ok());
        }
        assert_eq!(l.hit("a@example.org", 1010), Err(290));
        assert!(l.hit("b@example.org", 1010).is_ok(), "per address");
        assert!(l.hit("a@example.org", 1300).is_ok(), "a new window");
    }
}
