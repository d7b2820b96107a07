//! Fault test: the PostgreSQL server goes away in the middle of a load and
//! comes back. Every acknowledged event must be there afterwards at the
//! position its receipt names; every request made during the outage must
//! fail cleanly (an `Unavailable` error in one sentence naming the server, no
//! panic); a batch whose fate was unknown is either wholly in the log or
//! wholly absent; the log verifies; and the same store object carries on once
//! the server is back (no poisoned pool, no restart of the program).
//!
//! How the outage is made, and why it cannot break other tests: the server
//! is really stopped and started with `pg_ctlcluster` (found by the port in
//! `VIGIL_TEST_POSTGRES_URL`). This file is its own test binary holding this
//! one test, and cargo runs test binaries one after another, so no other test
//! of the same `cargo test` run is using the server while it is down; and it
//! first takes the machine-wide [`ServerOutage`] lock, which waits until no
//! scratch schema exists in any process (other developers' test runs and
//! benchmarks on the same machine hold shared locks through theirs). Where the server
//! cannot be stopped from here (not on this machine, no `pg_ctlcluster`, no
//! permission), the test falls back to killing this test's own connections
//! repeatedly with `pg_terminate_backend` (scoped by application_name, so
//! parallel tests are untouched) and says so on stderr.

mod common;

use common::{draft, event_id, person};
use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_store::postgres::{raw_client, PostgresStore, ScratchSchema, ServerOutage};
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::{Store, StoreError};

/// The local cluster (version, name) listening on `port`, if pg_ctlcluster can manage it.
fn local_cluster(url: &str) -> Option<(String, String)> {
    let after = url.split("://").nth(1)?;
    let authority = after.split(['/', '?']).next()?;
    let hostport = authority.rsplit('@').next()?;
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    if !matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]") {
        return None;
    }
    let out = Command::new("pg_lsclusters").arg("-h").output().ok()?;
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 4 && f[2] == port && f[3] == "online")
            .then(|| (f[0].to_owned(), f[1].to_owned()))
    })
}

fn pg_ctl(cluster: &(String, String), action: &str) -> bool {
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &cluster.0, &cluster.1, action])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn wait_until_up(base: &str) {
    let t = Instant::now();
    while raw_client(base).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "PostgreSQL did not come back within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts the server again however the test ends.
struct Restart<'a> {
    cluster: &'a (String, String),
    base: &'a str,
    stopped: bool,
}

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        if self.stopped {
            pg_ctl(self.cluster, "start");
            wait_until_up(self.base);
        }
    }
}

#[derive(Default)]
struct Log {
    acked: Vec<(u64, Uuid)>,
    /// Batches that failed: their event ids and the error.
    failed: Vec<(Vec<Uuid>, StoreError)>,
    read_errors: Vec<StoreError>,
}

