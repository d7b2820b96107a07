//! Bounded memory (issue 10). The writer holds a Merkle frontier, not the
//! log: what it holds stays small however long the log grows, and
//! everything the whole in-memory tree did still holds: receipts with the
//! same inclusion proofs, several writers and restarts, and the checks
//! against the tree-head file, including a file that lags behind what the
//! writer last saw. Both backends. And the SQLite reader pool is bounded
//! (PostgreSQL's always was: `pool_size`).

#[macro_use]
mod common;

use common::{draft, person, Backend, TestDb};
use vigil_ledger::{LogSigner, MerkleTree, SignedTreeHead, TreeHead};
use vigil_store::head_file::TreeHeadFile;
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::{Store, StoreError};

on_both_backends!(
    the_writer_holds_a_frontier_not_the_log,
    receipts_hold_across_writers_restarts_and_batch_sizes,
    a_tree_head_file_behind_the_writer_is_checked_by_reading_the_log_again,
);

fn open(db: &TestDb, secret: &[u8; 32], dir: &std::path::Path) -> Box<dyn Store> {
    vigil_store::open_with_head_file(
        &db.url,
        LogSigner::from_secret_bytes(secret),
        TreeHeadFile::in_dir(dir),
    )
    .unwrap()
}

/// Appends `n` new people (events and people numbered from `first`) in one
/// batch; returns the batch's receipts.
fn append_people(store: &dyn Store, first: u64, n: u64) -> Vec<vigil_store::Appended> {
    let drafts = (first..first + n).map(|i| draft(&person(i, i))).collect();
    store
        .append(drafts)
        .unwrap()
        .results
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

/// The whole tree over every stored leaf hash, as the writer used to hold it.
fn whole_tree(store: &dyn Store) -> MerkleTree {
    let mut tree = MerkleTree::new();
    store
        .for_each_entry(0, &mut |e| {
            tree.push(e.leaf_hash.as_slice().try_into().unwrap());
            Ok(())
        })
        .unwrap();
    tree
}

fn the_writer_holds_a_frontier_not_the_log(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let dir = tempfile::tempdir().unwrap();
    let secret = LogSigner::generate().secret_bytes();
    let store = open(&db, &secret, dir.path());
    let mut held = Vec::new();
    for round in 0..12u64 {
        append_people(store.as_ref(), round * 400, 400);
        held.push(store.writer_held_hashes());
    }
    // 4,800 entries: a whole tree holds some 9,600 hashes. The frontier is
    // at most one hash per bit of the size, plus one recent root per batch.
    for (round, h) in held.iter().enumerate() {
        assert!(
            *h <= 64 + round + 1,
            "after batch {round} the writer holds {h} hashes: {held:?}"
        );
    }
    // So does a writer that has just (re)loaded the whole log.
    drop(store);
    let store = open(&db, &secret, dir.path());
    append_people(store.as_ref(), 10_000, 1);
    assert!(
        store.writer_held_hashes() <= 64 + 2,
        "{}",
        store.writer_held_hashes()
    );
    assert_eq!(store.log_size().unwrap(), 4_801);
}

fn receipts_hold_across_writers_restarts_and_batch_sizes(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let dir = tempfile::tempdir().unwrap();
    let secret = LogSigner::generate().secret_bytes();
    let key = LogSigner::from_secret_bytes(&secret).public_key();
    let mut one = open(&db, &secret, dir.path());
    let two = open(&db, &secret, dir.path());
    let mut receipts = Vec::new();
    let mut next = 0;
    for round in 0..40u64 {
        // Batch sizes that cross subtree boundaries in every way.
        let n = (round * 7) % 37 + 1;
        let store = match round % 5 {
            0 | 2 => &one,
            1 | 3 => &two,
            _ => {
                // A restart: a new writer loads the whole log.
                one = open(&db, &secret, dir.path());
                &one
            }
        };
        receipts.extend(append_people(store.as_ref(), next, n));
        next += n;
    }
    let whole = whole_tree(one.as_ref());
    assert_eq!(whole.size(), next);
    for a in &receipts {
        let r = &a.receipt;
        r.verify(&key).unwrap();
        // The proof leads to the whole tree's root at that size, so it is
        // the one the whole tree gives (any other would be a collision).
        assert_eq!(
            r.tree_head().unwrap().head.root,
            whole.root_at(r.tree_size).unwrap(),
            "receipt for entry {}",
            a.index
        );
        assert_eq!(r.leaf().unwrap(), whole.leaf(a.index).unwrap());
    }
    let file = TreeHeadFile::in_dir(dir.path())
        .read(&key)
        .unwrap()
        .unwrap();
    assert_eq!(file.head.size, next);
    assert_eq!(file.head.root, whole.root());
    let report = verify(one.as_ref(), VerifyOptions::default()).unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
}

/// Sets the tree-head file back to `head` (as a slow process's late update
/// would leave it, had the file not only moved forward).
fn set_head_file(dir: &std::path::Path, key: &vigil_ledger::LogKey, head: &SignedTreeHead) {
    let file = TreeHeadFile::in_dir(dir);
    std::fs::remove_file(file.path()).unwrap();
    file.publish(key, head, |_| Some(true)).unwrap();
}

fn a_tree_head_file_behind_the_writer_is_checked_by_reading_the_log_again(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let dir = tempfile::tempdir().unwrap();
    let signer = LogSigner::generate();
    let secret = signer.secret_bytes();
    let key = signer.public_key();
    let (w, x) = (
        open(&db, &secret, dir.path()),
        open(&db, &secret, dir.path()),
    );
    append_people(x.as_ref(), 0, 5);
    append_people(x.as_ref(), 5, 3);
    let old = x.latest_tree_head().unwrap().unwrap();
    assert_eq!(old.head.size, 8);
    append_people(x.as_ref(), 8, 2);
    // W loads the log at 10 entries: it never saw size 8 as a boundary.
    append_people(w.as_ref(), 10, 1);
    append_people(x.as_ref(), 11, 2);
    // The file goes back to X's head at 8, which W holds no root for: W
    // must read the log again to check it, find it holds, and go on.
    set_head_file(dir.path(), &key, &old);
    append_people(w.as_ref(), 13, 1);
    let file = TreeHeadFile::in_dir(dir.path())
        .read(&key)
        .unwrap()
        .unwrap();
    assert_eq!(file.head.size, 14);
    // A head at 12 (a size no writer committed at, so none holds its root)
    // signed by the log's key over another root is refused by a writer
    // that loads the log: a new one, one behind the log (X), and one level
    // with it (W) once it has read the log again.
    let forged = signer.sign_tree_head(&TreeHead {
        size: 12,
        root: [7; 32],
        timestamp_ms: old.head.timestamp_ms,
    });
    append_people(x.as_ref(), 14, 1);
    append_people(w.as_ref(), 15, 1);
    set_head_file(dir.path(), &key, &forged);
    let refused = |store: &dyn Store, i: u64| {
        let err = store
            .append(vec![draft(&person(i, i))])
            .expect_err("a tree-head file the log does not hold is refused");
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("tree head"), "{err}");
    };
    refused(open(&db, &secret, dir.path()).as_ref(), 20);
    refused(x.as_ref(), 21);
    // W is level with the log, so it does not load it before this batch;
    // it cannot confirm the file's head when it publishes, leaves the file
    // alone, and reads the log again before the next one.
    append_people(w.as_ref(), 22, 1);
    let file = TreeHeadFile::in_dir(dir.path())
        .read(&key)
        .unwrap()
        .unwrap();
    assert_eq!(file, forged);
    refused(w.as_ref(), 23);
}

/// Many concurrent readers share at most the pool's connections, and all
/// of them are answered.
#[test]
fn concurrent_readers_open_no_more_connections_than_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.sqlite");
    let store = vigil_store::sqlite::SqliteStore::open(&path, LogSigner::generate())
        .unwrap()
        .with_max_readers(3);
    append_people(&store, 0, 50);
    std::thread::scope(|s| {
        for _ in 0..24 {
            s.spawn(|| {
                for _ in 0..40 {
                    let mut n = 0;
                    store
                        .for_each_entry(0, &mut |_| {
                            n += 1;
                            Ok(())
                        })
                        .unwrap();
                    assert_eq!(n, 50);
                }
            });
        }
    });
    let peak = store.peak_readers();
    assert!(
        (1..=3).contains(&peak),
        "{peak} read connections were open at once"
    );
    assert!(vigil_store::sqlite::default_max_readers() >= 2);
}
