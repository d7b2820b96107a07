//! Same-person links through the ledger on both backends: a model's score,
//! a confirmation (merge), an undo (unmerge) and a rejection become edges
//! of kind `same_person` in the append transaction, active exactly while
//! the records are linked; `vigil verify` compares them and `vigil
//! rebuild` gives the same rows back.

#[macro_use]
mod common;

use common::{Backend, TestDb};
use serde_json::json;
use uuid::Uuid;
use vigil_model::payload::match_id;
use vigil_model::state::{LinkState, MatchStatus};
use vigil_model::{EventDraft, EventInput};
use vigil_store::index::{MatchReviewQuery, Visibility};
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::Store;

on_both_backends!(
    merge_and_unmerge_round_trip_through_the_ledger,
    the_review_table_holds_exactly_the_undecided_pairs,
    a_review_page_is_read_in_order_without_scanning_the_pairs
);

const A: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0a01);
const B: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0b01);
const C: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0c01);

fn ev(kind: &str, payload: serde_json::Value) -> EventDraft {
    ev_by("northshire-council", kind, payload)
}

fn ev_by(agency: &str, kind: &str, payload: serde_json::Value) -> EventDraft {
    let input: EventInput = serde_json::from_value(json!({
        "actor": {"user": "tt1", "role": "triage"},
        "agency": agency,
        "occurred_at": {"value": "2026-01-05", "precision": "day"},
        "kind": kind,
        "payload": payload,
    }))
    .unwrap_or_else(|e| panic!("bad test event {kind}: {e}"));
    input
        .prepare(chrono::Utc::now(), rand::random())
        .unwrap_or_else(|e| panic!("test event {kind} refused: {e}"))
}

fn person(id: Uuid, given: &str) -> EventDraft {
    ev(
        "person.recorded",
        json!({"person_id": id, "names": [{"given": given, "family": "Testfamily", "kind": "birth"}]}),
    )
}

fn pair(kind: &str, a: Uuid, b: Uuid, extra: serde_json::Value) -> EventDraft {
    let mut p = json!({"person_a": a, "person_b": b});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    ev(kind, p)
}

fn scored(a: Uuid, b: Uuid, ppm: u32) -> EventDraft {
    pair(
        "person_match.scored",
        a,
        b,
        json!({"probability_ppm": ppm, "threshold_ppm": 500_000, "model": "test", "model_version": "1",
               "explanation": [{"field": "family name", "level": "exact", "weight_milli": 5000}]}),
    )
}

fn append(store: &dyn Store, d: EventDraft) {
    let out = store.append(vec![d]).unwrap();
    for r in out.results {
        r.unwrap();
    }
}

/// (other end, active) of every same_person edge of `p`.
fn same_person(store: &dyn Store, p: Uuid) -> Vec<(Uuid, bool)> {
    let mut v: Vec<(Uuid, bool)> = store
        .edges_of(p)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "same_person")
        .map(|e| {
            let other = if e.from.id == p { e.to.id } else { e.from.id };
            (other, e.active)
        })
        .collect();
    v.sort();
    v
}

fn status(store: &dyn Store, a: Uuid, b: Uuid) -> MatchStatus {
    let rec = store.entity(match_id(a, b)).unwrap().unwrap();
    rec.as_kind::<LinkState>()
        .unwrap()
        .matching
        .as_ref()
        .unwrap()
        .status
}

