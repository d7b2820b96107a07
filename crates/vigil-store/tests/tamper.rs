//! Tamper tests: every way of changing the stored record behind the
//! program's back that the foundation issue names (one byte of any stored
//! event, a deleted row, two rows swapped, an altered projection row) must be
//! caught by verification and name the entry or row; an untouched store must
//! pass. Each test runs against a real SQLite file and, when
//! `VIGIL_TEST_POSTGRES_URL` is set, a real PostgreSQL schema, tampering with
//! plain SQL in each dialect.

#[macro_use]
mod common;

use common::{fill_fixture, Backend, RawSql, TestDb};
use vigil_store::verify::{verify, Problem, VerifyOptions};

on_both_backends!(
    untouched_store_verifies,
    one_changed_byte_in_any_column_of_any_entry_is_named,
    a_header_that_cannot_be_read_is_named_not_a_crash,
    a_deleted_row_is_named,
    swapped_rows_are_named,
    a_consistently_rewritten_entry_is_caught_by_the_signed_tree_head,
    truncating_the_log_is_caught,
    an_altered_tree_head_is_caught,
    altered_deleted_or_invented_projection_rows_are_named,
    a_row_relabelled_in_the_kind_column_is_named,
);

struct Fixture {
    db: TestDb,
    secret: [u8; 32],
    entries: u64,
}

/// A store holding the fixture log, or None if the backend is not configured.
fn fixture(b: Backend) -> Option<Fixture> {
    let db = TestDb::new(b)?;
    let secret = fill_fixture(&db);
    Some(Fixture {
        db,
        secret,
        entries: 14,
    })
}

/// Copies the fixture's database, applies `tamper` to the copy with plain
/// SQL, and verifies the copy.
fn verify_after(f: &Fixture, tamper: impl FnOnce(&mut dyn RawSql)) -> Option<Problem> {
    let copy = f.db.copy();
    tamper(copy.sql().as_mut());
    let store = copy.open(&f.secret);
    verify(store.as_ref(), VerifyOptions::default())
        .unwrap()
        .problem
}

fn flip_text_byte(s: &str, pos: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    let p = pos.min(b.len() - 1);
    b[p] = if b[p] == b'a' {
        b'b'
    } else if b[p].is_ascii_alphanumeric() {
        b'a'
    } else {
        b'0'
    };
    b
}

