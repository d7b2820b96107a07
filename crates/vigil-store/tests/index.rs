//! The secondary projections on both backends: the chronology (follow-ups
//! in the child's record, mixed precisions in order, filters, paging,
//! visibility), search by name keys, edges, the referral table, batch
//! reads; a refused unit writes no index row; verification catches a
//! tampered row of each table; stale projection versions; `vigil rebuild`
//! restores damaged tables and is refused while the serving lock is held.

#[macro_use]
mod common;

use common::{Backend, TestDb};
use serde_json::json;
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_model::names::{parse_query, KeyKind};
use vigil_model::projection::PROJECTION_VERSION;
use vigil_model::{EntityKind, EventDraft, EventInput};
use vigil_store::index::{CaseActionQuery, ChronologyQuery, ReferralQuery, Visibility};
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::{Store, StoreError};

on_both_backends!(
    chronology_follow_ups_order_filters_paging_and_visibility,
    people_are_found_by_name_keys_dates_postcodes_and_references,
    edges_and_referrals_follow_their_entities,
    a_refused_unit_writes_no_index_rows,
    verify_names_a_tampered_row_of_each_table,
    a_stale_store_refuses_appends_and_verifies_as_stale_until_rebuilt,
    rebuild_restores_emptied_or_altered_tables_and_waits_for_no_server,
    case_actions_are_index_rows_by_owner_due_date_and_meeting,
);

const CHILD: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0c01);
const ADULT: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0a01);
const PLACE: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0101);
const LINK: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0111);
const REFERRAL: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0201);
const EPISODE: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0301);

const COUNCIL: &str = "northshire-council";
const POLICE: &str = "northshire-police";
const SCHOOL: &str = "northshire-school";

fn ev(
    user: &str,
    agency: &str,
    occurred: (&str, &str),
    kind: &str,
    payload: serde_json::Value,
) -> EventDraft {
    let input: EventInput = serde_json::from_value(json!({
        "actor": {"user": user, "role": "practitioner"},
        "agency": agency,
        "occurred_at": {"value": occurred.0, "precision": occurred.1},
        "kind": kind,
        "payload": payload,
    }))
    .unwrap_or_else(|e| panic!("bad test event {kind}: {e}"));
    input
        .prepare(chrono::Utc::now(), rand::random())
        .unwrap_or_else(|e| panic!("test event {kind} refused: {e}"))
}

/// A child, an adult, a place and a link, a referral (from a school) and
/// its decision, a missing episode and its return, a note about the
/// referral: dates at every precision.
fn story() -> Vec<Vec<EventDraft>> {
    vec![
        vec![
            ev(
                "sw1",
                COUNCIL,
                ("2024-05-01", "day"),
                "person.recorded",
                json!({
                    "person_id": CHILD,
                    "names": [{"given": "Aisha", "family": "Begum", "kind": "birth"}],
                    "date_of_birth": {"value": "2010-03-07", "precision": "day"},
                }),
            ),
            ev(
                "pc1",
                POLICE,
                ("2024-05-02", "day"),
                "person.recorded",
                json!({
                    "person_id": ADULT,
                    "names": [{"given": "Mohammed", "family": "Khan", "kind": "birth"}],
                }),
            ),
            ev(
                "pc1",
                POLICE,
                ("2024-05-02", "day"),
                "location.recorded",
                json!({
                    "location_id": PLACE, "kind": "home",
                    "postcode": "NS1 4AB",
                }),
            ),
            ev(
                "pc1",
                POLICE,
                ("2024-05-03", "day"),
                "link.recorded",
                json!({
                    "link_id": LINK, "kind": "lives_at",
                    "from": {"type": "person", "id": CHILD},
                    "to": {"type": "location", "id": PLACE},
                    "since": {"value": "2023-09", "precision": "month"},
                }),
            ),
        ],
        vec![
            ev(
                "teacher1",
                SCHOOL,
                ("2024-03", "month"),
                "referral.submitted",
                json!({
                    "referral_id": REFERRAL, "child_id": CHILD,
                    "concern": "Seen getting into cars after school.",
                    "others_involved": [ADULT], "immediate_danger": false,
                }),
            ),
            ev(
                "sw1",
                COUNCIL,
                ("2024-04-02T10:00:00Z", "exact"),
                "referral.decided",
                json!({
                    "referral_id": REFERRAL, "decision": "assessment",
                }),
            ),
            ev(
                "pc1",
                POLICE,
                ("2024-03-15", "day"),
                "missing_episode.recorded",
                json!({
                    "episode_id": EPISODE, "child_id": CHILD, "missing_type": "M",
                    "started_at": "2024-03-15T21:00:00Z",
                }),
            ),
            ev(
                "pc1",
                POLICE,
                ("2024-03-16T08:00:00Z", "exact"),
                "missing_episode.returned",
                json!({
                    "episode_id": EPISODE, "returned_at": "2024-03-16T08:00:00Z",
                    "return_interview_offered": true,
                }),
            ),
            ev(
                "sw1",
                COUNCIL,
                ("2024", "year"),
                "note.recorded",
                json!({
                    "subjects": [{"type": "referral", "id": REFERRAL}],
                    "text": "Chronology reviewed with the school.",
                }),
            ),
        ],
    ]
}

