//! Tamper tests: every way of changing the stored record behind the
//! program's back that the foundation issue names (one byte of any stored
//! event, a deleted row, two rows swapped, an altered projection row) must be
//! caught by verification and name the entry or row; an untouched store must
//! pass. Runs against real SQLite files.

use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};
use vigil_ledger::LogSigner;
use vigil_model::EventInput;
use vigil_store::sqlite::SqliteStore;
use vigil_store::verify::{verify, Problem, VerifyOptions};
use vigil_store::Store;

fn example_inputs() -> Vec<EventInput> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.jsonl");
    let text = std::fs::read_to_string(&path).expect("examples/events.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad example line {l}: {e}")))
        .collect()
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    secret: [u8; 32],
    entries: u64,
}

/// A store holding the example events, appended in three batches (so there
/// are several signed tree heads).
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vigil.sqlite");
    let signer = LogSigner::generate();
    let secret = signer.secret_bytes();
    let store = SqliteStore::open(&db, signer).unwrap();
    let inputs = example_inputs();
    let n = inputs.len();
    assert!(n >= 10, "the examples should hold at least 10 events");
    let chunks: Vec<Vec<EventInput>> = vec![
        inputs[..n / 3].to_vec(),
        inputs[n / 3..2 * n / 3].to_vec(),
        inputs[2 * n / 3..].to_vec(),
    ];
    for chunk in chunks {
        let drafts = chunk
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.prepare(chrono::Utc::now(), [i as u8; 16]).unwrap())
            .collect();
        let out = store.append(drafts).unwrap();
        for r in out.results {
            r.expect("example event accepted");
        }
    }
    let entries = store.log_size().unwrap();
    drop(store);
    Fixture { _dir: dir, db, secret, entries }
}

/// Copies the fixture's database, applies `tamper` to the copy with plain
/// SQL, and verifies the copy.
fn verify_after(f: &Fixture, tamper: impl FnOnce(&Connection)) -> Option<Problem> {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.sqlite");
    std::fs::copy(&f.db, &copy).unwrap();
    {
        let conn = Connection::open(&copy).unwrap();
        tamper(&conn);
    }
    let store = SqliteStore::open(&copy, LogSigner::from_secret_bytes(&f.secret)).unwrap();
    verify(&store, VerifyOptions::default()).unwrap().problem
}

fn flip_text_byte(s: &str, pos: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    let p = pos.min(b.len() - 1);
    b[p] = if b[p] == b'a' { b'b' } else if b[p].is_ascii_alphanumeric() { b'a' } else { b'0' };
    b
}

#[test]
fn untouched_store_verifies() {
    let f = fixture();
    assert_eq!(verify_after(&f, |_| {}), None);
}

#[test]
fn one_changed_byte_in_any_column_of_any_entry_is_named() {
    let f = fixture();
    for i in 0..f.entries {
        for column in ["header", "payload", "event_id"] {
            for pos_frac in [0usize, 50, 99] {
                let p = verify_after(&f, |c| {
                    let v: String = c
                        .query_row(&format!("SELECT {column} FROM ledger_entries WHERE idx = ?1"), [i], |r| r.get(0))
                        .unwrap();
                    let pos = v.len() * pos_frac / 100;
                    let changed = flip_text_byte(&v, pos);
                    assert_ne!(changed, v.as_bytes());
                    c.execute(
                        &format!("UPDATE ledger_entries SET {column} = CAST(?1 AS TEXT) WHERE idx = ?2"),
                        params![changed, i],
                    )
                    .unwrap();
                })
                .unwrap_or_else(|| panic!("changing {column} of entry {i} at {pos_frac}% went unnoticed"));
                assert_eq!(p.entry, Some(i), "{column} of entry {i}: {p}");
                assert!(p.message.contains(&format!("entry {i}")), "{p}");
            }
        }
        for column in ["salt", "leaf_hash"] {
            let p = verify_after(&f, |c| {
                let mut v: Vec<u8> = c
                    .query_row(&format!("SELECT {column} FROM ledger_entries WHERE idx = ?1"), [i], |r| r.get(0))
                    .unwrap();
                v[3] ^= 0x01;
                c.execute(&format!("UPDATE ledger_entries SET {column} = ?1 WHERE idx = ?2"), params![v, i])
                    .unwrap();
            })
            .unwrap_or_else(|| panic!("changing {column} of entry {i} went unnoticed"));
            assert_eq!(p.entry, Some(i), "{column} of entry {i}: {p}");
        }
    }
}

#[test]
fn a_header_that_is_no_longer_utf8_is_named_not_a_crash() {
    let f = fixture();
    let p = verify_after(&f, |c| {
        c.execute("UPDATE ledger_entries SET header = CAST(X'7B22FF22' AS TEXT) WHERE idx = 2", []).unwrap();
    })
    .expect("noticed");
    assert_eq!(p.entry, Some(2));
}

#[test]
fn a_deleted_row_is_named() {
    let f = fixture();
    for i in [0, f.entries / 2, f.entries - 1] {
        let p = verify_after(&f, |c| {
            c.execute("DELETE FROM ledger_entries WHERE idx = ?1", [i]).unwrap();
        })
        .unwrap_or_else(|| panic!("deleting entry {i} went unnoticed"));
        assert_eq!(p.entry, Some(i), "deleting {i}: {p}");
        assert!(p.message.contains(&format!("{i}")), "{p}");
    }
}

