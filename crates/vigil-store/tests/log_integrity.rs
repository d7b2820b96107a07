//! The log's own integrity against an attacker with write access to the
//! database (issue 9, items 1 to 4): entries no signed tree head covers,
//! truncation caught by the tree-head file kept outside the database and by
//! receipts, the salt and payload a receipt holder needs, and the order of a
//! header's subjects. Both backends.

#[macro_use]
mod common;

use common::{draft, fill_fixture, note, person, person_id, Backend, RawSql, TestDb};
use vigil_ledger::{leaf_hash, LogSigner, MerkleTree, TreeHead};
use vigil_store::head_file::TreeHeadFile;
use vigil_store::verify::{verify, verify_against, VerifyOptions, Witness};
use vigil_store::{Batch, StoreError};

on_both_backends!(
    forged_entry_after_last_tree_head_is_reported,
    a_writer_refuses_to_append_on_top_of_a_forged_entry,
    a_running_writer_refuses_a_forged_entry_added_behind_its_back,
    truncation_below_the_tree_head_file_is_reported,
    an_emptied_log_is_reported_against_the_tree_head_file,
    a_writer_refuses_a_log_shorter_than_the_tree_head_file,
    the_tree_head_file_follows_every_commit_of_every_writer,
    a_receipt_beyond_the_log_end_reports_truncation,
    a_receipt_for_an_entry_that_was_replaced_is_reported,
    the_payload_and_salt_prove_what_was_submitted,
    unsorted_subjects_in_a_signed_header_are_reported,
    an_altered_stored_receipt_is_reported,
);

/// Copies entry `idx` of `from` into `to` as a tamperer with plain SQL would:
/// the `ledger_entries` row, its `event_subjects` rows and the `entities`
/// rows it created or changed.
fn copy_entry_rows(from: &TestDb, to: &TestDb, idx: u64) {
    let mut src = from.sql();
    let mut dst = to.sql();
    let col = |s: &mut Box<dyn RawSql>, c: &str| {
        s.text(&format!("SELECT {c} FROM ledger_entries WHERE idx = {idx}"))
    };
    let (event_id, kind, header, payload) = (
        col(&mut src, "event_id"),
        col(&mut src, "kind"),
        col(&mut src, "header"),
        col(&mut src, "payload"),
    );
    let salt = src.bytes(&format!(
        "SELECT salt FROM ledger_entries WHERE idx = {idx}"
    ));
    let leaf = src.bytes(&format!(
        "SELECT leaf_hash FROM ledger_entries WHERE idx = {idx}"
    ));
    let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
    dst.exec(&format!(
        "INSERT INTO ledger_entries(idx, event_id, kind, header, payload, salt, leaf_hash) VALUES ({idx}, {}, {}, {}, {}, {}, {})",
        q(&event_id),
        q(&kind),
        q(&header),
        q(&payload),
        dst.bytes_literal(&salt),
        dst.bytes_literal(&leaf)
    ));
    for s in src.texts(&format!(
        "SELECT subject_id FROM event_subjects WHERE idx = {idx}"
    )) {
        dst.exec(&format!(
            "INSERT INTO event_subjects(subject_id, idx) VALUES ({}, {idx})",
            q(&s)
        ));
    }
    for id in src.texts(&format!(
        "SELECT id FROM entities WHERE updated_idx = {idx}"
    )) {
        let kind = src.text(&format!("SELECT kind FROM entities WHERE id = '{id}'"));
        let state = src.text(&format!("SELECT state FROM entities WHERE id = '{id}'"));
        let created = src.count(&format!(
            "SELECT created_idx FROM entities WHERE id = '{id}'"
        ));
        dst.exec(&format!(
            "DELETE FROM entities WHERE id = '{id}';
             INSERT INTO entities(id, kind, state, created_idx, updated_idx) VALUES ('{id}', {}, {}, {created}, {idx})",
            q(&kind),
            q(&state)
        ));
    }
}

/// The reviewer's attack: store A from the fixture, store B from the same
/// plus one note, B's extra entry copied into A. Returns A and its key.
fn forged(b: Backend) -> Option<(TestDb, [u8; 32])> {
    let a = TestDb::new(b)?;
    let secret = fill_fixture(&a);
    let b_db = a.copy();
    let store_b = b_db.open(&secret);
    let out = store_b.append(vec![draft(&note(100, 0, 1))]).unwrap();
    assert_eq!(out.results[0].as_ref().unwrap().index, 14);
    drop(store_b);
    copy_entry_rows(&b_db, &a, 14);
    Some((a, secret))
}