fn filled(b: Backend) -> Option<(TestDb, Box<dyn Store>, [u8; 32])> {
    let db = TestDb::new(b)?;
    let signer = LogSigner::generate();
    let secret = signer.secret_bytes();
    let store = vigil_store::open(&db.url, signer).unwrap();
    for unit in story() {
        let mut batch = vigil_store::Batch::new();
        batch.push_unit(unit);
        for r in store.append_batch(batch).unwrap().results {
            r.expect("story event accepted");
        }
    }
    Some((db, store, secret))
}

fn kinds(rows: &[vigil_store::index::ChronologyRow]) -> Vec<&str> {
    rows.iter().map(|r| r.kind.as_str()).collect()
}

fn chronology_follow_ups_order_filters_paging_and_visibility(b: Backend) {
    let Some((_db, store, _)) = filled(b) else {
        return;
    };
    let all = store
        .chronology(CHILD, &ChronologyQuery::default())
        .unwrap();
    // Ordered by when things happened: the year-only note first (start of
    // 2024), the month-only referral (start of March) before the days of
    // March, ties by log index; follow-ups that do not name the child are
    // in the child's chronology.
    assert_eq!(
        kinds(&all.rows),
        [
            "note.recorded",
            "referral.submitted",
            "missing_episode.recorded",
            "missing_episode.returned",
            "referral.decided",
            "person.recorded",
            "link.recorded",
        ]
    );
    assert_eq!(all.total, 7);
    let decided = all
        .rows
        .iter()
        .find(|r| r.kind == "referral.decided")
        .unwrap();
    assert_eq!(decided.record_id, REFERRAL);
    assert_eq!(decided.record_kind, "referral");
    assert_eq!(
        (decided.record_agency.as_str(), decided.record_user.as_str()),
        (SCHOOL, "teacher1")
    );
    assert_eq!(decided.agency, COUNCIL);
    assert_eq!(decided.role.as_str(), "child");
    let returned = all
        .rows
        .iter()
        .find(|r| r.kind == "missing_episode.returned")
        .unwrap();
    assert_eq!(
        (returned.record_id, returned.record_kind.as_str()),
        (EPISODE, "missing_episode")
    );
    let note = &all.rows[0];
    assert_eq!(
        (note.record_kind.as_str(), note.record_agency.as_str()),
        ("note", COUNCIL)
    );
    assert_eq!(note.occurred_at.precision, vigil_model::Precision::Year);
    // The adult is in the referral as another person involved, not in its decision.
    let adult = store
        .chronology(ADULT, &ChronologyQuery::default())
        .unwrap();
    assert_eq!(
        kinds(&adult.rows),
        ["referral.submitted", "person.recorded"]
    );
    assert_eq!(adult.rows[0].role.as_str(), "other_person");
    // Facets count what the reader may see, before the filters.
    assert_eq!(
        all.agencies,
        [
            (COUNCIL.to_owned(), 3),
            (POLICE.to_owned(), 3),
            (SCHOOL.to_owned(), 1)
        ]
    );
    assert_eq!(all.kinds.len(), 7);
    // Filters by agency and kind.
    let q = ChronologyQuery {
        agencies: vec![POLICE.into()],
        ..Default::default()
    };
    let police = store.chronology(CHILD, &q).unwrap();
    assert_eq!(
        kinds(&police.rows),
        [
            "missing_episode.recorded",
            "missing_episode.returned",
            "link.recorded"
        ]
    );
    assert_eq!(police.total, 3);
    let q = ChronologyQuery {
        kinds: vec!["referral.submitted".into(), "referral.decided".into()],
        ..Default::default()
    };
    assert_eq!(
        kinds(&store.chronology(CHILD, &q).unwrap().rows),
        ["referral.submitted", "referral.decided"]
    );
    // Paging.
    let q = ChronologyQuery {
        offset: 2,
        limit: 3,
        ..Default::default()
    };
    let page = store.chronology(CHILD, &q).unwrap();
    assert_eq!(kinds(&page.rows), kinds(&all.rows[2..5]));
    assert_eq!(page.total, 7);
    let q = ChronologyQuery {
        offset: 50,
        limit: 3,
        ..Default::default()
    };
    let past = store.chronology(CHILD, &q).unwrap();
    assert!(past.rows.is_empty());
    assert_eq!(past.total, 7);
    // Visibility applies to the owner of each row's record: the school
    // sees what belongs to its referral (the decision too), nothing else.
    let q = ChronologyQuery {
        visibility: Visibility::Agencies(vec![SCHOOL.into()]),
        ..Default::default()
    };
    let school = store.chronology(CHILD, &q).unwrap();
    assert_eq!(
        kinds(&school.rows),
        ["referral.submitted", "referral.decided"]
    );
    assert_eq!(
        school.agencies,
        [(COUNCIL.to_owned(), 1), (SCHOOL.to_owned(), 1)]
    );
    let q = ChronologyQuery {
        visibility: Visibility::Submitter {
            user_id: "teacher1".into(),
            agency: SCHOOL.into(),
        },
        ..Default::default()
    };
    assert_eq!(store.chronology(CHILD, &q).unwrap().total, 2);
    let q = ChronologyQuery {
        visibility: Visibility::Submitter {
            user_id: "teacher1".into(),
            agency: COUNCIL.into(),
        },
        ..Default::default()
    };
    assert_eq!(store.chronology(CHILD, &q).unwrap().total, 0);
    let q = ChronologyQuery {
        visibility: Visibility::Agencies(vec![]),
        ..Default::default()
    };
    assert_eq!(store.chronology(CHILD, &q).unwrap().total, 0);
}

