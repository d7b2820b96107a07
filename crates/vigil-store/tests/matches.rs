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
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::Store;

on_both_backends!(merge_and_unmerge_round_trip_through_the_ledger);

const A: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0a01);
const B: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0b01);
const C: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0c01);

fn ev(kind: &str, payload: serde_json::Value) -> EventDraft {
    let input: EventInput = serde_json::from_value(json!({
        "actor": {"user": "tt1", "role": "triage"},
        "agency": "northshire-council",
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
