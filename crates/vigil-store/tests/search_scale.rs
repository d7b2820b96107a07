//! Search over common keys on both backends: the store starts from the
//! rarest group and stops early, and must still return exactly what ranking
//! every row of every key would (computed here from the whole name index).

#[macro_use]
mod common;

use common::{Backend, TestDb};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_model::names::{parse_query, score};
use vigil_model::EventInput;
use vigil_store::Store;

on_both_backends!(
    a_rare_group_and_a_common_one_give_the_full_lookup_result,
    every_group_common_still_gives_the_top_results,
    people_with_rows_of_two_agencies_give_the_full_lookup_result,
);

const COUNCIL: &str = "scale-council";
const POLICE: &str = "scale-police";
const LIMIT: usize = 20;

/// Made-up given names, cycled (each well over the count bound's 1,000 in
/// this crowd once it has a few thousand people).
const GIVEN: [&str; 3] = ["Amara", "Amarah", "Tamsin"];

/// A crowd of `n` people all called Okafor (and 100 Okafur, a sound-alike),
/// born 2010 unless `years`; a few Zebedees among them and elsewhere; one
/// in five recorded by the police.
fn crowd(b: Backend, n: usize, years: bool) -> Option<(TestDb, Box<dyn Store>)> {
    let db = TestDb::new(b)?;
    let store = vigil_store::open(&db.url, LogSigner::generate()).unwrap();
    let mut drafts = Vec::new();
    for i in 0..n + 100 {
        let (given, family) = match i {
            _ if i >= n => ("Amara", "Okafur"),
            _ if i % 500 == 7 => ("Zebedee", "Okafor"),
            _ if i % 700 == 3 => ("Zebedee", "Smith"),
            _ => (GIVEN[i % GIVEN.len()], "Okafor"),
        };
        let year = if years { 2005 + i % 12 } else { 2010 };
        let dob = format!("{year}-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
        let agency = if i % 5 == 0 { POLICE } else { COUNCIL };
        let input: EventInput = serde_json::from_value(json!({
            "actor": {"user": "seed", "role": "practitioner"},
            "agency": agency,
            "occurred_at": {"value": "2024-01-01", "precision": "day"},
            "kind": "person.recorded",
            "payload": {"person_id": Uuid::now_v7(),
                        "names": [{"given": given, "family": family, "kind": "birth"}],
                        "date_of_birth": {"value": dob, "precision": "day"}},
        }))
        .unwrap();
        drafts.push(input.prepare(chrono::Utc::now(), rand::random()).unwrap());
    }
    for chunk in drafts.chunks(1000) {
        for r in store.append(chunk.to_vec()).unwrap().results {
            r.expect("seed person accepted");
        }
    }
    Some((db, store))
}

/// The ranking of every row of every key: each person's keys from the whole
/// index, scored by the one rule, best first, then by id.
fn full_lookup(
    store: &dyn Store,
    q: &str,
    visible: Option<&[String]>,
    limit: usize,
) -> Vec<(Uuid, u32, Vec<vigil_model::names::Key>)> {
    let q = parse_query(q);
    let mut has: HashMap<Uuid, Vec<(vigil_model::names::KeyKind, String)>> = HashMap::new();
    store
        .read_snapshot(&mut |view| {
            view.for_each_name_key(&mut |r| {
                if visible.is_none_or(|v| v.contains(&r.agency)) {
                    has.entry(r.person_id).or_default().push((r.kind, r.key));
                }
                Ok(())
            })
        })
        .unwrap();
    let mut out: Vec<_> = has
        .into_iter()
        .filter_map(|(p, keys)| {
            let (s, why) = score(&q, |k, key| {
                keys.iter().any(|(hk, hv)| *hk == k && hv == key)
            })?;
            Some((p, s, why))
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(limit);
    out
}

fn check(store: &dyn Store, q: &str, visible: Option<&[String]>, limit: usize) -> usize {
    let want = full_lookup(store, q, visible, limit);
    let got: Vec<_> = store
        .find_people(&parse_query(q), visible, limit)
        .unwrap()
        .into_iter()
        .map(|h| (h.person_id, h.score, h.matched))
        .collect();
    assert_eq!(
        got, want,
        "search for {q:?} (visible {visible:?}, limit {limit})"
    );
    got.len()
}

fn a_rare_group_and_a_common_one_give_the_full_lookup_result(b: Backend) {
    let Some((_db, store)) = crowd(b, 3000, true) else {
        return;
    };
    let council = [COUNCIL.to_owned()];
    // Zebedee is rare (6 Okafors, 5 Smiths), Okafor (and its sound)
    // common; none of the Zebedee Okafors is the police's (i % 5 != 0).
    assert_eq!(check(store.as_ref(), "Zebedee Okafor", None, LIMIT), 6);
    assert_eq!(
        check(store.as_ref(), "Zebedee Okafor", Some(&council), LIMIT),
        6
    );
    // A year has 258 people here (207 the council's), Okafor 3,000: the
    // year is the start, and Okafor is probed for its people.
    assert_eq!(check(store.as_ref(), "Okafor 2009", None, LIMIT), LIMIT);
    assert_eq!(
        check(store.as_ref(), "Okafor 2009", Some(&council), 500),
        207
    );
    assert_eq!(check(store.as_ref(), "Okafur 2009", None, 500), 258);
    assert_eq!(check(store.as_ref(), "Zebedee", None, LIMIT), 11);
    assert_eq!(check(store.as_ref(), "Nobody Okafor", None, LIMIT), 0);
}

fn every_group_common_still_gives_the_top_results(b: Backend) {
    let Some((_db, store)) = crowd(b, 3000, false) else {
        return;
    };
    let council = [COUNCIL.to_owned()];
    // Everyone is born in 2010 and nearly everyone is an Okafor or an
    // Amara: every group of these queries is common. The 100 Okafurs match
    // Okafor only by sound, so they rank below the Okafors.
    for q in [
        "Okafor 2010",
        "Amara Okafor",
        "Amara Okafor 2010",
        "Okafur 2010",
    ] {
        assert_eq!(check(store.as_ref(), q, None, LIMIT), LIMIT, "{q}");
        assert_eq!(
            check(store.as_ref(), q, Some(&council), LIMIT),
            LIMIT,
            "{q}"
        );
    }
    // A page that reaches past the heaviest weight into the lighter ones.
    assert_eq!(check(store.as_ref(), "Okafur 2010", None, 150), 150);
    // Many more than one page, and a reader who sees nothing.
    assert_eq!(check(store.as_ref(), "Amara Okafor", None, 1500), 1500);
    assert_eq!(check(store.as_ref(), "Amara Okafor", Some(&[]), LIMIT), 0);
}

/// A crowd of `n` people where each lives somewhere in NS1 (a link by the
/// council), and every third also somewhere else in NS1 by a police link:
/// those have two rows of the district's key, of different agencies, so a
/// reader who sees one agency sees some people by one row and not the
/// other, and pages of rows can end inside a person's rows.
fn crowd_at_home(b: Backend, n: usize) -> Option<(TestDb, Box<dyn Store>)> {
    let db = TestDb::new(b)?;
    let store = vigil_store::open(&db.url, LogSigner::generate()).unwrap();
    let ev = |agency: &str, kind: &str, payload: serde_json::Value| {
        let input: EventInput = serde_json::from_value(json!({
            "actor": {"user": "seed", "role": "practitioner"},
            "agency": agency,
            "occurred_at": {"value": "2024-01-01", "precision": "day"},
            "kind": kind,
            "payload": payload,
        }))
        .unwrap();
        input.prepare(chrono::Utc::now(), rand::random()).unwrap()
    };
    let places: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let mut drafts = Vec::new();
    for (i, p) in places.iter().enumerate() {
        drafts.push(ev(
            COUNCIL,
            "location.recorded",
            json!({"location_id": p, "kind": "home", "postcode": format!("NS1 {}AB", i + 1)}),
        ));
    }
    for i in 0..n {
        let person = Uuid::now_v7();
        let agency = if i % 5 == 0 { POLICE } else { COUNCIL };
        drafts.push(ev(
            agency,
            "person.recorded",
            json!({"person_id": person,
                   "names": [{"given": GIVEN[i % GIVEN.len()], "family": "Okafor", "kind": "birth"}],
                   "date_of_birth": {"value": "2010-01-01", "precision": "day"}}),
        ));
        let mut homes = vec![(COUNCIL, places[i % 2])];
        if i % 3 == 0 {
            homes.push((POLICE, places[2 + i % 2]));
        }
        for (by, place) in homes {
            drafts.push(ev(
                by,
                "link.recorded",
                json!({"link_id": Uuid::now_v7(), "kind": "lives_at",
                       "from": {"type": "person", "id": person},
                       "to": {"type": "location", "id": place},
                       "since": {"value": "2023-09", "precision": "month"}}),
            ));
        }
    }
    for chunk in drafts.chunks(1000) {
        for r in store.append(chunk.to_vec()).unwrap().results {
            r.expect("seed event accepted");
        }
    }
    Some((db, store))
}

fn people_with_rows_of_two_agencies_give_the_full_lookup_result(b: Backend) {
    let Some((_db, store)) = crowd_at_home(b, 2500) else {
        return;
    };
    let council = [COUNCIL.to_owned()];
    let police = [POLICE.to_owned()];
    for q in [
        "Amara NS1",
        "NS1 Okafor",
        "Tamsin NS1 2010",
        "NS1 3AB Amara",
    ] {
        for visible in [None, Some(&council[..]), Some(&police[..])] {
            check(store.as_ref(), q, visible, LIMIT);
            check(store.as_ref(), q, visible, 700);
        }
    }
    assert_eq!(check(store.as_ref(), "NS1", None, 3000), 2500);
    assert_eq!(check(store.as_ref(), "NS1", Some(&police), 3000), 834);
}