fn untouched_store_verifies(b: Backend) {
    let Some(f) = fixture(b) else { return };
    assert_eq!(verify_after(&f, |_| {}), None);
    // And through the store that wrote it, with its projection count.
    let store = f.db.open(&f.secret);
    let r = verify(store.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(
        (r.entries, r.tree_heads, r.entities, r.problem),
        (14, 3, 6, None)
    );
}

fn one_changed_byte_in_any_column_of_any_entry_is_named(b: Backend) {
    let Some(f) = fixture(b) else { return };
    for i in 0..f.entries {
        for column in ["header", "payload", "event_id"] {
            for pos_frac in [0usize, 50, 99] {
                let p = verify_after(&f, |c| {
                    let v = c.text(&format!(
                        "SELECT {column} FROM ledger_entries WHERE idx = {i}"
                    ));
                    let pos = v.len() * pos_frac / 100;
                    let changed = flip_text_byte(&v, pos);
                    assert_ne!(changed, v.as_bytes());
                    let lit = c.text_literal(&changed);
                    c.exec(&format!(
                        "UPDATE ledger_entries SET {column} = {lit} WHERE idx = {i}"
                    ));
                })
                .unwrap_or_else(|| {
                    panic!("changing {column} of entry {i} at {pos_frac}% went unnoticed")
                });
                assert_eq!(p.entry, Some(i), "{column} of entry {i}: {p}");
                assert!(p.message.contains(&format!("entry {i}")), "{p}");
            }
        }
        for column in ["salt", "leaf_hash"] {
            let p = verify_after(&f, |c| {
                let mut v = c.bytes(&format!(
                    "SELECT {column} FROM ledger_entries WHERE idx = {i}"
                ));
                v[3] ^= 0x01;
                let lit = c.bytes_literal(&v);
                c.exec(&format!(
                    "UPDATE ledger_entries SET {column} = {lit} WHERE idx = {i}"
                ));
            })
            .unwrap_or_else(|| panic!("changing {column} of entry {i} went unnoticed"));
            assert_eq!(p.entry, Some(i), "{column} of entry {i}: {p}");
        }
    }
}

fn a_header_that_cannot_be_read_is_named_not_a_crash(b: Backend) {
    let Some(f) = fixture(b) else { return };
    // Not UTF-8 at all (SQLite keeps the bytes; PostgreSQL cannot hold them
    // and stores U+FFFD instead): either way a header that is not JSON.
    let p = verify_after(&f, |c| {
        let lit = c.text_literal(&[0x7b, 0x22, 0xff, 0x22]);
        c.exec(&format!(
            "UPDATE ledger_entries SET header = {lit} WHERE idx = 2"
        ));
    })
    .expect("noticed");
    assert_eq!(p.entry, Some(2));
}

fn a_deleted_row_is_named(b: Backend) {
    let Some(f) = fixture(b) else { return };
    for i in [0, f.entries / 2, f.entries - 1] {
        let p = verify_after(&f, |c| {
            c.exec(&format!("DELETE FROM ledger_entries WHERE idx = {i}"))
        })
        .unwrap_or_else(|| panic!("deleting entry {i} went unnoticed"));
        assert_eq!(p.entry, Some(i), "deleting {i}: {p}");
        assert!(p.message.contains(&format!("{i}")), "{p}");
    }
}

fn swapped_rows_are_named(b: Backend) {
    let Some(f) = fixture(b) else { return };
    for (a, b) in [
        (0, 1),
        (2, f.entries - 1),
        (f.entries / 2, f.entries / 2 + 3),
    ] {
        let p = verify_after(&f, |c| {
            // Swap everything but the position.
            c.exec(&format!(
                "CREATE TEMP TABLE t AS SELECT * FROM ledger_entries WHERE idx IN ({a}, {b});
                 DELETE FROM ledger_entries WHERE idx IN ({a}, {b});
                 INSERT INTO ledger_entries SELECT CASE idx WHEN {a} THEN {b} ELSE {a} END, event_id, kind, header, payload, salt, leaf_hash FROM t;"
            ))
        })
        .unwrap_or_else(|| panic!("swapping {a} and {b} went unnoticed"));
        assert_eq!(p.entry, Some(a), "swap {a},{b}: {p}");
        assert!(p.message.contains("swapped"), "{p}");
    }
}

fn a_consistently_rewritten_entry_is_caught_by_the_signed_tree_head(b: Backend) {
    // The attacker changes a payload and recomputes every hash Vigil stores
    // for that row; only the signature over the tree head can catch it.
    let Some(f) = fixture(b) else { return };
    let p = verify_after(&f, |c| {
        let header = c.text("SELECT header FROM ledger_entries WHERE idx = 1");
        let payload = c.text("SELECT payload FROM ledger_entries WHERE idx = 1");
        let salt = c.bytes("SELECT salt FROM ledger_entries WHERE idx = 1");
        let new_payload = payload.replacen("Number", "Numbex", 1);
        assert_ne!(new_payload, payload);
        let old_digest = hex::encode(vigil_model::event::payload_digest(
            &salt,
            payload.as_bytes(),
        ));
        let new_digest = hex::encode(vigil_model::event::payload_digest(
            &salt,
            new_payload.as_bytes(),
        ));
        let new_header = header.replace(&old_digest, &new_digest);
        let leaf = vigil_ledger::leaf_hash(new_header.as_bytes());
        let (h, p, l) = (
            c.text_literal(new_header.as_bytes()),
            c.text_literal(new_payload.as_bytes()),
            c.bytes_literal(&leaf),
        );
        c.exec(&format!(
            "UPDATE ledger_entries SET header = {h}, payload = {p}, leaf_hash = {l} WHERE idx = 1"
        ));
    })
    .expect("a consistent rewrite must still be caught");
    assert!(p.message.contains("signed tree head"), "{p}");
    assert!(p.entry.unwrap() >= 1);
}

fn truncating_the_log_is_caught(b: Backend) {
    let Some(f) = fixture(b) else { return };
    let last = f.entries - 1;
    let p = verify_after(&f, |c| {
        c.exec(&format!(
            "DELETE FROM ledger_entries WHERE idx >= {}",
            last - 1
        ))
    })
    .expect("noticed");
    assert_eq!(p.entry, Some(last - 1));
    assert!(p.message.contains("missing"));
}

fn an_altered_tree_head_is_caught(b: Backend) {
    let Some(f) = fixture(b) else { return };
    let p = verify_after(&f, |c| {
        c.exec("UPDATE tree_heads SET timestamp_ms = timestamp_ms + 1 WHERE size = (SELECT min(size) FROM tree_heads)")
    })
    .expect("noticed");
    assert!(p.message.contains("signature"), "{p}");
}

fn altered_deleted_or_invented_projection_rows_are_named(b: Backend) {
    let Some(f) = fixture(b) else { return };
    let ids = f.db.sql().texts("SELECT id FROM entities ORDER BY id");
    assert_eq!(ids.len(), 6);
    for id in &ids {
        let p = verify_after(&f, |c| {
            let state = c.text(&format!("SELECT state FROM entities WHERE id = '{id}'"));
            // Change a value but keep it JSON, as a careful tamperer would.
            let changed = state.replacen(":\"", ":\"x", 1);
            assert_ne!(changed, state, "could not alter {state}");
            let lit = c.text_literal(changed.as_bytes());
            c.exec(&format!(
                "UPDATE entities SET state = {lit} WHERE id = '{id}'"
            ));
        })
        .unwrap_or_else(|| panic!("altering projection row {id} went unnoticed"));
        assert!(p.message.contains(id.as_str()), "{p}");
    }
    let p = verify_after(&f, |c| {
        c.exec(&format!("DELETE FROM entities WHERE id = '{}'", ids[2]))
    })
    .expect("noticed");
    assert!(
        p.message.contains(&ids[2]) && p.message.contains("missing"),
        "{p}"
    );
    // An invented row that is a valid person (a copy of one) is found by
    // the comparison with the log ...
    let p = verify_after(&f, |c| {
        let person = c.text("SELECT state FROM entities WHERE kind = 'person' LIMIT 1");
        let lit = c.text_literal(person.as_bytes());
        c.exec(&format!("INSERT INTO entities(id, kind, state, created_idx, updated_idx) VALUES ('ffffffff-ffff-7fff-8fff-ffffffffffff', 'person', {lit}, 0, 0)"))
    })
    .expect("noticed");
    assert!(p.message.contains("not produced by the log"), "{p}");
    // ... and one that is not a person's state at all is named as it is read.
    let p = verify_after(&f, |c| {
        c.exec("INSERT INTO entities(id, kind, state, created_idx, updated_idx) VALUES ('ffffffff-ffff-7fff-8fff-ffffffffffff', 'person', '{}', 0, 0)")
    })
    .expect("noticed");
    assert!(
        p.message.contains("ffffffff-ffff-7fff-8fff-ffffffffffff")
            && p.message.contains("not a valid person"),
        "{p}"
    );
    let p = verify_after(&f, |c| {
        c.exec(&format!(
            "UPDATE entities SET state = 'not json' WHERE id = '{}'",
            ids[0]
        ))
    })
    .expect("noticed");
    assert!(p.message.contains(&ids[0]), "{p}");
    let p = verify_after(&f, |c| {
        let subject = c.text(
            "SELECT subject_id FROM event_subjects WHERE idx = 7 ORDER BY subject_id LIMIT 1",
        );
        c.exec(&format!(
            "DELETE FROM event_subjects WHERE subject_id = '{subject}' AND idx = 7"
        ));
    })
    .expect("noticed");
    assert!(p.message.contains("subject index"), "{p}");
    let p = verify_after(&f, |c| {
        c.exec(&format!(
            "INSERT INTO event_subjects(subject_id, idx) VALUES ('{}', 3)",
            ids[5]
        ))
    })
    .expect("noticed");
    assert!(p.message.contains("subject index"), "{p}");
}

fn a_row_relabelled_in_the_kind_column_is_named(b: Backend) {
    // The header (and so every hash) is untouched; only the `kind` column
    // that queries select on says something else.
    let Some(f) = fixture(b) else { return };
    for i in [0, f.entries / 2, f.entries - 1] {
        let p = verify_after(&f, |c| {
            let kinds = c.texts("SELECT DISTINCT kind FROM ledger_entries ORDER BY kind");
            let mine = c.text(&format!("SELECT kind FROM ledger_entries WHERE idx = {i}"));
            let other = kinds.iter().find(|k| **k != mine).expect("two kinds");
            let lit = c.text_literal(other.as_bytes());
            c.exec(&format!(
                "UPDATE ledger_entries SET kind = {lit} WHERE idx = {i}"
            ));
        })
        .unwrap_or_else(|| panic!("relabelling entry {i} went unnoticed"));
        assert_eq!(p.entry, Some(i), "{p}");
        assert!(
            p.message.contains(&format!("entry {i}")) && p.message.contains("kind"),
            "{p}"
        );
    }
}
