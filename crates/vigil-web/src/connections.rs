//! The bound on open connections, and who gives way when it is reached.
//!
//! Every accepted connection holds a slot. When all are taken, a new
//! connection closes the oldest one with no request under way: a
//! connection that has not finished its headers (or sits idle between
//! requests) costs a descriptor and does no work, while a new one may be
//! `/healthz` or a person. If every connection has a request under way,
//! the new one is closed instead.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One connection's state, shared with its task and its requests.
#[derive(Default)]
pub struct Conn {
    requests: AtomicUsize,
    evict: Notify,
}

#[derive(Default)]
struct Open {
    next: u64,
    /// By age: the smallest id is the oldest.
    conns: BTreeMap<u64, Arc<Conn>>,
}

pub struct Connections {
    max: usize,
    open: Arc<Mutex<Open>>,
}

impl Connections {
    pub fn new(max: usize) -> Connections {
        Connections {
            max: max.max(1),
            open: Arc::default(),
        }
    }

    /// A slot for a new connection, making room if need be; None when
    /// every connection has a request under way.
    pub fn admit(&self) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.conns.len() >= self.max {
            let idle = open
                .conns
                .iter()
                .find(|(_, c)| c.requests.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id)?;
            if let Some(c) = open.conns.remove(&idle) {
                c.evict.notify_one();
            }
        }
        let id = open.next;
        open.next += 1;
        let conn = Arc::new(Conn::default());
        open.conns.insert(id, Arc::clone(&conn));
        Some(Slot {
            id,
            conn,
            open: Arc::clone(&self.open),
        })
    }
}

/// A connection's place; given back when the connection ends.
pub struct Slot {
    id: u64,
    conn: Arc<Conn>,
    open: Arc<Mutex<Open>>,
}

impl Slot {
    /// Completes when the connection must give way to a newer one.
    pub async fn evicted(&self) {
        self.conn.evict.notified().await
    }

    /// The connection's count of requests under way.
    pub fn requests(&self) -> Arc<Conn> {
        Arc::clone(&self.conn)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.conns.remove(&self.id);
    }
}

/// A request under way on a connection (which then does not give way).
pub struct Busy(Arc<Conn>);

impl Busy {
    pub fn start(conn: &Arc<Conn>) -> Busy {
        conn.requests.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(conn))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_connection_gives_way_and_busy_ones_never_do() {
        let c = Connections::new(2);
        let a = c.admit().unwrap();
        let b = c.admit().unwrap();
        let _busy = Busy::start(&a.requests());
        let third = c.admit().expect("b is idle and gives way");
        assert!(!c.open.lock().unwrap().conns.contains_key(&b.id));
        let _busy3 = Busy::start(&third.requests());
        assert!(
            c.admit().is_none(),
            "every connection has a request under way"
        );
        drop(a);
        assert!(c.admit().is_some(), "a slot came back");
    }
}