fn people_are_found_by_name_keys_dates_postcodes_and_references(b: Backend) {
    let Some((_db, store, _)) = filled(b) else {
        return;
    };
    let find = |q: &str, visible: Option<&[String]>| {
        store.find_people(&parse_query(q), visible, 20).unwrap()
    };
    let only = |q: &str| -> Vec<Uuid> { find(q, None).iter().map(|h| h.person_id).collect() };
    assert_eq!(only("Aisha Begum"), [CHILD]);
    assert_eq!(only("ayesha"), [CHILD]);
    assert_eq!(only("Muhammad"), [ADULT]);
    assert_eq!(only("mo khan"), [ADULT]);
    assert_eq!(only("07/03/2010"), [CHILD]);
    assert_eq!(only("03/07/2010"), [CHILD]);
    assert_eq!(only("aisha 2010"), [CHILD]);
    assert_eq!(only("NS1 4AB"), [CHILD]);
    assert_eq!(only("ns1"), [CHILD]);
    let reference = vigil_model::reference::reference_for(REFERRAL);
    assert_eq!(only(&reference.to_lowercase()), [CHILD]);
    assert!(only("Aisha Khan").is_empty());
    assert!(only("Peter").is_empty());
    // Why it matched: the key of each group.
    let hit = &find("Ayesha 2010", None)[0];
    assert_eq!(hit.matched.len(), 2);
    // Ayesha is in Aisha's family of the nickname table.
    assert_eq!(
        (hit.matched[0].kind, hit.matched[0].key.as_str()),
        (KeyKind::Nickname, "aisha")
    );
    assert_eq!(
        (hit.matched[1].kind, hit.matched[1].key.as_str()),
        (KeyKind::DobYear, "2010")
    );
    assert!(find("Aisha", None)[0].score > hit.score - 3);
    // Only keys from records the reader may open count: the child's record
    // is the council's, her referral (and its reference) the school's, the
    // link to her home the police's.
    let school = [SCHOOL.to_owned()];
    assert!(find("Aisha", Some(&school)).is_empty());
    assert_eq!(find(&reference, Some(&school)).len(), 1);
    let police = [POLICE.to_owned()];
    assert_eq!(find("NS1 4AB", Some(&police)).len(), 1);
    assert!(find("NS1 4AB", Some(&school)).is_empty());
    // The postcode key follows the place when it is amended.
    let out = store
        .append(vec![ev(
            "pc1",
            POLICE,
            ("2024-06-01", "day"),
            "location.amended",
            json!({
                "location_id": PLACE, "reason": "postcode corrected",
                "postcode": "NS2 5CD",
            }),
        )])
        .unwrap();
    out.results[0].as_ref().unwrap();
    assert_eq!(only("NS2 5CD"), [CHILD]);
    assert!(only("NS1 4AB").is_empty());
    assert_eq!(
        verify(store.as_ref(), VerifyOptions::default())
            .unwrap()
            .problem,
        None
    );
}

