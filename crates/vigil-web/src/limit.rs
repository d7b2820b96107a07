//! How many referrals one account may send in a minute.
//!
//! A person raising concerns one after another sends a few a minute at
//! most; a script (or a stolen session) sent a hundred in under a second.
//! [`REFERRALS_PER_MINUTE`] is far above the first and far below the second.
//! The window slides (the last 60 seconds, not the current clock minute), is
//! counted per account, and is kept in this server's memory: with several
//! servers each counts its own, which still bounds a flood.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use uuid::Uuid;

/// Referrals one account may send in any 60 seconds.
pub const REFERRALS_PER_MINUTE: usize = 30;

/// A sliding-window count of what each account did.
pub struct SlidingWindow {
    limit: usize,
    window_ms: i64,
    seen: Mutex<HashMap<Uuid, VecDeque<i64>>>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window_ms: i64) -> SlidingWindow {
        SlidingWindow {
            limit,
            window_ms,
            seen: Mutex::default(),
        }
    }

    /// Counts one more for `account` at `now_ms` if it is within the limit;
    /// false (and nothing counted) if the account is at the limit.
    pub fn try_take(&self, account: Uuid, now_ms: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let since = now_ms - self.window_ms;
        // Forget accounts whose window has emptied, so memory follows use.
        if seen.len() > 1024 {
            seen.retain(|_, times| times.back().is_some_and(|t| *t > since));
        }
        let times = seen.entry(account).or_default();
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            return false;
        }
        times.push_back(now_ms);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_is_per_account() {
        let w = SlidingWindow::new(3, 60_000);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(w.try_take(a, 0) && w.try_take(a, 10_000) && w.try_take(a, 20_000));
        assert!(!w.try_take(a, 59_999), "three in the last minute");
        assert!(w.try_take(b, 59_999), "another account is not held back");
        assert!(w.try_take(a, 60_000), "the first has left the window");
        assert!(!w.try_take(a, 60_001));
    }
}
