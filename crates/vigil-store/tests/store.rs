//! The store contract, on both backends: what is appended can be read back
//! and proved, ids are recorded once, refused drafts leave no trace, several
//! writers (threads with their own store, as separate processes would be)
//! make one gap-free log, a log is copied verbatim between backends, and a
//! database that is not Vigil's, or is a newer Vigil's, or belongs to
//! another key is refused in one sentence. PostgreSQL-only behaviour
//! (connection loss and recovery, addresses) is at the end.

#[macro_use]
mod common;

use common::{alias, draft, event_id, fill_fixture, note, person, person_id, Backend, TestDb};
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_store::copy::copy_log;
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::{Store, StoreError};

on_both_backends!(
    appended_events_read_back_with_receipts_that_verify,
    an_event_id_is_recorded_once_and_refused_drafts_leave_no_trace,
    a_store_opened_twice_catches_up_with_the_other_writer,
    concurrent_writers_make_one_gap_free_log,
    a_log_is_copied_verbatim_into_an_empty_store_only,
    a_database_of_another_key_or_a_newer_version_is_refused,
    a_writer_stops_loudly_when_the_database_lost_entries_it_committed,
    a_snapshot_does_not_see_appends_made_while_it_is_open,
    verify_passes_while_writers_append,
    both_views_of_a_snapshot_pair_see_the_same_store,
    a_unit_is_written_whole_or_not_at_all,
);

fn count_all(v: &dyn vigil_store::LogReader) -> (u64, u64, u64, u64) {
    let (mut e, mut h, mut n, mut l) = (0, 0, 0, 0);
    v.for_each_entry(0, &mut |_| {
        e += 1;
        Ok(())
    })
    .unwrap();
    v.for_each_tree_head(&mut |_| {
        h += 1;
        Ok(())
    })
    .unwrap();
    v.for_each_entity(&mut |_| {
        n += 1;
        Ok(())
    })
    .unwrap();
    v.for_each_subject_link(&mut |_, _| {
        l += 1;
        Ok(())
    })
    .unwrap();
    (e, h, n, l)
}

fn a_snapshot_does_not_see_appends_made_while_it_is_open(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let store = db.open(&secret);
    let other = db.open(&secret);
    store
        .append((0..3).map(|i| draft(&person(i, i))).collect())
        .unwrap();
    let mut rounds = 0;
    store
        .read_snapshot(&mut |view| {
            assert_eq!(count_all(view), (3, 1, 3, 3));
            // Another writer commits meanwhile (and a reader outside sees it).
            other
                .append(vec![draft(&person(3, 3)), draft(&note(4, 0, 3))])
                .unwrap();
            assert_eq!(other.log_size().unwrap(), 5);
            assert_eq!(count_all(view), (3, 1, 3, 3), "the view stays where it was");
            rounds += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(rounds, 1);
    let mut e = 0;
    store
        .read_snapshot(&mut |view| {
            e = count_all(view).0;
            Ok(())
        })
        .unwrap();
    assert_eq!(e, 5);
}

/// `vigil verify` beside live servers: the projections it compares are
/// those of the log it read, so concurrent appends (which change projection
/// rows the log scan had already passed) never look like tampering.
fn verify_passes_while_writers_append(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let store = db.open(&secret);
    store
        .append((0..50).map(|i| draft(&person(i, i))).collect())
        .unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let w = db.open(&secret);
            let mut n = 1000;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Each batch adds a person, and links to people recorded
                // long before (rows and subject links the scan has passed).
                let mut batch: Vec<_> = (0..4)
                    .map(|k| draft(&note(n + k, (n + k) % 50, (n + 2 * k + 1) % 50)))
                    .collect();
                batch.push(draft(&person(n + 4, n + 4)));
                w.append(batch).unwrap();
                n += 5;
            }
            n - 1000
        });
        // Stop the writer however this thread leaves the scope (a failed
        // assertion must fail the test, not leave it waiting for the writer).
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let guard = Stop(&stop);
        for _ in 0..15 {
            let r = verify(store.as_ref(), VerifyOptions::default()).unwrap();
            assert_eq!(r.problem, None, "after {} entries", r.entries);
        }
        drop(guard);
        let written = writer.join().unwrap();
        assert!(written > 0);
    });
}