fn forged_entry_after_last_tree_head_is_reported(b: Backend) {
    let Some((a, secret)) = forged(b) else { return };
    let store = a.open(&secret);
    for projections in [true, false] {
        let p = verify(store.as_ref(), VerifyOptions { projections })
            .unwrap()
            .problem
            .expect("an entry no tree head covers is reported");
        assert_eq!(p.entry, Some(14), "{p}");
        assert!(
            p.message.contains("entry 14") && p.message.contains("no signed tree head"),
            "{p}"
        );
    }
}

fn a_writer_refuses_to_append_on_top_of_a_forged_entry(b: Backend) {
    let Some((a, secret)) = forged(b) else { return };
    let store = a.open(&secret);
    let e = store
        .append(vec![draft(&person(200, 200))])
        .expect_err("no append on top of an unsigned entry");
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("entry 14") && msg.contains("no signed tree head"),
        "{msg}"
    );
    // Nothing was signed over the forgery.
    assert_eq!(store.latest_tree_head().unwrap().unwrap().head.size, 14);
    assert_eq!(store.log_size().unwrap(), 15);
}

fn a_running_writer_refuses_a_forged_entry_added_behind_its_back(b: Backend) {
    let Some(a) = TestDb::new(b) else { return };
    let secret = fill_fixture(&a);
    let b_db = a.copy();
    let running = a.open(&secret);
    running.append(vec![draft(&person(50, 50))]).unwrap(); // caught up, at 15
    let store_b = b_db.open(&secret);
    store_b.append(vec![draft(&person(50, 50))]).unwrap();
    store_b.append(vec![draft(&note(100, 0, 1))]).unwrap();
    drop(store_b);
    copy_entry_rows(&b_db, &a, 15);
    let e = running
        .append(vec![draft(&person(201, 201))])
        .expect_err("the running writer notices the forged entry");
    assert!(e.to_string().contains("entry 15"), "{e}");
    assert_eq!(running.latest_tree_head().unwrap().unwrap().head.size, 15);
}

/// A store of the fixture that keeps its tree-head file in `dir`.
fn fixture_with_head_file(b: Backend) -> Option<(TestDb, [u8; 32], tempfile::TempDir)> {
    let db = TestDb::new(b)?;
    let dir = tempfile::tempdir().unwrap();
    let signer = LogSigner::generate();
    let secret = signer.secret_bytes();
    let store = vigil_store::open_with_head_file(&db.url, signer, TreeHeadFile::in_dir(dir.path()))
        .unwrap();
    for batch in common::fixture_lines() {
        for r in store
            .append(batch.iter().map(|l| draft(l)).collect())
            .unwrap()
            .results
        {
            r.unwrap();
        }
    }
    Some((db, secret, dir))
}

fn head_file_witness(dir: &std::path::Path, key: &vigil_ledger::LogKey) -> Vec<Witness> {
    let file = TreeHeadFile::in_dir(dir);
    let head = file.read(key).unwrap().expect("the tree-head file exists");
    vec![Witness::tree_head(file.path().display().to_string(), head)]
}

/// Deletes the newest entries from `from` on, with their tree heads,
/// subject rows and projections, as a careful tamperer would.
fn truncate(sql: &mut dyn RawSql, from: u64) {
    sql.exec(&format!(
        "DELETE FROM ledger_entries WHERE idx >= {from}; DELETE FROM event_subjects WHERE idx >= {from};
         DELETE FROM tree_heads WHERE size > {from}; DELETE FROM entities WHERE created_idx >= {from};"
    ));
}

fn truncation_below_the_tree_head_file_is_reported(b: Backend) {
    let Some((db, secret, dir)) = fixture_with_head_file(b) else {
        return;
    };
    // The fixture's first batch ends at 6: cut back to it, projections and all.
    truncate(db.sql().as_mut(), 6);
    let store = db.open(&secret);
    // Without the file the shorter log looks whole (what the file is for);
    // the projection rows the cut entries changed differ, so check the ledger.
    let alone = verify(store.as_ref(), VerifyOptions { projections: false }).unwrap();
    assert_eq!((alone.entries, alone.problem), (6, None));
    let witnesses = head_file_witness(dir.path(), &store.log_key());
    let p = verify_against(store.as_ref(), VerifyOptions::default(), &witnesses)
        .unwrap()
        .problem
        .expect("the truncation is reported");
    assert_eq!(p.entry, Some(6), "{p}");
    assert!(
        p.message.contains("entries 6 to 13") && p.message.contains("tree-head.json"),
        "{p}"
    );
}