fn merge_and_unmerge_round_trip_through_the_ledger(b: Backend) {
    let Some(db) = TestDb::new(b) else {
        return;
    };
    let store = db.open(&[5; 32]);
    let s = store.as_ref();
    for (id, name) in [(A, "Aisha"), (B, "Aysha"), (C, "Ayesha")] {
        append(s, person(id, name));
    }
    // The model proposes A~B (below its threshold) and links A~C.
    append(s, scored(B, A, 450_000));
    append(s, scored(A, C, 800_000));
    assert_eq!(same_person(s, A), [(B, false), (C, true)]);
    assert_eq!(s.edges_of_kind("same_person", 10).unwrap().len(), 2);
    assert_eq!(s.edges_of_kind("lives_at", 10).unwrap().len(), 0);
    // Merge: a person confirms A and B.
    append(
        s,
        pair(
            "person_match.confirmed",
            A,
            B,
            json!({"reason": "Same school and mother"}),
        ),
    );
    assert_eq!(status(s, A, B), MatchStatus::Confirmed);
    assert_eq!(same_person(s, B), [(A, true)]);
    // A later run scoring it low leaves the confirmation standing.
    append(s, scored(A, B, 10_000));
    assert_eq!(same_person(s, B), [(A, true)]);
    // Unmerge: the model's A~C is undone, then refused again by a run.
    append(
        s,
        pair(
            "person_match.undone",
            C,
            A,
            json!({"reason": "Different dates of birth"}),
        ),
    );
    append(s, scored(A, C, 850_000));
    assert_eq!(status(s, A, C), MatchStatus::Undone);
    assert_eq!(same_person(s, A), [(B, true), (C, false)]);
    // A refused decision writes nothing.
    let out = s
        .append(vec![pair(
            "person_match.undone",
            A,
            C,
            json!({"reason": "again"}),
        )])
        .unwrap();
    assert!(out.results[0].as_ref().unwrap_err().contains("not linked"));
    // The pair's history is in the log, found by its id.
    let history: Vec<String> = s
        .entries_about(match_id(A, B))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        history,
        [
            "person_match.scored",
            "person_match.confirmed",
            "person_match.scored"
        ]
    );
    // The decision is in both people's chronologies; scores are in neither.
    let chron = s
        .chronology(B, &vigil_store::index::ChronologyQuery::default())
        .unwrap();
    let kinds: Vec<&str> = chron.rows.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["person.recorded", "person_match.confirmed"]);

    let report = verify(s, VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
    let before: Vec<_> = [A, B, C].iter().map(|p| s.edges_of(*p).unwrap()).collect();
    let states: Vec<_> = [(A, B), (A, C)]
        .iter()
        .map(|(x, y)| s.entity(match_id(*x, *y)).unwrap())
        .collect();
    // A tampered edge is found, and rebuild gives the same rows back.
    db.sql().exec("DELETE FROM edges");
    assert!(verify(s, VerifyOptions::default())
        .unwrap()
        .problem
        .is_some());
    s.rebuild_projections(&mut |_, _| {}).unwrap();
    let after: Vec<_> = [A, B, C].iter().map(|p| s.edges_of(*p).unwrap()).collect();
    assert_eq!(before, after);
    let states_after: Vec<_> = [(A, B), (A, C)]
        .iter()
        .map(|(x, y)| s.entity(match_id(*x, *y)).unwrap())
        .collect();
    assert_eq!(states, states_after);
    let report = verify(s, VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
}

const D: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0d01);
const E: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0e01);

/// A literal for an id column (16-byte blobs on SQLite, `uuid` on PostgreSQL).
fn uuid_literal(sql: &dyn common::RawSql, id: Uuid) -> String {
    let blob = sql.bytes_literal(id.as_bytes());
    if blob.starts_with("X'") {
        blob
    } else {
        format!("'{id}'::uuid")
    }
}

fn review(
    store: &dyn Store,
    open: Visibility,
    review: Visibility,
    offset: u64,
    limit: u64,
) -> (Vec<(Uuid, Uuid, u32)>, u64) {
    let page = store
        .match_review(&MatchReviewQuery {
            from_ppm: 200_000,
            to_ppm: 900_000,
            open,
            review,
            offset,
            limit,
        })
        .unwrap();
    let rows = page
        .rows
        .iter()
        .map(|r| (r.a, r.b, r.probability_ppm))
        .collect();
    (rows, page.total)
}

fn all(store: &dyn Store) -> (Vec<(Uuid, Uuid, u32)>, u64) {
    review(store, Visibility::All, Visibility::All, 0, 100)
}