fn edges_and_referrals_follow_their_entities(b: Backend) {
    let Some((_db, store, _)) = filled(b) else {
        return;
    };
    let edges = store.edges_of(CHILD).unwrap();
    assert_eq!(edges, store.edges_of(PLACE).unwrap());
    assert_eq!(edges.len(), 1);
    let e = &edges[0];
    assert_eq!(
        (e.link_id, e.kind.as_str(), e.active),
        (LINK, "lives_at", true)
    );
    assert_eq!(
        (e.from.id, e.to.id, e.to.kind),
        (CHILD, PLACE, EntityKind::Location)
    );
    assert_eq!(e.first_seen.to_string(), "2023-09-01");
    store
        .append(vec![ev(
            "pc1",
            POLICE,
            ("2024-06-01", "day"),
            "link.ended",
            json!({
                "link_id": LINK, "reason": "moved away",
                "until": {"value": "2024-05", "precision": "month"},
            }),
        )])
        .unwrap()
        .results[0]
        .as_ref()
        .unwrap();
    let e = &store.edges_of(CHILD).unwrap()[0];
    assert!(!e.active);
    assert_eq!(e.last_seen.to_string(), "2024-05-31");
    assert!(store.edges_of(ADULT).unwrap().is_empty());

    let ids = |q: ReferralQuery| -> Vec<Uuid> {
        store.referrals(q).unwrap().iter().map(|r| r.id).collect()
    };
    // Decided in the story: not awaiting.
    assert!(ids(ReferralQuery::AwaitingDecision).is_empty());
    assert_eq!(ids(ReferralQuery::AboutChild(CHILD)), [REFERRAL]);
    assert!(ids(ReferralQuery::AboutChild(ADULT)).is_empty());
    assert_eq!(
        ids(ReferralQuery::SubmittedBy {
            user_id: "teacher1".into(),
            agency: SCHOOL.into()
        }),
        [REFERRAL]
    );
    assert!(ids(ReferralQuery::SubmittedBy {
        user_id: "teacher1".into(),
        agency: COUNCIL.into()
    })
    .is_empty());
    let r = vigil_model::reference::reference_for(REFERRAL);
    assert_eq!(
        ids(ReferralQuery::WithReference(
            r.to_lowercase().replace('-', " ")
        )),
        [REFERRAL]
    );
    assert!(ids(ReferralQuery::WithReference("nonsense".into())).is_empty());
    let second = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0202);
    store
        .append(vec![ev(
            "teacher1",
            SCHOOL,
            ("2024-06-02", "day"),
            "referral.submitted",
            json!({
                "referral_id": second, "child_id": CHILD, "concern": "Missing again.",
                "immediate_danger": true,
                "police_called": true,
            }),
        )])
        .unwrap()
        .results[0]
        .as_ref()
        .unwrap();
    assert_eq!(ids(ReferralQuery::AwaitingDecision), [second]);
    assert_eq!(ids(ReferralQuery::AboutChild(CHILD)).len(), 2);

    let people: Vec<Uuid> = store
        .entities_of_kind(EntityKind::Person)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    let mut want = vec![CHILD, ADULT];
    want.sort();
    assert_eq!(people, want);
    let got: Vec<Uuid> = store
        .entities(&[CHILD, Uuid::from_u128(9), ADULT])
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        verify(store.as_ref(), VerifyOptions::default())
            .unwrap()
            .problem,
        None
    );
}