fn an_emptied_log_is_reported_against_the_tree_head_file(b: Backend) {
    let Some((db, secret, dir)) = fixture_with_head_file(b) else {
        return;
    };
    db.sql().exec(
        "DELETE FROM ledger_entries; DELETE FROM event_subjects; DELETE FROM tree_heads; DELETE FROM entities;
         DELETE FROM chronology; DELETE FROM edges; DELETE FROM name_keys; DELETE FROM referrals;",
    );
    let store = db.open(&secret);
    assert_eq!(
        verify(store.as_ref(), VerifyOptions::default())
            .unwrap()
            .problem,
        None
    );
    let witnesses = head_file_witness(dir.path(), &store.log_key());
    let p = verify_against(store.as_ref(), VerifyOptions::default(), &witnesses)
        .unwrap()
        .problem
        .expect("the emptied log is reported");
    assert_eq!(p.entry, Some(0), "{p}");
    assert!(p.message.contains("entries 0 to 13"), "{p}");
}

fn a_writer_refuses_a_log_shorter_than_the_tree_head_file(b: Backend) {
    let Some((db, secret, dir)) = fixture_with_head_file(b) else {
        return;
    };
    truncate(db.sql().as_mut(), 6);
    let store = vigil_store::open_with_head_file(
        &db.url,
        LogSigner::from_secret_bytes(&secret),
        TreeHeadFile::in_dir(dir.path()),
    )
    .unwrap();
    let e = store
        .append(vec![draft(&person(300, 300))])
        .expect_err("no append on a truncated log");
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    assert!(e.to_string().contains("tree-head.json"), "{e}");
    assert_eq!(store.log_size().unwrap(), 6);
}