/// Every stored review row, and the pairs whose link state is undecided:
/// the two must be the same set.
fn review_rows_match_state(store: &dyn Store, pairs: &[(Uuid, Uuid)]) {
    let mut stored = Vec::new();
    store
        .read_snapshot(&mut |r| {
            r.for_each_match_review(&mut |row| {
                stored.push(row.link_id);
                Ok(())
            })
        })
        .unwrap();
    let undecided: Vec<Uuid> = {
        let mut v: Vec<Uuid> = pairs
            .iter()
            .map(|&(a, b)| match_id(a, b))
            .filter(|id| {
                store.entity(*id).unwrap().is_some_and(|rec| {
                    matches!(
                        rec.as_kind::<LinkState>()
                            .unwrap()
                            .matching
                            .as_ref()
                            .unwrap()
                            .status,
                        MatchStatus::Proposed | MatchStatus::LinkedByModel
                    )
                })
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(stored, undecided);
}

/// The review queue's projection: a row for each pair a model scored and
/// nobody decided, gone when a person decides it, back when a rejection is
/// reopened; the band, the reader's agencies, the order and the paging are
/// the store's; verify compares it and rebuild gives it back.
fn the_review_table_holds_exactly_the_undecided_pairs(b: Backend) {
    let Some(db) = TestDb::new(b) else {
        return;
    };
    let store = db.open(&[6; 32]);
    let s = store.as_ref();
    for (id, name) in [(A, "Aisha"), (B, "Aysha"), (C, "Ayesha"), (D, "Aisa")] {
        append(s, person(id, name));
    }
    // E is recorded by another agency.
    append(
        s,
        ev_by(
            "northshire-police",
            "person.recorded",
            json!({"person_id": E, "names": [{"given": "Aesha", "family": "Testfamily", "kind": "birth"}]}),
        ),
    );
    let pairs = [(A, B), (A, C), (B, C), (C, D), (A, E), (D, E)];
    append(s, scored(B, A, 500_000)); // the link names them in its own order
    append(s, scored(A, C, 850_000));
    append(s, scored(B, C, 100_000)); // below the band
    append(s, scored(C, D, 950_000)); // above it: linked by the model
    append(s, scored(A, E, 600_000)); // across agencies
    append(s, scored(D, E, 600_000));
    review_rows_match_state(s, &pairs);
    let link = |x: Uuid, y: Uuid| {
        let l = s.entity(match_id(x, y)).unwrap().unwrap();
        let l = l.as_kind::<LinkState>().unwrap().clone();
        (l.from.id, l.to.id)
    };
    let (ab, ac, ae, de) = (link(A, B), link(A, C), link(A, E), link(D, E));
    // Best first; equal probabilities by the two ids.
    let mut sixty = vec![(ae.0, ae.1, 600_000), (de.0, de.1, 600_000)];
    sixty.sort();
    let mut want = vec![(ac.0, ac.1, 850_000)];
    want.extend(sixty.iter().copied());
    want.push((ab.0, ab.1, 500_000));
    assert_eq!(all(s), (want.clone(), 4));
    // Pages.
    assert_eq!(
        review(s, Visibility::All, Visibility::All, 1, 2),
        (want[1..3].to_vec(), 4)
    );
    assert_eq!(
        review(s, Visibility::All, Visibility::All, 9, 2),
        (vec![], 4)
    );
    // A reader of one agency sees the pairs of two of its records only.
    let council = || Visibility::Agencies(vec!["northshire-council".into()]);
    assert_eq!(
        review(s, council(), council(), 0, 100),
        (vec![want[0], want[3]], 2)
    );
    // Who may open every record but review only one agency's sees pairs
    // with at least one of that agency's.
    let police = Visibility::Agencies(vec!["northshire-police".into()]);
    assert_eq!(
        review(s, Visibility::All, police, 0, 100),
        (sixty.clone(), 2)
    );
    assert_eq!(
        review(s, Visibility::Agencies(vec![]), Visibility::All, 0, 100),
        (vec![], 0)
    );

    // Deciding takes a pair out; a reopened rejection brings it back.
    append(
        s,
        pair(
            "person_match.confirmed",
            A,
            B,
            json!({"reason": "Same school"}),
        ),
    );
    append(
        s,
        pair(
            "person_match.rejected",
            A,
            C,
            json!({"reason": "Different mothers"}),
        ),
    );
    review_rows_match_state(s, &pairs);
    assert_eq!(all(s).1, 2);
    append(
        s,
        pair("person_match.undone", A, B, json!({"reason": "Twins"})),
    );
    review_rows_match_state(s, &pairs);
    assert_eq!(all(s).1, 2);
    // A later score moves a pair within the queue.
    append(s, scored(D, E, 300_000));
    assert_eq!(
        all(s),
        (vec![(ae.0, ae.1, 600_000), (de.0, de.1, 300_000)], 2)
    );
    review_rows_match_state(s, &pairs);

    let report = verify(s, VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
    let before = all(s);
    // A removed, altered or invented review row is found.
    for tamper in [
        "DELETE FROM match_review".to_owned(),
        "UPDATE match_review SET probability_ppm = 890000".to_owned(),
        format!(
            "INSERT INTO match_review(link_id, a_id, b_id, a_agency, b_agency, probability_ppm) \
             VALUES ({l}, {a}, {b}, 'northshire-council', 'northshire-council', 880000)",
            l = uuid_literal(&*db.sql(), match_id(B, D)),
            a = uuid_literal(&*db.sql(), B),
            b = uuid_literal(&*db.sql(), D),
        ),
    ] {
        db.sql().exec(&tamper);
        let problem = verify(s, VerifyOptions::default())
            .unwrap()
            .problem
            .unwrap_or_else(|| panic!("`{tamper}` went unnoticed"));
        assert!(
            problem.message.contains("match review row"),
            "{tamper}: {}",
            problem.message
        );
        s.rebuild_projections(&mut |_, _| {}).unwrap();
        assert_eq!(all(s), before);
    }
    db.sql().exec("DELETE FROM match_review");
    s.rebuild_projections(&mut |_, _| {}).unwrap();
    assert_eq!(all(s), before);
    let report = verify(s, VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
}

/// The queue at scale: more pairs than the review queue used to read
/// (20,000), all in the band; a page deep in the queue is in order and
/// counts them all, the first counts to 10,000 past itself. 205 records
/// make 20,910 pairs.
fn a_review_page_is_read_in_order_without_scanning_the_pairs(b: Backend) {
    let Some(db) = TestDb::new(b) else {
        return;
    };
    let store = db.open(&[7; 32]);
    let s = store.as_ref();
    let n = 205u128;
    let ids: Vec<Uuid> = (0..n)
        .map(|i| Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0001_0000 + i))
        .collect();
    s.append(ids.iter().map(|&id| person(id, "Testchild")).collect())
        .unwrap();
    let mut drafts = Vec::new();
    let mut k = 0u32;
    for (i, &a) in ids.iter().enumerate() {
        for &b in &ids[i + 1..] {
            // 200,000 to 899,999 ppm, spread so that many share a value.
            drafts.push(scored(a, b, 200_000 + (k * 7_919) % 700_000));
            k += 1;
        }
    }
    let total = drafts.len() as u64;
    assert!(total > 20_000);
    for chunk in drafts.chunks(5_000) {
        for r in s.append(chunk.to_vec()).unwrap().results {
            r.unwrap();
        }
    }
    // The first page counts on to 10,000 past itself, and says there are more.
    let q = |offset: u64| MatchReviewQuery {
        from_ppm: 200_000,
        to_ppm: 900_000,
        open: Visibility::All,
        review: Visibility::All,
        offset,
        limit: 50,
    };
    let page = s.match_review(&q(0)).unwrap();
    assert_eq!((page.total, page.more), (10_050, true));
    let (first, _) = review(s, Visibility::All, Visibility::All, 0, 50);
    // A page near the end counts them all.
    let page = s.match_review(&q(total - 30)).unwrap();
    assert_eq!((page.total, page.more), (total, false));
    let (deep, _) = review(s, Visibility::All, Visibility::All, total - 30, 50);
    assert_eq!(deep.len(), 30);
    for page in [&first, &deep] {
        for w in page.windows(2) {
            assert!(
                (std::cmp::Reverse(w[0].2), w[0].0, w[0].1)
                    < (std::cmp::Reverse(w[1].2), w[1].0, w[1].1),
                "out of order: {w:?}"
            );
        }
    }
    // The best of the queue is the highest score recorded.
    let best = (0..k)
        .map(|k| 200_000 + (k * 7_919) % 700_000)
        .max()
        .unwrap();
    assert_eq!(first[0].2, best);
    assert!(deep.iter().all(|r| r.2 <= first[49].2));
}
