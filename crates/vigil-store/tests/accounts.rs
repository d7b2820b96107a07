//! What the web service keeps beside the log, on both backends: password
//! hashes and sessions round-trip, failed sign-ins are counted per key,
//! receipts asked for are kept with their events, the access log is one hash chain that refuses UPDATE
//! and DELETE and whose tampering (behind the triggers' back) is found, and
//! read models can ask what changed since a log position.

#[macro_use]
mod common;

use common::{draft, fill_fixture, person, Backend, TestDb};
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_model::{EntityKind, SubjectRef};
use vigil_store::accounts::{
    verify_access_log, AccessQuery, AccessRecord, AttemptLimit, Credential, HeldForm, LoginAttempt,
    Reserved, SessionRow,
};

on_both_backends!(
    credentials_sessions_and_failures_round_trip,
    the_access_log_is_one_chain_and_tampering_is_found,
    rows_cut_off_the_end_of_the_access_log_are_found_by_its_anchors,
    read_models_ask_what_changed_since_a_position,
    kept_receipts_are_written_with_their_events,
    attempts_from_two_servers_at_once_are_counted_before_the_check,
    a_right_password_forgets_its_reserved_attempt,
    sign_in_records_keep_address_and_session_and_are_listed_apart,
    a_held_form_is_taken_once_by_its_own_account_before_it_expires,
);

/// A form sent on an ended session, held for its account: only that
/// account takes it, once, before it expires; the purge forgets it after.
fn a_held_form_is_taken_once_by_its_own_account_before_it_expires(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    let owner = Uuid::from_u128(7);
    let other = Uuid::from_u128(8);
    let body =
        "csrf=x&concern=She+said+%22he%27s+my+boyfriend%22%0Anext+line&child_given=J%C3%A1de";
    store
        .hold_form(&HeldForm {
            token_sha256: [1u8; 32],
            user_id: owner,
            form: body.into(),
            created_ms: 1_000,
            expires_ms: 5_000,
        })
        .unwrap();
    // The same token twice is refused (a token is one-time).
    assert!(store
        .hold_form(&HeldForm {
            token_sha256: [1u8; 32],
            user_id: other,
            form: "x=1".into(),
            created_ms: 1_000,
            expires_ms: 5_000,
        })
        .is_err());
    assert_eq!(
        store.take_held_form(&[1u8; 32], other, 2_000).unwrap(),
        None
    );
    assert_eq!(
        store.take_held_form(&[2u8; 32], owner, 2_000).unwrap(),
        None
    );
    assert_eq!(
        store
            .take_held_form(&[1u8; 32], owner, 2_000)
            .unwrap()
            .as_deref(),
        Some(body),
        "the owner takes it, byte for byte"
    );
    assert_eq!(
        store.take_held_form(&[1u8; 32], owner, 2_000).unwrap(),
        None,
        "once"
    );
    // Expired: not taken, then purged.
    store
        .hold_form(&HeldForm {
            token_sha256: [3u8; 32],
            user_id: owner,
            form: "a=1".into(),
            created_ms: 1_000,
            expires_ms: 5_000,
        })
        .unwrap();
    assert_eq!(
        store.take_held_form(&[3u8; 32], owner, 5_001).unwrap(),
        None
    );
    store.purge_expired(0, 6_000, 0).unwrap();
    store
        .hold_form(&HeldForm {
            token_sha256: [3u8; 32],
            user_id: owner,
            form: "a=2".into(),
            created_ms: 7_000,
            expires_ms: 9_000,
        })
        .expect("the purged row is gone, so its token is free");
    // A huge form is kept whole.
    let huge = "x".repeat(1_000_000);
    store
        .hold_form(&HeldForm {
            token_sha256: [4u8; 32],
            user_id: owner,
            form: huge.clone(),
            created_ms: 1_000,
            expires_ms: 9_000,
        })
        .unwrap();
    assert_eq!(
        store.take_held_form(&[4u8; 32], owner, 2_000).unwrap(),
        Some(huge)
    );
}

fn limit(key: &str, limit: u32) -> AttemptLimit {
    AttemptLimit {
        key: key.into(),
        limit,
    }
}