#[test]
fn swapped_rows_are_named() {
    let f = fixture();
    for (a, b) in [(0, 1), (2, f.entries - 1), (f.entries / 2, f.entries / 2 + 3)] {
        let p = verify_after(&f, |c| {
            // Swap everything but the position.
            c.execute_batch(&format!(
                "CREATE TEMP TABLE t AS SELECT * FROM ledger_entries WHERE idx IN ({a}, {b});
                 DELETE FROM ledger_entries WHERE idx IN ({a}, {b});
                 INSERT INTO ledger_entries SELECT CASE idx WHEN {a} THEN {b} ELSE {a} END, event_id, kind, header, payload, salt, leaf_hash FROM t;"
            ))
            .unwrap();
        })
        .unwrap_or_else(|| panic!("swapping {a} and {b} went unnoticed"));
        assert_eq!(p.entry, Some(a), "swap {a},{b}: {p}");
        assert!(p.message.contains("swapped"), "{p}");
    }
}

#[test]
fn a_consistently_rewritten_entry_is_caught_by_the_signed_tree_head() {
    // The attacker changes a payload and recomputes every hash Vigil stores
    // for that row; only the signature over the tree head can catch it.
    let f = fixture();
    let p = verify_after(&f, |c| {
        let (header, payload, salt): (String, String, Vec<u8>) = c
            .query_row("SELECT header, payload, salt FROM ledger_entries WHERE idx = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        let new_payload = payload.replacen('"', "\"x", 1);
        let old_digest = hex::encode(vigil_model::event::payload_digest(&salt, payload.as_bytes()));
        let new_digest = hex::encode(vigil_model::event::payload_digest(&salt, new_payload.as_bytes()));
        let new_header = header.replace(&old_digest, &new_digest);
        let leaf = vigil_ledger::leaf_hash(new_header.as_bytes());
        c.execute(
            "UPDATE ledger_entries SET header = ?1, payload = ?2, leaf_hash = ?3 WHERE idx = 1",
            params![new_header, new_payload, &leaf[..]],
        )
        .unwrap();
    })
    .expect("a consistent rewrite must still be caught");
    assert!(p.message.contains("signed tree head"), "{p}");
    assert!(p.entry.unwrap() >= 1);
}

#[test]
fn truncating_the_log_is_caught() {
    let f = fixture();
    let last = f.entries - 1;
    let p = verify_after(&f, |c| {
        c.execute("DELETE FROM ledger_entries WHERE idx >= ?1", [last - 1]).unwrap();
    })
    .expect("noticed");
    assert_eq!(p.entry, Some(last - 1));
    assert!(p.message.contains("missing"));
}

#[test]
fn an_altered_tree_head_is_caught() {
    let f = fixture();
    let p = verify_after(&f, |c| {
        c.execute("UPDATE tree_heads SET timestamp_ms = timestamp_ms + 1 WHERE size = (SELECT min(size) FROM tree_heads)", [])
            .unwrap();
    })
    .expect("noticed");
    assert!(p.message.contains("signature"), "{p}");
}

#[test]
fn altered_deleted_or_invented_projection_rows_are_named() {
    let f = fixture();
    let ids: Vec<String> = {
        let c = Connection::open(&f.db).unwrap();
        let mut s = c.prepare("SELECT id FROM entities ORDER BY id").unwrap();
        let v = s.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        v
    };
    assert!(ids.len() >= 5);
    for id in &ids {
        let p = verify_after(&f, |c| {
            let state: String = c.query_row("SELECT state FROM entities WHERE id = ?1", [id], |r| r.get(0)).unwrap();
            // Change a value but keep it JSON, as a careful tamperer would.
            let changed = state.replacen(":\"", ":\"x", 1).replacen(":true", ":false", 1);
            let changed = if changed == state { state.replacen(":0", ":1", 1) } else { changed };
            assert_ne!(changed, state, "could not alter {state}");
            c.execute("UPDATE entities SET state = ?1 WHERE id = ?2", params![changed, id]).unwrap();
        })
        .unwrap_or_else(|| panic!("altering projection row {id} went unnoticed"));
        assert!(p.message.contains(id.as_str()), "{p}");
    }
    let p = verify_after(&f, |c| {
        c.execute("DELETE FROM entities WHERE id = ?1", [&ids[2]]).unwrap();
    })
    .expect("noticed");
    assert!(p.message.contains(&ids[2]) && p.message.contains("missing"), "{p}");
    let p = verify_after(&f, |c| {
        c.execute(
            "INSERT INTO entities(id, kind, state, created_idx, updated_idx) VALUES ('ffffffff-ffff-7fff-8fff-ffffffffffff', 'person', '{}', 0, 0)",
            [],
        )
        .unwrap();
    })
    .expect("noticed");
    assert!(p.message.contains("not produced by the log"), "{p}");
    let p = verify_after(&f, |c| {
        c.execute("UPDATE entities SET state = 'not json' WHERE id = ?1", [&ids[0]]).unwrap();
    })
    .expect("noticed");
    assert!(p.message.contains(&ids[0]), "{p}");
    let p = verify_after(&f, |c| {
        c.execute("DELETE FROM event_subjects WHERE rowid IN (SELECT rowid FROM event_subjects LIMIT 1)", [])
            .or_else(|_| c.execute("DELETE FROM event_subjects WHERE idx = 3", []))
            .unwrap();
    })
    .expect("noticed");
    assert!(p.message.contains("subject index"), "{p}");
}