#[test]
fn postgres_restart_in_the_middle_of_a_load_loses_no_acknowledged_event() {
    let Some(base) = common::postgres_base_url() else {
        common::say_skipped();
        return;
    };
    // First wait until no other test or benchmark on this machine is using
    // the server (they hold shared locks through their scratch schemas).
    let _exclusive = ServerOutage::acquire(Duration::from_secs(600)).unwrap();
    let app = format!("vigil_outage_{}", std::process::id());
    let sep = if base.contains('?') { '&' } else { '?' };
    let schema =
        ScratchSchema::new(&format!("{base}{sep}application_name={app}"), "vigil_test").unwrap();
    let secret = LogSigner::generate().secret_bytes();
    let store =
        Arc::new(PostgresStore::open(schema.url(), LogSigner::from_secret_bytes(&secret)).unwrap());
    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));

    let writer = {
        let (store, log, stop, acked) = (
            Arc::clone(&store),
            Arc::clone(&log),
            Arc::clone(&stop),
            Arc::clone(&acked),
        );
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let lines: Vec<String> = (n..n + 20).map(|i| person(i, i)).collect();
                let ids: Vec<Uuid> = (n..n + 20)
                    .map(|i| Uuid::parse_str(&event_id(i)).unwrap())
                    .collect();
                n += 20;
                match store.append(lines.iter().map(|l| draft(l)).collect()) {
                    Ok(out) => {
                        let mut l = log.lock().unwrap();
                        for r in out.results {
                            let a = r.expect("fresh ids are accepted");
                            l.acked.push((a.index, a.event_id));
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        log.lock().unwrap().failed.push((ids, e));
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        })
    };
    let reader = {
        let (store, log, stop) = (Arc::clone(&store), Arc::clone(&log), Arc::clone(&stop));
        std::thread::spawn(move || {
            let someone = Uuid::parse_str(&common::person_id(3)).unwrap();
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = store.log_size().and_then(|_| store.entries_about(someone)) {
                    log.lock().unwrap().read_errors.push(e);
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        })
    };
    let wait_for = |n: u64| {
        let t = Instant::now();
        while acked.load(Ordering::Relaxed) < n {
            assert!(
                t.elapsed() < Duration::from_secs(90),
                "the load stalled at {} acknowledged events",
                acked.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for(400);

    let cluster = local_cluster(&base);
    let before_outage = acked.load(Ordering::Relaxed);
    match &cluster {
        Some(c) => {
            let mut guard = Restart {
                cluster: c,
                base: &base,
                stopped: false,
            };
            assert!(pg_ctl(c, "stop"), "pg_ctlcluster stop failed");
            guard.stopped = true;
            std::thread::sleep(Duration::from_secs(3));
            assert!(pg_ctl(c, "start"), "pg_ctlcluster start failed");
            guard.stopped = false;
            wait_until_up(&base);
        }
        None => {
            eprintln!(
                "note: the PostgreSQL server cannot be restarted from this test (not a local pg_ctlcluster cluster); killing this test's connections instead"
            );
            let mut admin = raw_client(&base).unwrap();
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(3) {
                admin
                    .execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", &[&app])
                    .unwrap();
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    }
    let after_outage = acked.load(Ordering::Relaxed);
    wait_for(after_outage + 400);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("the writer did not panic");
    reader.join().expect("the reader did not panic");

    let log = log.lock().unwrap();
    assert!(
        !log.failed.is_empty(),
        "appends made during the outage must fail"
    );
    if cluster.is_some() {
        assert!(
            !log.read_errors.is_empty(),
            "reads made during the outage must fail"
        );
    }
    for e in log.failed.iter().map(|(_, e)| e).chain(&log.read_errors) {
        let msg = e.to_string();
        assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
        assert!(
            msg.contains("PostgreSQL database at") && !msg.contains('\n'),
            "{msg}"
        );
    }
    eprintln!(
        "outage: {} events acknowledged before the stop, {} by the time the server was back, {} in all; {} appends and {} reads failed cleanly",
        before_outage,
        after_outage,
        log.acked.len(),
        log.failed.len(),
        log.read_errors.len()
    );

    // Everything acknowledged is there, where its receipt says.
    let check = PostgresStore::open(schema.url(), LogSigner::from_secret_bytes(&secret)).unwrap();
    for (idx, id) in &log.acked {
        assert_eq!(
            check.event_index(*id).unwrap(),
            Some(*idx),
            "acknowledged event {id} is missing or moved"
        );
    }
    // A failed batch is all there (its commit went through as the connection
    // died) or not there at all: nothing half-written.
    let mut recorded_unacked = 0u64;
    for (ids, e) in &log.failed {
        let present: Vec<bool> = ids
            .iter()
            .map(|id| check.event_index(*id).unwrap().is_some())
            .collect();
        assert!(
            present.iter().all(|p| *p) || present.iter().all(|p| !*p),
            "half a batch was written ({e})"
        );
        if present[0] {
            recorded_unacked += ids.len() as u64;
        }
    }
    let indexes: HashSet<u64> = log.acked.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        indexes.len(),
        log.acked.len(),
        "no position acknowledged twice"
    );
    assert_eq!(
        check.log_size().unwrap(),
        log.acked.len() as u64 + recorded_unacked
    );
    let r = verify(&check, VerifyOptions::default()).unwrap();
    assert_eq!(r.problem, None);
}