/// Forty attempts at once, from two store handles (as two servers on one
/// database): at most the limit are admitted to a password check.
fn attempts_from_two_servers_at_once_are_counted_before_the_check(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = LogSigner::generate().secret_bytes();
    let stores: Vec<std::sync::Arc<dyn vigil_store::Store>> =
        vec![db.open(&secret).into(), db.open(&secret).into()];
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(40));
    let admitted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let store = std::sync::Arc::clone(&stores[i % 2]);
                let barrier = std::sync::Arc::clone(&barrier);
                s.spawn(move || {
                    barrier.wait();
                    let limits = [
                        limit("user:pc.005", 5),
                        limit(&format!("ip:10.0.0.{i}"), 20),
                    ];
                    matches!(
                        store.reserve_login_attempt(&limits, 1_000, 0).unwrap(),
                        Reserved::Admitted(_)
                    ) as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(admitted, 5, "exactly the limit is admitted");
    match stores[0]
        .reserve_login_attempt(&[limit("user:pc.005", 5)], 2_000, 0)
        .unwrap()
    {
        Reserved::Waiting { limit, until_ms } => {
            assert_eq!((limit, until_ms), (0, 31_000));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stores[1].login_failures("user:pc.005", 0).unwrap().0, 5);
}

/// A right password forgets only its own reservation, so many staff
/// signing in through one office gateway never add up to a wait.
fn a_right_password_forgets_its_reserved_attempt(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    let gateway = limit("ip:192.0.2.1", 3);
    for (i, at) in [(1, 100), (2, 100), (3, 100), (4, 200)] {
        let Reserved::Admitted(a) = store
            .reserve_login_attempt(&[limit(&format!("user:u{i}"), 5), gateway.clone()], at, 0)
            .unwrap()
        else {
            panic!("signing in through one gateway must not wait");
        };
        assert_eq!(a.at_ms, at);
        assert_eq!(a.before, [0, 0], "each forgot its attempt");
        store.forget_login_attempt(&a).unwrap();
    }
    assert_eq!(store.login_failures("ip:192.0.2.1", 0).unwrap().0, 0);
    // Only one row of several with the same key and time goes.
    let a = LoginAttempt {
        keys: vec!["user:u9".into()],
        at_ms: 5,
        before: vec![0],
    };
    let l = [limit("user:u9", 9)];
    store.reserve_login_attempt(&l, 5, 0).unwrap();
    store.reserve_login_attempt(&l, 5, 0).unwrap();
    store.forget_login_attempt(&a).unwrap();
    assert_eq!(store.login_failures("user:u9", 0).unwrap(), (1, Some(5)));
}

/// Sign-in rows carry the address and a hash of the session, stay in the
/// chain, and the sign-in filter lists only them.
fn sign_in_records_keep_address_and_session_and_are_listed_apart(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    let signed_in = AccessRecord {
        action: "signed in".into(),
        subjects: vec![],
        address: Some("192.0.2.7".into()),
        session: Some("ab".repeat(32)),
        ..access("triage.01", 1)
    };
    let refused = AccessRecord {
        action: "sign-in refused".into(),
        subjects: vec![],
        role: None,
        agency: String::new(),
        user: "nobody\\n".into(),
        address: Some("192.0.2.7".into()),
        session: None,
        ..access("x", 1)
    };
    store
        .append_access(&[
            access("triage.01", 1),
            signed_in.clone(),
            refused.clone(),
            access("triage.01", 2),
        ])
        .unwrap();
    let listed: Vec<AccessRecord> = store
        .access_entries(&AccessQuery {
            sign_ins: true,
            limit: 10,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .filter_map(|e| e.record())
        .collect();
    assert_eq!(listed, vec![refused, signed_in.clone()]);
    let mine = store
        .access_entries(&AccessQuery {
            sign_ins: true,
            user: Some("triage.01".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert!(mine[0].record_json.contains(r#""address":"192.0.2.7""#));
    assert_eq!(verify_access_log(store.as_ref()).unwrap(), (4, None));
}

fn credentials_sessions_and_failures_round_trip(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    let id = Uuid::from_u128(7);
    assert!(store.credential("triage.01").unwrap().is_none());
    let mut c = Credential {
        user_id: id,
        username: "triage.01".into(),
        phc: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        must_change: true,
        set_at_ms: 1,
    };
    store.put_credential(&c).unwrap();
    assert_eq!(store.credential("triage.01").unwrap().unwrap(), c);
    c.must_change = false;
    c.phc.push('x');
    store.put_credential(&c).unwrap();
    assert_eq!(
        store.credential("triage.01").unwrap().unwrap(),
        c,
        "replaced, not added"
    );

    let s = SessionRow {
        token_sha256: [9u8; 32],
        user_id: id,
        csrf: "csrf-token".into(),
        created_ms: 10,
        last_seen_ms: 10,
        expires_ms: 1_000,
        restricted: true,
    };
    store.insert_session(&s).unwrap();
    assert_eq!(store.session(&[9u8; 32]).unwrap().unwrap(), s);
    assert!(store.session(&[8u8; 32]).unwrap().is_none());
    store.touch_session(&[9u8; 32], 20, 2_000).unwrap();
    let t = store.session(&[9u8; 32]).unwrap().unwrap();
    assert_eq!((t.last_seen_ms, t.expires_ms), (20, 2_000));
    store
        .insert_session(&SessionRow {
            token_sha256: [5u8; 32],
            expires_ms: 50,
            ..s.clone()
        })
        .unwrap();
    store.purge_expired(100, 100, 0).unwrap();
    assert!(
        store.session(&[5u8; 32]).unwrap().is_none(),
        "expired sessions are purged"
    );
    assert!(store.session(&[9u8; 32]).unwrap().is_some());
    assert_eq!(store.delete_sessions_of(id).unwrap(), 1);
    assert!(store.session(&[9u8; 32]).unwrap().is_none());

    let limits = [limit("user:triage.01", 10), limit("ip:127.0.0.1", 10)];
    for at in [100, 200, 300] {
        assert!(matches!(
            store.reserve_login_attempt(&limits, at, 0).unwrap(),
            Reserved::Admitted(_)
        ));
    }
    assert_eq!(
        store.login_failures("user:triage.01", 0).unwrap(),
        (3, Some(300))
    );
    assert_eq!(
        store.login_failures("user:triage.01", 150).unwrap(),
        (2, Some(300))
    );
    store.clear_login_failures("user:triage.01", 300).unwrap();
    assert_eq!(
        store.login_failures("user:triage.01", 0).unwrap(),
        (1, Some(300)),
        "only those before the moment given"
    );
    store.clear_login_failures("user:triage.01", 301).unwrap();
    assert_eq!(
        store.login_failures("user:triage.01", 0).unwrap(),
        (0, None)
    );
    assert_eq!(
        store.login_failures("ip:127.0.0.1", 0).unwrap().0,
        3,
        "other keys are kept"
    );
}

/// A kept receipt is written with its event, is the receipt the caller was
/// given (same JSON), and verifies; events not asked for, and a draft the
/// rules refuse, leave none.
fn kept_receipts_are_written_with_their_events(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let signer = LogSigner::generate();
    let store = db.open(&signer.secret_bytes());
    let first = draft(&person(1, 1));
    let second = draft(&person(2, 2));
    let again = draft(&person(1, 1)); // the same event id again: refused
    let (kept, not_kept, refused) = (first.id, second.id, Uuid::from_u128(1234));
    assert!(store.receipt(kept).unwrap().is_none());
    let mut batch = vigil_store::Batch::of_drafts(vec![first, second, again]);
    batch.keep_receipts([kept, refused]);
    let out = store.append_batch(batch).unwrap();
    assert!(out.results[2].is_err(), "the duplicate is refused");
    let given = out.results[0].as_ref().unwrap();
    let stored = store.receipt(kept).unwrap().expect("the receipt was kept");
    assert_eq!(
        stored,
        vigil_store::write::receipt_json(&given.receipt).unwrap()
    );
    let parsed: vigil_ledger::Receipt = serde_json::from_str(&stored).unwrap();
    parsed
        .verify(&signer.public_key())
        .expect("the kept receipt verifies");
    assert!(store.receipt(not_kept).unwrap().is_none());
    assert!(store.receipt(refused).unwrap().is_none());
    // A plain append keeps nothing.
    let out = store.append(vec![draft(&person(3, 3))]).unwrap();
    let id = out.results[0].as_ref().unwrap().event_id;
    assert!(store.receipt(id).unwrap().is_none());
}

fn access(user: &str, person: u128) -> AccessRecord {
    AccessRecord {
        at: "2025-03-01T10:00:00.000Z".into(),
        user: user.into(),
        role: Some(vigil_model::codes::Role::Triage),
        agency: "northshire-childrens-services".into(),
        action: "opened person record".into(),
        subjects: vec![SubjectRef::new(EntityKind::Person, Uuid::from_u128(person))],
        address: None,
        session: None,
    }
}

fn the_access_log_is_one_chain_and_tampering_is_found(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    assert_eq!(verify_access_log(store.as_ref()).unwrap(), (0, None));
    assert_eq!(
        store
            .append_access(&[access("a", 1), access("b", 2)])
            .unwrap(),
        0
    );
    assert_eq!(store.append_access(&[access("a", 2)]).unwrap(), 2);
    // Several threads appending at once still make one chain.
    std::thread::scope(|s| {
        for t in 0..4 {
            let store = &store;
            s.spawn(move || {
                for i in 0..5 {
                    store
                        .append_access(&[access("c", 100 + t * 10 + i)])
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(verify_access_log(store.as_ref()).unwrap(), (23, None));
    let report = vigil_store::verify::verify(store.as_ref(), Default::default()).unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);

    let about_2 = store
        .access_entries(&AccessQuery {
            subject: Some(Uuid::from_u128(2)),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        about_2.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 1],
        "newest first"
    );
    let by_a = store
        .access_entries(&AccessQuery {
            user: Some("a".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_a.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 0]);
    let both = store
        .access_entries(&AccessQuery {
            user: Some("a".into()),
            subject: Some(Uuid::from_u128(2)),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(both.len(), 1);
    assert_eq!(both[0].record().unwrap().user, "a");
    let page = store
        .access_entries(&AccessQuery {
            before_seq: Some(2),
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1]);

    // The subject index holds one range per subject per batch: child 5's
    // range below covers rows 23 to 25, but row 24 showed only child 6 and
    // must not be listed for child 5, however the rows are paged.
    assert_eq!(
        store
            .append_access(&[access("d", 5), access("d", 6), access("d", 5)])
            .unwrap(),
        23
    );
    let about = |subject: u128, before: Option<u64>, limit: u32| {
        store
            .access_entries(&AccessQuery {
                subject: Some(Uuid::from_u128(subject)),
                before_seq: before,
                limit,
                ..Default::default()
            })
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(about(5, None, 50), vec![25, 23]);
    assert_eq!(about(6, None, 50), vec![24]);
    assert_eq!(about(5, None, 1), vec![25]);
    assert_eq!(about(5, Some(25), 1), vec![23]);
    assert_eq!(about(5, Some(23), 1), Vec::<u64>::new());
    assert_eq!(about(2, None, 1), vec![2], "older batches are still found");
    assert_eq!(about(2, Some(2), 5), vec![1]);
    assert_eq!(about(999, None, 5), Vec::<u64>::new());

    // The database itself refuses changes and deletions.
    let mut sql = db.sql();
    for stmt in [
        "UPDATE access_log SET username = 'x' WHERE seq = 1",
        "DELETE FROM access_log WHERE seq = 1",
    ] {
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sql.exec(stmt)));
        assert!(refused.is_err(), "{stmt} should be refused");
    }
    // Someone who removes the guard and edits a row is found by the chain.
    let drop_guard = match b {
        Backend::Sqlite => "DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete;",
        Backend::Postgres => "DROP TRIGGER access_log_append_only ON access_log;",
    };
    let mut sql = db.sql();
    sql.exec(drop_guard);
    sql.exec("UPDATE access_log SET record = replace(record, '\"user\":\"b\"', '\"user\":\"z\"') WHERE seq = 1");
    let (_, problem) = verify_access_log(store.as_ref()).unwrap();
    assert_eq!(
        problem.unwrap(),
        "access log row 1: its content does not match its hash: it was altered"
    );
    // `vigil verify` checks the chain too.
    let report = vigil_store::verify::verify(store.as_ref(), Default::default()).unwrap();
    assert_eq!(
        report.problem.unwrap().message,
        "access log row 1: its content does not match its hash: it was altered"
    );
    sql.exec("DELETE FROM access_log WHERE seq = 1");
    let (_, problem) = verify_access_log(store.as_ref()).unwrap();
    assert_eq!(
        problem.unwrap(),
        "access log row 1 is missing (the next row is 2)"
    );
}

fn read_models_ask_what_changed_since_a_position(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let secret = fill_fixture(&db);
    let store = db.open(&secret);
    let all = store
        .entities_changed_since(&[EntityKind::Person], None)
        .unwrap();
    assert!(!all.is_empty());
    assert!(all.iter().all(|r| r.kind == EntityKind::Person));
    assert!(all
        .windows(2)
        .all(|w| w[0].updated_index <= w[1].updated_index));
    let last = all.last().unwrap().updated_index;
    assert!(store
        .entities_changed_since(&[EntityKind::Person], Some(last))
        .unwrap()
        .is_empty());
    let out = store
        .append(vec![draft(&person(900_001, 900_001))])
        .unwrap();
    assert!(out.results[0].is_ok(), "{:?}", out.results[0]);
    let changed = store
        .entities_changed_since(&[EntityKind::Person], Some(last))
        .unwrap();
    assert_eq!(changed.len(), 1);
}

/// `access_log.checkpointed` for the given rows and head.
fn anchor(rows: u64, head: &str) -> vigil_model::EventDraft {
    draft(&format!(
        r#"{{"actor":{{"user":"vigil","role":"system"}},"agency":"vigil","occurred_at":{{"value":"2025-01-01","precision":"day"}},"kind":"access_log.checkpointed","payload":{{"rows":{rows},"head_sha256":"{head}"}}}}"#
    ))
}

fn rows_cut_off_the_end_of_the_access_log_are_found_by_its_anchors(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    for i in 0..5 {
        store.append_access(&[access("a", i)]).unwrap();
    }
    let (seq, hash) = vigil_store::accounts::access_head(store.as_ref())
        .unwrap()
        .unwrap();
    assert_eq!(seq, 4);
    let out = store.append(vec![anchor(5, &hex::encode(&hash))]).unwrap();
    assert!(out.results[0].is_ok(), "{:?}", out.results[0]);
    assert_eq!(verify_access_log(store.as_ref()).unwrap(), (5, None));
    // The chain alone cannot see rows cut off its end; the anchor can.
    let drop_guard = match b {
        Backend::Sqlite => "DROP TRIGGER access_log_no_delete;",
        Backend::Postgres => "DROP TRIGGER access_log_append_only ON access_log;",
    };
    let mut sql = db.sql();
    sql.exec(drop_guard);
    sql.exec("DELETE FROM access_log WHERE seq >= 3");
    let (_, problem) = verify_access_log(store.as_ref()).unwrap();
    let entry = out.results[0].as_ref().unwrap().index;
    assert_eq!(
        problem.unwrap(),
        format!("access log rows 3 to 4 are missing: the ledger anchored 5 rows at entry {entry}")
    );
    let report = vigil_store::verify::verify(store.as_ref(), Default::default()).unwrap();
    assert!(report
        .problem
        .unwrap()
        .message
        .contains("are missing: the ledger anchored"));

    // An anchor whose hash the chain does not reach: the log was rewritten.
    let Some(db) = TestDb::new(b) else { return };
    let store = db.open(&LogSigner::generate().secret_bytes());
    store
        .append_access(&[access("a", 1), access("b", 2)])
        .unwrap();
    let out = store.append(vec![anchor(2, &"ab".repeat(32))]).unwrap();
    let entry = out.results[0].as_ref().unwrap().index;
    assert_eq!(
        verify_access_log(store.as_ref()).unwrap().1.unwrap(),
        format!("access log row 1 does not match the hash the ledger anchored at entry {entry}: the log was rewritten")
    );
    // Anchors never go back.
    let out = store.append(vec![anchor(1, &"cd".repeat(32))]).unwrap();
    assert!(out.results[0]
        .as_ref()
        .unwrap_err()
        .contains("cannot go back"));
}