fn a_refused_unit_writes_no_index_rows(b: Backend) {
    let Some((db, store, _)) = filled(b) else {
        return;
    };
    let newcomer = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0c02);
    let mut batch = vigil_store::Batch::new();
    batch.push_unit(vec![
        ev(
            "sw1",
            COUNCIL,
            ("2024-06-01", "day"),
            "person.recorded",
            json!({
                "person_id": newcomer,
                "names": [{"given": "Zainab", "family": "Testname", "kind": "birth"}],
            }),
        ),
        // Refused: the episode is already over.
        ev(
            "pc1",
            POLICE,
            ("2024-06-01T08:00:00Z", "exact"),
            "missing_episode.returned",
            json!({
                "episode_id": EPISODE, "returned_at": "2024-06-01T08:00:00Z",
                "return_interview_offered": false,
            }),
        ),
    ]);
    let out = store.append_batch(batch).unwrap();
    assert!(out.results.iter().all(Result::is_err));
    assert!(store
        .chronology(newcomer, &ChronologyQuery::default())
        .unwrap()
        .rows
        .is_empty());
    assert!(store
        .find_people(&parse_query("Zainab"), None, 5)
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .chronology(CHILD, &ChronologyQuery::default())
            .unwrap()
            .total,
        7
    );
    let mut sql = db.sql();
    // Seven rows for the child, two for the adult.
    assert_eq!(sql.count("SELECT count(*) FROM chronology"), 9);
    assert_eq!(
        verify(store.as_ref(), VerifyOptions::default())
            .unwrap()
            .problem,
        None
    );
}

fn verify_names_a_tampered_row_of_each_table(b: Backend) {
    for (tamper, undo, says) in [
        (
            "UPDATE chronology SET kind = 'case.closed' WHERE kind = 'referral.decided'",
            "UPDATE chronology SET kind = 'referral.decided' WHERE kind = 'case.closed'",
            "chronology row",
        ),
        (
            "DELETE FROM chronology WHERE kind = 'missing_episode.returned'",
            "",
            "is missing",
        ),
        ("UPDATE edges SET active = false", "", "edge row of link"),
        (
            "UPDATE name_keys SET key = 'peter' WHERE key = 'aisha'",
            "",
            "name key",
        ),
        (
            "UPDATE referrals SET status = 'awaiting_decision'",
            "",
            "referral row of referral",
        ),
        (
            "UPDATE case_actions SET status = 'done'",
            "UPDATE case_actions SET status = 'open'",
            "case action row of action",
        ),
        ("DELETE FROM case_actions", "", "case action row of action"),
        (
            "UPDATE return_interviews SET done = true",
            "UPDATE return_interviews SET done = false",
            "return interview row of missing episode",
        ),
        ("DELETE FROM return_interviews", "", "is missing"),
    ] {
        let Some((db, store, _)) = filled(b) else {
            return;
        };
        // A case with an open action, so its table has a row.
        let day = ("2024-06-01", "day");
        let mut batch = vigil_store::Batch::new();
        batch.push_unit(vec![
            ev(
                "sw1",
                COUNCIL,
                day,
                "case.opened",
                json!({
                    "case_id": CASE, "child_id": CHILD, "level": "exploitation",
                    "reason": "Seen at the hotel.", "lead_agency": COUNCIL, "worker": "sw1",
                }),
            ),
            ev(
                "sw1",
                COUNCIL,
                day,
                "case.action_added",
                json!({
                    "case_id": CASE, "action_id": Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0f77),
                    "text": "Visit", "owner": "sw1", "due": "2024-06-10"
                }),
            ),
        ]);
        for r in store.append_batch(batch).unwrap().results {
            r.unwrap();
        }
        assert_eq!(
            verify(store.as_ref(), VerifyOptions::default())
                .unwrap()
                .problem,
            None
        );
        db.sql().exec(tamper);
        let report = verify(store.as_ref(), VerifyOptions::default()).unwrap();
        let p = report
            .problem
            .unwrap_or_else(|| panic!("{tamper} is not caught"));
        assert!(p.message.contains(says), "{tamper}: {p}");
        assert!(report.stale.is_none());
        if !undo.is_empty() {
            db.sql().exec(undo);
            assert_eq!(
                verify(store.as_ref(), VerifyOptions::default())
                    .unwrap()
                    .problem,
                None
            );
        }
    }
}