/// `Store::read_snapshot_pair`'s two views (two connections on SQLite)
/// see one and the same state while another writer appends: verification
/// digests the stored tables through one and replays the log of the other.
fn both_views_of_a_snapshot_pair_see_the_same_store(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let store = db.open(&secret);
    store
        .append((0..20).map(|i| draft(&person(i, i))).collect())
        .unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let w = db.open(&secret);
            let mut n = 1000;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                w.append(vec![draft(&person(n, n))]).unwrap();
                n += 1;
            }
        });
        let mut differed = None;
        for _ in 0..60 {
            let (mut main, mut side) = (None, None);
            store
                .read_snapshot_pair(
                    &mut |v| {
                        main = Some(count_all(v));
                        Ok(())
                    },
                    &mut |v| {
                        side = Some(count_all(v));
                        Ok(())
                    },
                )
                .unwrap();
            if main != side {
                differed = Some((main, side));
                break;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(differed, None, "the two views saw different stores");
    });
}

fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

fn appended_events_read_back_with_receipts_that_verify(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let signer = LogSigner::generate();
    let secret = signer.secret_bytes();
    let store = db.open(&secret);
    assert_eq!(store.log_size().unwrap(), 0);
    assert!(store.latest_tree_head().unwrap().is_none());

    let out = store
        .append(vec![
            draft(&person(0, 0)),
            draft(&person(1, 1)),
            draft(&note(2, 0, 1)),
        ])
        .unwrap();
    let sth = out
        .tree_head
        .clone()
        .expect("a tree head for a written batch");
    assert_eq!(sth.head.size, 3);
    let key = store.log_key();
    for (i, r) in out.results.iter().enumerate() {
        let a = r.as_ref().unwrap();
        assert_eq!(a.index, i as u64);
        assert_eq!(a.event_id, uuid(&event_id(i as u64)));
        a.receipt.verify(&key).unwrap();
    }
    let out2 = store.append(vec![draft(&alias(3, 0, 1))]).unwrap();
    assert_eq!(out2.results[0].as_ref().unwrap().index, 3);
    assert_eq!(store.log_size().unwrap(), 4);
    assert_eq!(store.latest_tree_head().unwrap().unwrap().head.size, 4);

    let about0: Vec<u64> = store
        .entries_about(uuid(&person_id(0)))
        .unwrap()
        .iter()
        .map(|e| e.index)
        .collect();
    assert_eq!(about0, vec![0, 2, 3]);
    let about1 = store.entries_about(uuid(&person_id(1))).unwrap();
    assert_eq!(
        about1.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(about1[0].header_json.contains(&event_id(1)));
    assert!(about1[0]
        .payload_json
        .as_deref()
        .unwrap()
        .contains("Number1"));
    assert_eq!(about1[0].salt.as_ref().unwrap().len(), 16);
    assert_eq!(
        about1[0].leaf_hash,
        vigil_ledger::leaf_hash(about1[0].header_json.as_bytes()).to_vec()
    );
    assert!(store.entries_about(Uuid::now_v7()).unwrap().is_empty());

    let p0 = store.entity(uuid(&person_id(0))).unwrap().unwrap();
    assert_eq!((p0.created_index, p0.updated_index), (0, 3));
    assert!(p0.state_json().contains("Alias1"), "{}", p0.state_json());
    assert!(store.entity(Uuid::now_v7()).unwrap().is_none());
    assert_eq!(store.event_index(uuid(&event_id(2))).unwrap(), Some(2));
    assert_eq!(store.event_index(Uuid::now_v7()).unwrap(), None);

    let mut seen = Vec::new();
    store
        .for_each_entry(2, &mut |e| {
            seen.push(e.index);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, vec![2, 3]);
    let mut links = Vec::new();
    store
        .for_each_subject_link(&mut |s, i| {
            links.push((s, i));
            Ok(())
        })
        .unwrap();
    assert_eq!(links.len(), 5);
    assert!(links.windows(2).all(|w| w[0] <= w[1]), "links come sorted");

    // A callback's error stops the stream and comes back unchanged.
    let mut n = 0;
    let e = store
        .for_each_entry(0, &mut |_| {
            n += 1;
            Err(StoreError::Config("stop here".into()))
        })
        .unwrap_err();
    assert_eq!((n, e.to_string()), (1, "stop here".to_string()));
    // ... and leaves the store usable.
    assert_eq!(store.log_size().unwrap(), 4);
    let r = verify(store.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(
        (r.entries, r.tree_heads, r.entities, r.problem),
        (4, 2, 2, None)
    );
}

fn an_event_id_is_recorded_once_and_refused_drafts_leave_no_trace(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let store = db.open(&secret);
    store.append(vec![draft(&person(0, 0))]).unwrap();
    let out = store
        .append(vec![
            draft(&person(0, 0)),   // id already in the log
            draft(&person(1, 1)),   // fine: takes position 1
            draft(&person(1, 1)),   // same id twice in one batch
            draft(&person(2, 0)),   // person 0 already recorded: the rules refuse it
            draft(&alias(3, 9, 1)), // person 9 does not exist
            draft(&note(4, 0, 1)),  // fine: position 2
        ])
        .unwrap();
    let r = &out.results;
    assert!(
        r[0].as_ref()
            .unwrap_err()
            .contains("already recorded (entry 0)"),
        "{:?}",
        r[0]
    );
    assert_eq!(r[1].as_ref().unwrap().index, 1);
    assert!(r[2].as_ref().unwrap_err().contains("twice"), "{:?}", r[2]);
    assert!(
        r[3].as_ref().unwrap_err().contains("already recorded"),
        "{:?}",
        r[3]
    );
    assert!(r[4].is_err(), "{:?}", r[4]);
    assert_eq!(r[5].as_ref().unwrap().index, 2);
    assert_eq!(out.tree_head.unwrap().head.size, 3);
    assert_eq!(store.log_size().unwrap(), 3);
    assert_eq!(store.event_index(uuid(&event_id(2))).unwrap(), None);
    assert_eq!(store.event_index(uuid(&event_id(3))).unwrap(), None);
    assert!(store.entity(uuid(&person_id(9))).unwrap().is_none());

    // A batch where everything is refused writes nothing, not even a tree head.
    let out = store.append(vec![draft(&person(0, 0))]).unwrap();
    assert!(out.tree_head.is_none() && out.results[0].is_err());
    let mut heads = 0;
    store
        .for_each_tree_head(&mut |_| {
            heads += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(heads, 2);
    // Reopened, the store still refuses the id (it is in the database, not in memory).
    drop(store);
    let store = db.open(&secret);
    assert!(store.append(vec![draft(&person(1, 1))]).unwrap().results[0].is_err());
    assert_eq!(
        verify(store.as_ref(), VerifyOptions::default())
            .unwrap()
            .problem,
        None
    );
}

fn a_store_opened_twice_catches_up_with_the_other_writer(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let one = db.open(&secret);
    let two = db.open(&secret);
    for i in 0..6u64 {
        let s = if i % 2 == 0 { &one } else { &two };
        let out = s.append(vec![draft(&person(i, i))]).unwrap();
        let a = out.results[0].as_ref().unwrap();
        assert_eq!(a.index, i);
        // Each receipt proves inclusion in the whole log, including the other writer's entries.
        assert_eq!(a.receipt.tree_size, i + 1);
        a.receipt.verify(&one.log_key()).unwrap();
    }
    let r = verify(one.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!((r.entries, r.problem), (6, None));
}

fn concurrent_writers_make_one_gap_free_log(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let db = Arc::new(db);
    let secret = LogSigner::generate().secret_bytes();
    drop(db.open(&secret));
    const WRITERS: u64 = 4;
    const BATCHES: u64 = 15;
    const PER_BATCH: u64 = 10;
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || {
                // Its own store: its own connection and in-memory tree, as another process has.
                let store = db.open(&secret);
                let mut acked = Vec::new();
                for batch in 0..BATCHES {
                    let drafts = (0..PER_BATCH)
                        .map(|k| {
                            let n = 1000 * w + batch * PER_BATCH + k;
                            draft(&person(n, n))
                        })
                        .collect();
                    let out = store.append(drafts).unwrap();
                    for r in out.results {
                        let a = r.unwrap();
                        a.receipt.verify(&store.log_key()).unwrap();
                        acked.push((a.index, a.event_id));
                    }
                }
                acked
            })
        })
        .collect();
    let mut indexes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for t in threads {
        for (i, id) in t.join().unwrap() {
            assert!(indexes.insert(i), "position {i} acknowledged twice");
            assert!(ids.insert(id));
        }
    }
    let total = WRITERS * BATCHES * PER_BATCH;
    assert_eq!(indexes.len() as u64, total);
    assert_eq!(
        indexes.iter().copied().collect::<Vec<_>>(),
        (0..total).collect::<Vec<_>>(),
        "no gaps"
    );
    let store = db.open(&secret);
    assert_eq!(store.log_size().unwrap(), total);
    let r = verify(store.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(
        (r.entries, r.tree_heads, r.entities, r.problem),
        (total, WRITERS * BATCHES, total, None)
    );
}

fn a_log_is_copied_verbatim_into_an_empty_store_only(b: Backend) {
    // From SQLite (what `vigil migrate` reads) into this backend.
    let source_db = TestDb::new(Backend::Sqlite).unwrap();
    let secret = fill_fixture(&source_db);
    let source = source_db.open(&secret);
    let Some(target_db) = TestDb::new(b) else {
        return;
    };
    let target = target_db.open(&secret);
    let mut progress = Vec::new();
    let report = copy_log(source.as_ref(), target.as_ref(), 5, &mut |n| {
        progress.push(n)
    })
    .unwrap();
    assert_eq!((report.entries, report.tree_heads), (14, 3));
    // Chunks of at least 5 entries that end at signed sizes (6, 10, 14): 6, then 14.
    assert_eq!(progress, vec![6, 14]);

    let mut a = Vec::new();
    source
        .for_each_entry(0, &mut |e| {
            a.push(e);
            Ok(())
        })
        .unwrap();
    let mut c = Vec::new();
    target
        .for_each_entry(0, &mut |e| {
            c.push(e);
            Ok(())
        })
        .unwrap();
    assert_eq!(a, c, "entries are copied byte for byte");
    let (mut ha, mut hc) = (Vec::new(), Vec::new());
    for (store, heads) in [(&source, &mut ha), (&target, &mut hc)] {
        store
            .for_each_tree_head(&mut |h| {
                heads.push(h);
                Ok(())
            })
            .unwrap();
    }
    assert_eq!(ha, hc, "signed tree heads are copied as signed");
    let rs = verify(source.as_ref(), VerifyOptions::default()).unwrap();
    let rt = verify(target.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(rt.problem, None);
    assert_eq!(
        (rs.entries, rs.tree_heads, rs.entities, rs.root),
        (rt.entries, rt.tree_heads, rt.entities, rt.root)
    );
    // The copy goes on as a log: the next append continues it.
    let out = target.append(vec![draft(&person(99, 99))]).unwrap();
    assert_eq!(out.results[0].as_ref().unwrap().index, 14);

    // A second copy into the now non-empty target is refused, in a sentence.
    let e = copy_log(source.as_ref(), target.as_ref(), 5, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("not empty"), "{e}");
    // So is a copy into a store of another key.
    let other_db = TestDb::new(b).unwrap();
    let other = other_db.open(&LogSigner::generate().secret_bytes());
    let e = copy_log(source.as_ref(), other.as_ref(), 5, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("another key"), "{e}");
    // Entries that do not continue the log are refused whole.
    let e = other
        .append_verbatim(a[3..5].to_vec(), vec![])
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry 3 cannot be copied"), "{e}");
    assert_eq!(other.log_size().unwrap(), 0);
}

fn a_database_of_another_key_or_a_newer_version_is_refused(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    let e = db
        .try_open(&LogSigner::generate().secret_bytes())
        .err()
        .expect("another key is refused")
        .to_string();
    assert!(e.contains("another key") && !e.contains('\n'), "{e}");
    db.sql()
        .exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    let e = db
        .try_open(&secret)
        .err()
        .expect("a newer schema is refused")
        .to_string();
    assert!(e.contains("newer than this program"), "{e}");

    // A database (or schema) holding tables that are not Vigil's.
    let Some(foreign) = TestDb::new(b) else {
        return;
    };
    match foreign.sqlite_path() {
        Some(p) => {
            rusqlite::Connection::open(p)
                .unwrap()
                .execute_batch("CREATE TABLE payroll (x INTEGER)")
                .unwrap();
        }
        None => {
            let url = match &foreign.url {
                vigil_store::DatabaseUrl::Postgres(u) => u.clone(),
                _ => unreachable!(),
            };
            let name = url.rsplit("schema=").next().unwrap().to_owned();
            let mut c =
                vigil_store::postgres::raw_client(&common::postgres_base_url().unwrap()).unwrap();
            c.batch_execute(&format!(
                "CREATE SCHEMA \"{name}\"; CREATE TABLE \"{name}\".payroll (x INT)"
            ))
            .unwrap();
        }
    }
    let e = foreign
        .try_open(&secret)
        .err()
        .expect("foreign tables are refused")
        .to_string();
    assert!(e.contains("other tables"), "{e}");
}

/// Makes every insert of a tree head fail (so an append fails inside its
/// transaction, after the writer pushed its leaves), or stops doing so.
fn inject_failure(db: &TestDb, on: bool) {
    let sql = match (db.backend, on) {
        (Backend::Sqlite, true) => {
            "CREATE TRIGGER vigil_test_fail BEFORE INSERT ON tree_heads BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
        (Backend::Sqlite, false) => "DROP TRIGGER vigil_test_fail;",
        (Backend::Postgres, true) => {
            "CREATE FUNCTION vigil_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER vigil_test_fail BEFORE INSERT ON tree_heads FOR EACH ROW EXECUTE FUNCTION vigil_test_fail();"
        }
        (Backend::Postgres, false) => "DROP TRIGGER vigil_test_fail ON tree_heads; DROP FUNCTION vigil_test_fail();",
    };
    db.sql().exec(sql);
}

/// A writer that committed entries (and issued receipts) and then finds,
/// after a failed transaction made it reload the log, that the database no
/// longer holds them (a failover to a replica that was behind, a restore)
/// must refuse to go on rather than hand the same positions out again; a
/// restarted process (which issued nothing) may continue.
fn a_writer_stops_loudly_when_the_database_lost_entries_it_committed(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let store = db.open(&secret);
    store
        .append((0..3).map(|i| draft(&person(i, i))).collect())
        .unwrap();
    store
        .append((3..6).map(|i| draft(&person(i, i))).collect())
        .unwrap();

    // A failed transaction, then an ordinary recovery: nothing was lost.
    inject_failure(&db, true);
    let e = store
        .append(vec![draft(&person(6, 6))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("injected failure"), "{e}");
    inject_failure(&db, false);
    let out = store.append(vec![draft(&person(6, 6))]).unwrap();
    assert_eq!(out.results[0].as_ref().unwrap().index, 6);

    // Another failure, and meanwhile the database loses entries 3 to 6.
    inject_failure(&db, true);
    assert!(store.append(vec![draft(&person(7, 7))]).is_err());
    inject_failure(&db, false);
    db.sql().exec(
        "DELETE FROM ledger_entries WHERE idx >= 3; DELETE FROM event_subjects WHERE idx >= 3;
         DELETE FROM tree_heads WHERE size > 3; DELETE FROM entities WHERE created_idx >= 3;",
    );
    for _ in 0..2 {
        let e = store.append(vec![draft(&person(7, 7))]).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("has 3 entries") && e.contains("already committed 7") && !e.contains('\n'),
            "{e}"
        );
    }
    assert_eq!(store.log_size().unwrap(), 3);
    drop(store);
    let restarted = db.open(&secret);
    let out = restarted.append(vec![draft(&person(7, 7))]).unwrap();
    assert_eq!(out.results[0].as_ref().unwrap().index, 3);
}

// ---------------------------------------------------------------------------
// PostgreSQL only
// ---------------------------------------------------------------------------

/// Needs no server: nothing listens on port 1.
#[test]
fn postgres_unreachable_is_one_sentence_without_the_password() {
    let t = std::time::Instant::now();
    let e = vigil_store::open(
        &vigil_store::DatabaseUrl::parse("postgres://vigil:hunter2@127.0.0.1:1/vigil?schema=x")
            .unwrap(),
        LogSigner::generate(),
    )
    .err()
    .expect("nothing listens on port 1")
    .to_string();
    assert!(
        e.starts_with("cannot reach the PostgreSQL database at 127.0.0.1:1: "),
        "{e}"
    );
    assert!(!e.contains("hunter2") && !e.contains('\n'), "{e}");
    assert!(
        t.elapsed().as_secs() < 15,
        "a refused connection fails at once"
    );
}

/// Every connection of the store is killed by the server (what a failover
/// or an administrator does); the store must notice, reconnect and carry on
/// without an error for requests made afterwards. Killing only this test's
/// connections (by application_name) cannot disturb tests running in
/// parallel.
#[test]
fn postgres_store_reconnects_after_its_connections_are_killed() {
    let Some(base) = common::postgres_base_url() else {
        common::say_skipped();
        return;
    };
    let app = format!("vigil_kill_{}", std::process::id());
    let sep = if base.contains('?') { '&' } else { '?' };
    let schema = vigil_store::postgres::ScratchSchema::new(
        &format!("{base}{sep}application_name={app}"),
        "vigil_test",
    )
    .unwrap();
    let store =
        vigil_store::postgres::PostgresStore::open(schema.url(), LogSigner::generate()).unwrap();
    store.append(vec![draft(&person(0, 0))]).unwrap();
    assert_eq!(store.log_size().unwrap(), 1); // a pooled reader connection exists now
    let mut admin = vigil_store::postgres::raw_client(&base).unwrap();
    for round in 1..=3u64 {
        let killed: i64 = admin
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) k",
                &[&app],
            )
            .unwrap()
            .get(0);
        assert!(
            killed >= 2,
            "round {round}: the writer and a reader were connected ({killed})"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        // Reads and writes after the kill succeed on fresh connections.
        assert_eq!(store.log_size().unwrap(), round);
        let out = store.append(vec![draft(&person(round, round))]).unwrap();
        assert_eq!(out.results[0].as_ref().unwrap().index, round);
        assert!(store.entity(uuid(&person_id(round))).unwrap().is_some());
    }
    let r = verify(&store, VerifyOptions::default()).unwrap();
    assert_eq!((r.entries, r.problem), (4, None));
}

/// Appends are serialised by a transaction-scoped advisory lock on (class,
/// hash of the schema): while another session holds it, a writer waits, and
/// proceeds as soon as it is released.
#[test]
fn postgres_appends_wait_for_the_advisory_lock() {
    let Some(base) = common::postgres_base_url() else {
        common::say_skipped();
        return;
    };
    let schema = vigil_store::postgres::ScratchSchema::new(&base, "vigil_test").unwrap();
    let store = Arc::new(
        vigil_store::postgres::PostgresStore::open(schema.url(), LogSigner::generate()).unwrap(),
    );
    let (class, key) = store.advisory_lock_key();
    assert_eq!(key, vigil_store::postgres::lock_key(schema.name()));
    let mut holder = vigil_store::postgres::raw_client(&base).unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({class}, {key})"
        ))
        .unwrap();
    let s = Arc::clone(&store);
    let t0 = std::time::Instant::now();
    let writer = std::thread::spawn(move || {
        s.append(vec![draft(&person(0, 0))]).unwrap();
        t0.elapsed()
    });
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(!writer.is_finished(), "the append must wait for the lock");
    holder.batch_execute("COMMIT").unwrap();
    let waited = writer.join().unwrap();
    assert!(
        waited >= std::time::Duration::from_millis(700),
        "{waited:?}"
    );
    assert_eq!(store.log_size().unwrap(), 1);
}

/// A unit of a batch (what one person submitted at once) is all-or-nothing:
/// when the rules refuse one of its drafts, its earlier drafts are taken
/// back, positions and projection changes included, and the units after it
/// are written as if it had never been sent.
fn a_unit_is_written_whole_or_not_at_all(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    let mut batch = vigil_store::Batch::new();
    // Person 0, an alias for them, and an alias for a person never recorded.
    batch.push_unit(vec![
        draft(&person(0, 0)),
        draft(&alias(1, 0, 1)),
        draft(&alias(2, 99, 1)),
    ]);
    batch.push_unit(vec![draft(&person(3, 1))]);
    // Person 0 again: accepted only because the first unit was taken back.
    batch.push_unit(vec![draft(&person(4, 0)), draft(&alias(5, 0, 2))]);
    let out = store.append_batch(batch).unwrap();
    let refusal = out.results[2].as_ref().unwrap_err();
    assert!(!refusal.contains("not recorded"), "{refusal}");
    for r in &out.results[..2] {
        let e = r.as_ref().unwrap_err();
        assert!(
            e.starts_with("not recorded, because another event sent with it was refused: ")
                && e.ends_with(refusal.as_str()),
            "{e}"
        );
    }
    let at: Vec<u64> = out.results[3..]
        .iter()
        .map(|r| r.as_ref().unwrap().index)
        .collect();
    assert_eq!(at, vec![0, 1, 2], "the refused unit left no gap");
    assert_eq!(store.log_size().unwrap(), 3);
    for i in 0..3 {
        assert_eq!(store.event_index(uuid(&event_id(i))).unwrap(), None);
    }
    let p0 = store.entity(uuid(&person_id(0))).unwrap().unwrap();
    let state = p0.state_json();
    assert!(
        state.contains("Alias2") && !state.contains("Alias1"),
        "{state}"
    );
    assert_eq!(store.entries_about(uuid(&person_id(0))).unwrap().len(), 2);
    let report = vigil_store::verify::verify(store.as_ref(), Default::default()).unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);

    // A unit refused for a duplicate id inside itself leaves nothing either.
    let mut batch = vigil_store::Batch::new();
    batch.push_unit(vec![draft(&person(6, 6)), draft(&person(6, 7))]);
    let out = store.append_batch(batch).unwrap();
    assert!(out.results.iter().all(|r| r.is_err()));
    assert!(out.tree_head.is_none());
    assert!(store.entity(uuid(&person_id(6))).unwrap().is_none());
    assert_eq!(store.log_size().unwrap(), 3);
}