fn the_tree_head_file_follows_every_commit_of_every_writer(b: Backend) {
    let Some((db, secret, dir)) = fixture_with_head_file(b) else {
        return;
    };
    let open = || {
        vigil_store::open_with_head_file(
            &db.url,
            LogSigner::from_secret_bytes(&secret),
            TreeHeadFile::in_dir(dir.path()),
        )
        .unwrap()
    };
    let (one, two) = (open(), open());
    let file = TreeHeadFile::in_dir(dir.path());
    let key = one.log_key();
    assert_eq!(file.read(&key).unwrap().unwrap().head.size, 14);
    for i in 0..4u64 {
        let s = if i % 2 == 0 { &one } else { &two };
        let head = s
            .append(vec![draft(&person(400 + i, 400 + i))])
            .unwrap()
            .tree_head
            .unwrap();
        assert_eq!(file.read(&key).unwrap().unwrap(), head);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}

fn a_receipt_beyond_the_log_end_reports_truncation(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    let store = db.open(&secret);
    let receipt = store
        .append(vec![draft(&person(500, 500))])
        .unwrap()
        .results
        .remove(0)
        .unwrap()
        .receipt;
    drop(store);
    truncate(db.sql().as_mut(), 14);
    let store = db.open(&secret);
    let witnesses = vec![Witness::receipt("receipt.json".into(), &receipt).unwrap()];
    let p = verify_against(store.as_ref(), VerifyOptions::default(), &witnesses)
        .unwrap()
        .problem
        .expect("the cut below the receipt is reported");
    assert_eq!(p.entry, Some(14), "{p}");
    assert!(
        p.message.contains("receipt.json") && p.message.contains("entry 14 is missing"),
        "{p}"
    );
}

fn a_receipt_for_an_entry_that_was_replaced_is_reported(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    let store = db.open(&secret);
    let receipt = store
        .append(vec![draft(&person(500, 500))])
        .unwrap()
        .results
        .remove(0)
        .unwrap()
        .receipt;
    let witnesses = vec![Witness::receipt("receipt.json".into(), &receipt).unwrap()];
    let fine = verify_against(store.as_ref(), VerifyOptions::default(), &witnesses).unwrap();
    assert_eq!(fine.problem, None);
    drop(store);
    // An insider with the key replaces entry 14 and re-signs: the log is
    // internally consistent again, but not with the receipt.
    truncate(db.sql().as_mut(), 14);
    let store = db.open(&secret);
    store.append(vec![draft(&person(501, 501))]).unwrap();
    let p = verify_against(store.as_ref(), VerifyOptions::default(), &witnesses)
        .unwrap()
        .problem
        .expect("the replaced entry is reported");
    assert_eq!(p.entry, Some(14), "{p}");
    assert!(p.message.contains("receipt.json"), "{p}");
}

fn the_payload_and_salt_prove_what_was_submitted(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    let store = db.open(&secret);
    let a = store
        .append(vec![draft(&person(600, 600))])
        .unwrap()
        .results
        .remove(0)
        .unwrap();
    let payload = store
        .payload_of(a.event_id)
        .unwrap()
        .expect("the payload is there");
    assert!(payload.contains(&person_id(600)), "{payload}");
    let salt = a
        .receipt
        .salt_bytes()
        .expect("the receipt carries the salt");
    let header: vigil_model::EventHeader = serde_json::from_str(&a.receipt.entry).unwrap();
    assert_eq!(
        hex::encode(vigil_model::event::payload_digest(
            &salt,
            payload.as_bytes()
        )),
        header.payload_sha256
    );
    // The receipt holds no payload content: the child's details stay out.
    let text = vigil_store::write::receipt_json(&a.receipt).unwrap();
    assert!(
        !text.contains("Testchild") && !text.contains("Number600"),
        "{text}"
    );
    assert_eq!(store.payload_of(uuid::Uuid::nil()).unwrap(), None);
}

fn unsorted_subjects_in_a_signed_header_are_reported(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    // Entry 13 is a note about persons 0 and 1: an insider holding the key
    // rewrites its header with the subjects reversed and re-signs the tree.
    let mut sql = db.sql();
    let header = sql.text("SELECT header FROM ledger_entries WHERE idx = 13");
    let (p0, p1) = (person_id(0), person_id(1));
    let swapped = header
        .replace(&p0, "SWAP")
        .replace(&p1, &p0)
        .replace("SWAP", &p1);
    assert_ne!(swapped, header);
    let leaf = leaf_hash(swapped.as_bytes());
    sql.exec(&format!(
        "UPDATE ledger_entries SET header = '{swapped}', leaf_hash = {} WHERE idx = 13",
        sql.bytes_literal(&leaf)
    ));
    let mut tree = MerkleTree::new();
    for i in 0..14 {
        let h = sql.bytes(&format!(
            "SELECT leaf_hash FROM ledger_entries WHERE idx = {i}"
        ));
        tree.push(h.try_into().unwrap());
    }
    let signer = LogSigner::from_secret_bytes(&secret);
    let sth = signer.sign_tree_head(&TreeHead {
        size: 14,
        root: tree.root(),
        timestamp_ms: 1,
    });
    sql.exec(&format!(
        "UPDATE tree_heads SET root = {}, timestamp_ms = 1, signature = {} WHERE size = 14",
        sql.bytes_literal(&sth.head.root),
        sql.bytes_literal(&sth.signature)
    ));
    drop(sql);
    let store = db.open(&secret);
    let p = verify(store.as_ref(), VerifyOptions::default())
        .unwrap()
        .problem
        .expect("unsorted subjects are reported");
    assert_eq!(p.entry, Some(13), "{p}");
    assert!(p.message.contains("subjects"), "{p}");
}

/// The receipts the store keeps for submitters to download again are
/// checked like receipts given on the command line: each must verify with
/// the log key, name the event it is stored under and be consistent with
/// the log.
fn an_altered_stored_receipt_is_reported(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    let store = db.open(&secret);
    let (a, c) = (draft(&person(700, 700)), draft(&person(701, 701)));
    let (a_id, c_id) = (a.id.to_string(), c.id.to_string());
    let mut batch = Batch::of_drafts(vec![a, c]);
    batch.keep_receipts([a_id.parse().unwrap(), c_id.parse().unwrap()]);
    store.append_batch(batch).unwrap();
    let kept = db.sql().count("SELECT count(*) FROM receipts");
    assert_eq!(kept, 2);
    let fine = verify(store.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(fine.problem, None);
    drop(store);
    let tampered: [(&str, String); 4] = [
        (
            "its signed time changed",
            format!("UPDATE receipts SET receipt = replace(receipt, '\"timestamp_ms\": ', '\"timestamp_ms\": 1') WHERE event_id = '{a_id}'"),
        ),
        (
            "another event's receipt stored under it",
            format!("UPDATE receipts SET receipt = (SELECT receipt FROM receipts WHERE event_id = '{c_id}') WHERE event_id = '{a_id}'"),
        ),
        (
            "not a receipt at all",
            format!("UPDATE receipts SET receipt = 'not json' WHERE event_id = '{a_id}'"),
        ),
        (
            "its entry changed",
            format!("UPDATE receipts SET receipt = replace(receipt, '\\\"index\\\":', '\\\"index\\\":1') WHERE event_id = '{a_id}'"),
        ),
    ];
    for (what, sql) in tampered {
        let copy = db.copy();
        let before = copy.sql().text(&format!(
            "SELECT receipt FROM receipts WHERE event_id = '{a_id}'"
        ));
        copy.sql().exec(&sql);
        let after = copy.sql().text(&format!(
            "SELECT receipt FROM receipts WHERE event_id = '{a_id}'"
        ));
        assert_ne!(before, after, "{what}: the tampering changed nothing");
        let store = copy.open(&secret);
        let p = verify(store.as_ref(), VerifyOptions { projections: false })
            .unwrap()
            .problem
            .unwrap_or_else(|| panic!("a stored receipt with {what} went unnoticed"));
        assert!(
            p.message.contains(&a_id) && p.message.contains("receipt"),
            "{what}: {p}"
        );
    }
}