fn a_stale_store_refuses_appends_and_verifies_as_stale_until_rebuilt(b: Backend) {
    let Some((db, store, secret)) = filled(b) else {
        return;
    };
    let older = PROJECTION_VERSION + 7;
    db.sql().exec(&format!(
        "UPDATE meta SET value = '{older}' WHERE key = 'projection_version'"
    ));
    let store2 = db.open(&secret);
    let more = || {
        vec![ev(
            "sw1",
            COUNCIL,
            ("2024-06-01", "day"),
            "note.recorded",
            json!({
                "subjects": [{"type": "person", "id": CHILD}], "text": "Visited.",
            }),
        )]
    };
    match store2.append(more()) {
        Err(StoreError::Stale(m)) => {
            assert!(
                m.contains(&format!("version {older}")) && m.contains("vigil rebuild"),
                "{m}"
            )
        }
        other => panic!("a stale store appended: {other:?}"),
    }
    // Verify checks the ledger and says the projections are stale, not corrupt.
    let report = verify(store2.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(report.problem, None);
    assert!(report
        .stale
        .unwrap()
        .contains(&format!("built by projection version {older}")));
    assert_eq!(report.entries, 9);
    // A store from before versions were recorded, whose tables match
    // version 1, counts as version 1 (but is rebuilt before it is written).
    db.sql()
        .exec("DELETE FROM meta WHERE key = 'projection_version'");
    let report = verify(store2.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
    assert!(matches!(store2.append(more()), Err(StoreError::Stale(_))));
    // ... and if they do not match, it is stale, with the first difference.
    db.sql().exec("DELETE FROM chronology");
    let report = verify(store2.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!(report.problem, None);
    assert!(report.stale.unwrap().contains("chronology row"));
    let r = store2.rebuild_projections(&mut |_, _| {}).unwrap();
    assert_eq!(
        (r.entries, r.previous_version, r.version),
        (9, None, PROJECTION_VERSION)
    );
    let report = verify(store2.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
    store2.append(more()).unwrap().results[0].as_ref().unwrap();
    drop(store);
}

fn rebuild_restores_emptied_or_altered_tables_and_waits_for_no_server(b: Backend) {
    let Some((db, store, _)) = filled(b) else {
        return;
    };
    let before = store
        .chronology(CHILD, &ChronologyQuery::default())
        .unwrap();
    db.sql().exec(
        "DELETE FROM chronology; DELETE FROM edges; DELETE FROM referrals;
         UPDATE name_keys SET agency = 'elsewhere'; UPDATE entities SET state = '{}' WHERE kind = 'person'",
    );
    assert!(verify(store.as_ref(), VerifyOptions::default())
        .unwrap()
        .problem
        .is_some());
    // Refused while a server holds the serving lock.
    let serving = store.hold_serving_lock().unwrap();
    let e = store.rebuild_projections(&mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("server"), "{e}");
    assert!(verify(store.as_ref(), VerifyOptions::default())
        .unwrap()
        .problem
        .is_some());
    drop(serving);
    let mut calls = Vec::new();
    let r = store
        .rebuild_projections(&mut |done, total| calls.push((done, total)))
        .unwrap();
    assert_eq!(r.entries, 9);
    assert_eq!(calls.last(), Some(&(9, 9)));
    let report = verify(store.as_ref(), VerifyOptions::default()).unwrap();
    assert_eq!((report.problem, report.stale), (None, None));
    assert_eq!(
        store
            .chronology(CHILD, &ChronologyQuery::default())
            .unwrap(),
        before
    );
    assert_eq!(
        store
            .find_people(&parse_query("Aisha"), None, 5)
            .unwrap()
            .len(),
        1
    );
    // Appends go on after it.
    store
        .append(vec![ev(
            "sw1",
            COUNCIL,
            ("2024-06-01", "day"),
            "note.recorded",
            json!({
                "subjects": [{"type": "person", "id": CHILD}], "text": "Visited.",
            }),
        )])
        .unwrap()
        .results[0]
        .as_ref()
        .unwrap();
    assert_eq!(
        store
            .chronology(CHILD, &ChronologyQuery::default())
            .unwrap()
            .total,
        8
    );
}

const CASE: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0d01);
const MEETING: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0e01);

fn action_ids(store: &dyn Store, q: CaseActionQuery) -> Vec<(u128, String)> {
    store
        .case_actions(&q)
        .unwrap()
        .into_iter()
        .map(|r| (r.action_id.as_u128() & 0xff, r.status))
        .collect()
}

fn case_actions_are_index_rows_by_owner_due_date_and_meeting(b: Backend) {
    let Some((_db, store, _)) = filled(b) else {
        return;
    };
    let day = ("2024-06-01", "day");
    let a = |n: u128| Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0f00 + n);
    let unit = vec![
        ev(
            "sw1",
            COUNCIL,
            day,
            "case.opened",
            json!({
                "case_id": CASE, "child_id": CHILD, "level": "exploitation",
                "reason": "Seen at the hotel.", "lead_agency": COUNCIL, "worker": "sw1",
                "agencies": [POLICE], "risk": "high", "risk_reason": "Missing twice."
            }),
        ),
        ev(
            "sw1",
            COUNCIL,
            day,
            "meeting.recorded",
            json!({
                "meeting_id": MEETING, "kind": "strategy_discussion", "child_id": CHILD,
                "attendees": [COUNCIL, POLICE], "decisions": "Visit.", "case_id": CASE
            }),
        ),
        ev(
            "sw1",
            COUNCIL,
            day,
            "case.action_added",
            json!({
                "case_id": CASE, "action_id": a(1), "text": "Visit", "owner": "sw1", "due": "2024-06-10"
            }),
        ),
        ev(
            "sw1",
            COUNCIL,
            day,
            "case.action_added",
            json!({
                "case_id": CASE, "action_id": a(2), "text": "Call school", "owner": "sw1",
                "due": "2024-06-03", "meeting_id": MEETING
            }),
        ),
        ev(
            "sw1",
            COUNCIL,
            day,
            "case.action_added",
            json!({
                "case_id": CASE, "action_id": a(3), "text": "Check the hotel", "owner": "pc1", "due": "2024-06-05"
            }),
        ),
    ];
    for e in unit {
        store.append(vec![e]).unwrap().results[0].as_ref().unwrap();
    }
    let owned = |o: &str| action_ids(&*store, CaseActionQuery::OpenOwnedBy(o.into()));
    let open = |n| (n, "open".to_owned());
    // Earliest due first.
    assert_eq!(owned("sw1"), [open(2), open(1)]);
    assert_eq!(owned("pc1"), [open(3)]);
    assert!(owned("nobody").is_empty());
    let due_before = |d: &str| {
        action_ids(
            &*store,
            CaseActionQuery::OpenDueBefore(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap(),
            ),
        )
    };
    // Not overdue on its due date; overdue the day after.
    assert_eq!(due_before("2024-06-03"), Vec::<(u128, String)>::new());
    assert_eq!(due_before("2024-06-04"), [open(2)]);
    assert_eq!(due_before("2024-06-11"), [open(2), open(3), open(1)]);
    assert_eq!(
        action_ids(&*store, CaseActionQuery::OfMeeting(MEETING)),
        [open(2)]
    );
    store
        .append(vec![ev(
            "sw1",
            COUNCIL,
            day,
            "case.action_closed",
            json!({
                "case_id": CASE, "action_id": a(2), "status": "done", "note": "Called."
            }),
        )])
        .unwrap()
        .results[0]
        .as_ref()
        .unwrap();
    assert_eq!(owned("sw1"), [open(1)]);
    assert_eq!(due_before("2024-06-11"), [open(3), open(1)]);
    assert_eq!(
        action_ids(&*store, CaseActionQuery::OfMeeting(MEETING)),
        [(2, "done".to_owned())]
    );
    // A rebuild makes the same rows.
    store.rebuild_projections(&mut |_, _| {}).unwrap();
    assert_eq!(owned("sw1"), [open(1)]);
    assert_eq!(due_before("2024-06-11"), [open(3), open(1)]);
}
