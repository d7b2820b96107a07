//! Group commit: many threads appending at once share transactions, each
//! gets exactly its own receipts, and the log stays one gap-free, verifiable
//! sequence. Run against both backends.

#[macro_use]
mod common;

use common::{draft, person, Backend, TestDb};
use std::sync::Arc;
use vigil_store::group::GroupCommit;
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::Store;

on_both_backends!(concurrent_submissions_share_transactions_and_get_their_own_receipts);

fn concurrent_submissions_share_transactions_and_get_their_own_receipts(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = [7u8; 32];
    let store: Arc<dyn Store> = Arc::from(db.open(&secret));
    let group = Arc::new(GroupCommit::new(store.clone()));
    const THREADS: u64 = 16;
    const EACH: u64 = 40;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let group = group.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..EACH {
                    let n = t * EACH + i;
                    let line = person(n, n);
                    let d = draft(&line);
                    let id = d.id;
                    let appended = group.submit_one(d).unwrap().expect("accepted");
                    assert_eq!(
                        appended.event_id, id,
                        "a submission got someone else's receipt"
                    );
                    mine.push(appended);
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().unwrap());
    }
    let key = store.log_key();
    let mut indices: Vec<u64> = all.iter().map(|a| a.index).collect();
    indices.sort();
    assert_eq!(
        indices,
        (0..THREADS * EACH).collect::<Vec<_>>(),
        "one gap-free sequence"
    );
    for a in &all {
        a.receipt.verify(&key).unwrap();
    }
    let report = verify(store.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.entries, THREADS * EACH);
    // Batching happened: fewer signed tree heads (one per transaction) than events.
    assert!(
        report.tree_heads < THREADS * EACH,
        "{} transactions for {} events: nothing was grouped",
        report.tree_heads,
        THREADS * EACH
    );
    // A refused draft is answered as refused, without harming its neighbours.
    let dup = draft(&person(0, 0));
    let refused = group.submit_one(dup).unwrap();
    assert!(refused.is_err());
    let fresh = group
        .submit(vec![draft(&person(THREADS * EACH, THREADS * EACH))])
        .unwrap();
    assert!(fresh[0].is_ok());
}
