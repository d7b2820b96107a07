//! The chronology index against an independent reading of the log, on both
//! backends.
//!
//! A synthetic borough (`vigil-synth`) is appended through the normal write
//! path; then, for every person record, the list of events about that person
//! is worked out here from the log alone (streamed with `for_each_entry`,
//! headers and payloads read as plain JSON, and who each event concerns
//! resolved by this file's own reading of the event kinds, following the
//! table in `vigil_model::index` but sharing none of its code), and checked
//! against the truth file (every true person an event names is in the
//! chronology of the records of that person). `Store::chronology` must
//! return exactly that list, in order (occurred-at sort key, then log
//! index), follow-ups included.
//!
//! The hand-made tests below the property test cover what the borough does
//! not: dates known to the month, the year or approximately; filters by
//! agency and kind; paging; and the visibility rules.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::{Backend, TestDb};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_model::{EventDraft, EventInput};
use vigil_store::index::{ChronologyQuery, Visibility, MAX_PAGE};
use vigil_store::Store;
use vigil_synth::{generate, SynthConfig};

on_both_backends!(
    chronology_of_every_person_is_exactly_the_events_about_them,
    kinds_the_borough_does_not_make_are_read_the_same_way,
    mixed_precisions_sort_by_their_first_instant_then_log_index,
    filters_facets_and_paging,
    visibility_by_record_owner,
    imported_history_keeps_the_source_systems_recorded_time,
    person_page_reads_what_the_single_reads_read,
);

// ---------------------------------------------------------------------------
// The independent reading
// ---------------------------------------------------------------------------

/// One expected chronology line, as this file works it out.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    sort: i64,
    log_index: u64,
    event_id: Uuid,
    kind: String,
    agency: String,
    actor: String,
    occurred_value: String,
    occurred_precision: String,
    recorded_at: String,
    record_id: Uuid,
    record_kind: String,
    record_agency: String,
    record_user: String,
    role: &'static str,
}

impl Line {
    fn of(r: &vigil_store::index::ChronologyRow) -> Line {
        Line {
            sort: r.occurred_sort,
            log_index: r.log_index,
            event_id: r.event_id,
            kind: r.kind.clone(),
            agency: r.agency.clone(),
            actor: r.actor.clone(),
            occurred_value: r.occurred_at.value.clone(),
            occurred_precision: serde_json::to_value(r.occurred_at.precision)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            recorded_at: r.recorded_at.clone(),
            record_id: r.record_id,
            record_kind: r.record_kind.clone(),
            record_agency: r.record_agency.clone(),
            record_user: r.record_user.clone(),
            role: r.role.as_str(),
        }
    }
}

/// The first instant an occurred-at can mean, in milliseconds: the instant
/// itself, or midnight UTC at the start of the day, month or year (an
/// approximate date as its day).
fn first_instant(value: &str, precision: &str) -> i64 {
    let day = match precision {
        "exact" => {
            return DateTime::parse_from_rfc3339(value)
                .unwrap_or_else(|e| panic!("{value}: {e}"))
                .timestamp_millis()
        }
        "day" | "approximate" => NaiveDate::parse_from_str(value, "%Y-%m-%d").unwrap(),
        "month" => NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").unwrap(),
        "year" => NaiveDate::parse_from_str(&format!("{value}-01-01"), "%Y-%m-%d").unwrap(),
        other => panic!("unknown precision {other}"),
    };
    day.and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

fn id(v: &Value, key: &str) -> Uuid {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .parse()
        .unwrap()
}

fn ids(v: &Value, key: &str) -> Vec<Uuid> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap().parse().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// `(type, id)` of a subject reference.
fn subject(v: &Value) -> (String, Uuid) {
    (v["type"].as_str().unwrap().to_owned(), id(v, "id"))
}

/// One end of a link: its type and id.
type End = (String, Uuid);

/// What the reading remembers about records made earlier in the log.
#[derive(Default)]
struct Reader {
    /// Child of each referral, episode, placement, allocation, meeting, case.
    child_of: HashMap<Uuid, Uuid>,
    /// Ends and kind of each link.
    links: HashMap<Uuid, (End, End, String)>,
    /// Victims and suspects of each offence.
    offences: HashMap<Uuid, (Vec<Uuid>, Vec<Uuid>)>,
    /// Who made each record: (agency, user) of its first event.
    owner: HashMap<Uuid, (String, String)>,
    /// Every person record, in the order recorded.
    people: Vec<Uuid>,
    /// Lines by person.
    lines: BTreeMap<Uuid, Vec<Line>>,
    /// Person ids each event named among its header subjects.
    named: HashMap<Uuid, BTreeSet<Uuid>>,
}

const CHILD_RECORDS: &[&str] = &[
    "referral",
    "missing_episode",
    "placement",
    "allocation",
    "meeting",
    "case",
];

impl Reader {
    fn read(&mut self, header: &str, payload: &str) {
        let h: Value = serde_json::from_str(header).unwrap();
        let p: Value = serde_json::from_str(payload).unwrap();
        let kind = h["kind"].as_str().unwrap().to_owned();
        let event_id = id(&h, "id");
        let agency = h["agency"].as_str().unwrap().to_owned();
        let actor = h["actor"]["user"].as_str().unwrap().to_owned();
        let named: BTreeSet<Uuid> = h["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(subject)
            .filter(|(t, _)| t == "person")
            .map(|(_, i)| i)
            .collect();
        self.named.insert(event_id, named);

        use Role::*;
        // (record kind, record id, people with their roles, in table order)
        let mut people: Vec<(Uuid, Role)> = Vec::new();
        let record: Option<(&str, Uuid)> = match kind.as_str() {
            "person.recorded" | "person.amended" => {
                let person = id(&p, "person_id");
                if kind == "person.recorded" {
                    self.people.push(person);
                }
                people.push((person, Subject));
                Some(("person", person))
            }
            "link.recorded" | "link.ended" => {
                let link = id(&p, "link_id");
                if kind == "link.recorded" {
                    let from = subject(&p["from"]);
                    let to = subject(&p["to"]);
                    let k = p["kind"].as_str().unwrap().to_owned();
                    self.links.insert(link, (from, to, k));
                }
                let (from, to, k) = self.links[&link].clone();
                for (end, is_from) in [(from, true), (to, false)] {
                    if end.0 == "person" {
                        let role = match (k.as_str(), is_from) {
                            ("victim_in", true) => Victim,
                            ("suspect_in", true) => Suspect,
                            ("witness_in", true) => Witness,
                            _ => Linked,
                        };
                        people.push((end.1, role));
                    }
                }
                Some(("link", link))
            }
            "referral.submitted" => {
                let r = id(&p, "referral_id");
                let child = id(&p, "child_id");
                self.child_of.insert(r, child);
                people.push((child, Child));
                people.extend(
                    ids(&p, "others_involved")
                        .into_iter()
                        .map(|o| (o, OtherPerson)),
                );
                Some(("referral", r))
            }
            "referral.decided" | "referral.escalated" | "assessment.completed" => {
                let r = id(&p, "referral_id");
                people.push((self.child_of[&r], Child));
                Some(("referral", r))
            }
            "missing_episode.recorded"
            | "placement.started"
            | "allocation.recorded"
            | "meeting.recorded"
            | "case.opened" => {
                let (rk, key) = match kind.as_str() {
                    "missing_episode.recorded" => ("missing_episode", "episode_id"),
                    "placement.started" => ("placement", "placement_id"),
                    "allocation.recorded" => ("allocation", "allocation_id"),
                    "meeting.recorded" => ("meeting", "meeting_id"),
                    _ => ("case", "case_id"),
                };
                let r = id(&p, key);
                let child = id(&p, "child_id");
                self.child_of.insert(r, child);
                people.push((child, Child));
                Some((rk, r))
            }
            "missing_episode.returned"
            | "return_interview.assigned"
            | "return_interview.recorded"
            | "placement.ended"
            | "allocation.ended"
            | "case.level_changed"
            | "case.closed" => {
                let (rk, key) = match kind.as_str() {
                    "missing_episode.returned"
                    | "return_interview.assigned"
                    | "return_interview.recorded" => ("missing_episode", "episode_id"),
                    "placement.ended" => ("placement", "placement_id"),
                    "allocation.ended" => ("allocation", "allocation_id"),
                    _ => ("case", "case_id"),
                };
                let r = id(&p, key);
                let child = self.child_of[&r];
                if let Some(named) = p.get("child_id") {
                    assert_eq!(
                        named.as_str().unwrap(),
                        child.to_string(),
                        "{kind} {event_id}"
                    );
                }
                people.push((child, Child));
                Some((rk, r))
            }
            "intelligence.recorded" => {
                let r = id(&p, "intelligence_id");
                for s in p["subjects"].as_array().unwrap() {
                    let (t, i) = subject(s);
                    if t == "person" {
                        people.push((i, Subject));
                    }
                }
                Some(("intelligence", r))
            }
            "offence.recorded" => {
                let r = id(&p, "offence_id");
                let (v, s) = (ids(&p, "victim_ids"), ids(&p, "suspect_ids"));
                people.extend(v.iter().map(|x| (*x, Victim)));
                people.extend(s.iter().map(|x| (*x, Suspect)));
                self.offences.insert(r, (v, s));
                Some(("offence", r))
            }
            "offence.outcome_recorded" => {
                let r = id(&p, "offence_id");
                let (v, s) = self.offences[&r].clone();
                people.extend(v.iter().map(|x| (*x, Victim)));
                match p.get("suspect_id").and_then(Value::as_str) {
                    Some(one) => people.push((one.parse().unwrap(), Suspect)),
                    None => people.extend(s.iter().map(|x| (*x, Suspect))),
                }
                Some(("offence", r))
            }
            "note.recorded" => {
                for s in p["subjects"].as_array().unwrap() {
                    let (t, i) = subject(s);
                    if t == "person" {
                        people.push((i, Subject));
                    } else if CHILD_RECORDS.contains(&t.as_str()) {
                        people.push((self.child_of[&i], Child));
                    }
                }
                None
            }
            // agency.*, object.*, location.*, user.*, access_log.*: nobody.
            _ => return,
        };
        let (record_kind, record_id) = record.unwrap_or(("note", event_id));
        let (record_agency, record_user) = self
            .owner
            .entry(record_id)
            .or_insert_with(|| (agency.clone(), actor.clone()))
            .clone();
        let value = h["occurred_at"]["value"].as_str().unwrap().to_owned();
        let precision = h["occurred_at"]["precision"].as_str().unwrap().to_owned();
        let mut seen = BTreeSet::new();
        for (person, role) in people {
            if !seen.insert(person) {
                continue;
            }
            self.lines.entry(person).or_default().push(Line {
                sort: first_instant(&value, &precision),
                log_index: h["index"].as_u64().unwrap(),
                event_id,
                kind: kind.clone(),
                agency: agency.clone(),
                actor: actor.clone(),
                occurred_value: value.clone(),
                occurred_precision: precision.clone(),
                // Imported history: when the source system recorded it.
                recorded_at: h["source"]["recorded_at"]
                    .as_str()
                    .or(h["recorded_at"].as_str())
                    .unwrap()
                    .to_owned(),
                record_id,
                record_kind: record_kind.to_owned(),
                record_agency: record_agency.clone(),
                record_user: record_user.clone(),
                role: role.name(),
            });
        }
    }
}

#[derive(Clone, Copy)]
enum Role {
    Subject,
    Child,
    OtherPerson,
    Victim,
    Suspect,
    Witness,
    Linked,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Subject => "subject",
            Role::Child => "child",
            Role::OtherPerson => "other_person",
            Role::Victim => "victim",
            Role::Suspect => "suspect",
            Role::Witness => "witness",
            Role::Linked => "linked",
        }
    }
}

fn read_log(store: &dyn Store) -> Reader {
    let mut r = Reader::default();
    store
        .for_each_entry(0, &mut |e| {
            let payload = e
                .payload_json
                .as_deref()
                .expect("no payload is erased here");
            r.read(&e.header_json, payload);
            Ok(())
        })
        .unwrap();
    for lines in r.lines.values_mut() {
        lines.sort();
    }
    r
}

/// Every row of a person's chronology, page by page.
fn whole(store: &dyn Store, person: Uuid, visibility: Visibility) -> Vec<Line> {
    let mut out = Vec::new();
    loop {
        let page = store
            .chronology(
                person,
                &ChronologyQuery {
                    visibility: visibility.clone(),
                    offset: out.len() as u64,
                    limit: MAX_PAGE,
                    ..ChronologyQuery::default()
                },
            )
            .unwrap();
        let n = page.rows.len();
        out.extend(page.rows.iter().map(Line::of));
        if n == 0 || out.len() as u64 >= page.total {
            assert_eq!(out.len() as u64, page.total, "the total counts every row");
            return out;
        }
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn append_all(store: &dyn Store, events: Vec<EventInput>) {
    for chunk in events.chunks(2_000) {
        let drafts: Vec<EventDraft> = chunk
            .iter()
            .map(|e| e.clone().prepare(now(), rand::random()).unwrap())
            .collect();
        for r in store.append(drafts).unwrap().results {
            r.expect("generated event accepted");
        }
    }
}

fn open(db: &TestDb) -> Box<dyn Store> {
    vigil_store::open(&db.url, LogSigner::generate()).unwrap()
}

// ---------------------------------------------------------------------------
// The property test
// ---------------------------------------------------------------------------

fn chronology_of_every_person_is_exactly_the_events_about_them(b: Backend) {
    // Three small boroughs: enough people and follow-ups to matter, small
    // enough for a debug build. Seeds differ so the shapes differ.
    for seed in [11u64, 12, 13] {
        let Some(db) = TestDb::new(b) else { return };
        let store = open(&db);
        let cfg = SynthConfig {
            children: 1_000,
            victimisation_rate: 0.05,
            years: 2,
            seed,
            ..SynthConfig::default()
        };
        let borough = generate(&cfg).unwrap();
        let truth = borough.truth.clone();
        append_all(store.as_ref(), borough.events);
        let reader = read_log(store.as_ref());
        assert!(
            reader.people.len() > 150,
            "{} person records",
            reader.people.len()
        );

        // The truth agrees with the reading: the true people an event
        // concerns are the true people of the person records it names, and
        // every person it names has it in their chronology.
        let true_of = |p: &Uuid| truth.person_records[p].clone();
        for (event, true_people) in &truth.records {
            let named: BTreeSet<String> = reader.named[event].iter().map(true_of).collect();
            let listed: BTreeSet<String> = true_people.iter().cloned().collect();
            assert_eq!(listed, named, "event {event}");
        }
        for (event, named) in &reader.named {
            for p in named {
                assert!(
                    reader.lines[p].iter().any(|l| l.event_id == *event),
                    "event {event} names {p} but is not in their chronology"
                );
            }
        }

        // Every person's chronology is exactly the reading's list.
        let mut kinds_seen: BTreeMap<String, u64> = BTreeMap::new();
        let mut rows = 0u64;
        for person in &reader.people {
            let got = whole(store.as_ref(), *person, Visibility::All);
            let want = reader.lines.get(person).cloned().unwrap_or_default();
            if got != want {
                let g: BTreeSet<_> = got.iter().collect();
                let w: BTreeSet<_> = want.iter().collect();
                panic!(
                    "seed {seed}, person {person}: the index has {} rows, the reading {}\n\
                     only in the index: {:#?}\nonly in the reading: {:#?}",
                    got.len(),
                    want.len(),
                    g.difference(&w).take(3).collect::<Vec<_>>(),
                    w.difference(&g).take(3).collect::<Vec<_>>(),
                );
            }
            rows += got.len() as u64;
            for l in got {
                *kinds_seen.entry(l.kind).or_default() += 1;
            }
        }
        // Nobody else has a chronology (an event about no person makes no row).
        assert_eq!(
            reader
                .lines
                .keys()
                .filter(|p| !reader.people.contains(p))
                .count(),
            0
        );

        // Per true child: the chronologies of their records hold every event
        // the truth says is about them, and the follow-ups the truth cannot
        // name (it lists only the people an event names).
        let mut followups_beyond_truth = 0u64;
        for child in truth
            .people
            .iter()
            .filter(|p| p.kind == vigil_synth::PersonKind::Child)
        {
            let records: Vec<Uuid> = truth
                .person_records
                .iter()
                .filter(|(_, t)| **t == child.id)
                .map(|(r, _)| *r)
                .collect();
            let in_chronology: BTreeSet<Uuid> = records
                .iter()
                .flat_map(|r| reader.lines.get(r).into_iter().flatten())
                .map(|l| l.event_id)
                .collect();
            let in_truth: BTreeSet<Uuid> = truth
                .records
                .iter()
                .filter(|(_, ps)| ps.contains(&child.id))
                .map(|(e, _)| *e)
                .collect();
            assert!(
                in_truth.is_subset(&in_chronology),
                "child {}: events in the truth missing from the chronology: {:?}",
                child.id,
                in_truth.difference(&in_chronology).collect::<Vec<_>>()
            );
            followups_beyond_truth += in_chronology.difference(&in_truth).count() as u64;
        }
        assert!(followups_beyond_truth > 0);
        for kind in [
            "referral.submitted",
            "referral.decided",
            "missing_episode.recorded",
            "missing_episode.returned",
            "return_interview.assigned",
            "return_interview.recorded",
            "placement.started",
            "placement.ended",
            "allocation.recorded",
            "allocation.ended",
        ] {
            assert!(
                kinds_seen.get(kind).copied().unwrap_or(0) > 0,
                "seed {seed}: no {kind} in any chronology: {kinds_seen:?}"
            );
        }
        eprintln!(
            "seed {seed}: {} person records, {rows} chronology rows checked, {followups_beyond_truth} follow-ups beyond the truth's list; by kind: {kinds_seen:?}",
            reader.people.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Hand-made cases
// ---------------------------------------------------------------------------

fn pid(n: u64) -> String {
    common::person_id(n)
}

fn line(
    id: u64,
    agency: &str,
    user: &str,
    occurred: (&str, &str),
    kind: &str,
    payload: String,
) -> String {
    format!(
        r#"{{"id":"{}","actor":{{"user":"{user}","role":"practitioner"}},"agency":"{agency}","occurred_at":{{"value":"{}","precision":"{}"}},"kind":"{kind}","payload":{payload}}}"#,
        common::event_id(id),
        occurred.0,
        occurred.1
    )
}

fn person_line(id: u64, agency: &str, p: u64) -> String {
    line(
        id,
        agency,
        "clerk.001",
        ("2020-01-01", "day"),
        "person.recorded",
        format!(
            r#"{{"person_id":"{}","names":[{{"given":"Testchild","family":"Number{p}","kind":"birth"}}]}}"#,
            pid(p)
        ),
    )
}

fn note_line(id: u64, agency: &str, user: &str, occurred: (&str, &str), p: u64) -> String {
    line(
        id,
        agency,
        user,
        occurred,
        "note.recorded",
        format!(
            r#"{{"subjects":[{{"type":"person","id":"{}"}}],"text":"Seen at the youth club."}}"#,
            pid(p)
        ),
    )
}

fn append_lines(store: &dyn Store, lines: &[String]) {
    let drafts = lines.iter().map(|l| common::draft(l)).collect();
    for r in store.append(drafts).unwrap().results {
        r.expect("test event accepted");
    }
}

fn events_of(store: &dyn Store, person: u64, q: ChronologyQuery) -> (Vec<u64>, u64) {
    let page = store.chronology(pid(person).parse().unwrap(), &q).unwrap();
    (page.rows.iter().map(|r| r.log_index).collect(), page.total)
}

fn mixed_precisions_sort_by_their_first_instant_then_log_index(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = open(&db);
    // Appended in an order unlike the order of when things happened.
    let lines = vec![
        person_line(0, "northshire-council", 1), // 0: 2020-01-01 day
        note_line(
            1,
            "northshire-council",
            "sw.001",
            ("2023-05-20T10:30:00Z", "exact"),
            1,
        ), // 1
        note_line(2, "northshire-police", "pc.001", ("2023-05", "month"), 1), // 2: sorts at 2023-05-01
        note_line(3, "northshire-council", "sw.002", ("2023", "year"), 1), // 3: sorts at 2023-01-01
        note_line(
            4,
            "northshire-health",
            "hv.001",
            ("2023-05-20", "approximate"),
            1,
        ), // 4: 2023-05-20 00:00
        note_line(5, "northshire-council", "sw.001", ("2023-05-20", "day"), 1), // 5: ties with 4, later index
        note_line(
            6,
            "northshire-police",
            "pc.002",
            ("2023-05-01T00:00:00Z", "exact"),
            1,
        ), // 6: ties with 2
        note_line(
            7,
            "northshire-council",
            "sw.003",
            ("2022-12-31T23:59:59.999Z", "exact"),
            1,
        ), // 7
    ];
    append_lines(store.as_ref(), &lines);
    let (order, total) = events_of(store.as_ref(), 1, ChronologyQuery::default());
    assert_eq!(total, 8);
    assert_eq!(order, vec![0, 7, 3, 2, 6, 4, 5, 1]);
    let page = store
        .chronology(pid(1).parse().unwrap(), &ChronologyQuery::default())
        .unwrap();
    let precisions: Vec<String> = page
        .rows
        .iter()
        .map(|r| format!("{}/{:?}", r.occurred_at.value, r.occurred_at.precision))
        .collect();
    assert_eq!(precisions[2], "2023/Year");
    assert_eq!(precisions[3], "2023-05/Month");
    assert_eq!(precisions[5], "2023-05-20/Approximate");
}

/// A person with 30 notes by three agencies (0..30), of two kinds.
fn busy_person(store: &dyn Store) {
    let agencies = [
        "northshire-council",
        "northshire-police",
        "northshire-health",
    ];
    let mut lines = vec![
        person_line(0, "northshire-council", 1),
        person_line(1, "northshire-police", 2),
    ];
    for i in 0..30u64 {
        let day = format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i);
        let agency = agencies[(i % 3) as usize];
        if i % 5 == 0 {
            // A link to person 2 (kind link.recorded), not a note.
            lines.push(line(
                10 + i,
                agency,
                "worker.001",
                (&day, "day"),
                "link.recorded",
                format!(
                    r#"{{"link_id":"01920000-0000-7000-8000-{i:012x}","kind":"associate_of","from":{{"type":"person","id":"{}"}},"to":{{"type":"person","id":"{}"}}}}"#,
                    pid(1),
                    pid(2)
                ),
            ));
        } else {
            lines.push(note_line(10 + i, agency, "worker.001", (&day, "day"), 1));
        }
    }
    append_lines(store, &lines);
}

fn filters_facets_and_paging(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = open(&db);
    busy_person(store.as_ref());
    let person: Uuid = pid(1).parse().unwrap();
    let all = whole(store.as_ref(), person, Visibility::All);
    assert_eq!(all.len(), 31);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "ordered by sort key, then log index");

    // Pages of 7 put together are the whole list, and each says the total.
    let mut paged = Vec::new();
    for n in 0..6 {
        let page = store
            .chronology(
                person,
                &ChronologyQuery {
                    offset: n * 7,
                    limit: 7,
                    ..ChronologyQuery::default()
                },
            )
            .unwrap();
        assert_eq!(page.total, 31);
        assert!(page.rows.len() <= 7);
        paged.extend(page.rows.iter().map(Line::of));
    }
    assert_eq!(paged, all);
    let past_end = store
        .chronology(
            person,
            &ChronologyQuery {
                offset: 100,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert!(past_end.rows.is_empty());
    assert_eq!(past_end.total, 31);
    // A limit above the bound is capped.
    let capped = store
        .chronology(
            person,
            &ChronologyQuery {
                limit: MAX_PAGE * 10,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert_eq!(capped.rows.len(), 31);

    // Facets count what the reader may see, before the filters.
    let police_only = ChronologyQuery {
        agencies: vec!["northshire-police".into()],
        ..ChronologyQuery::default()
    };
    let page = store.chronology(person, &police_only).unwrap();
    let want: Vec<Line> = all
        .iter()
        .filter(|l| l.agency == "northshire-police")
        .cloned()
        .collect();
    assert_eq!(page.rows.iter().map(Line::of).collect::<Vec<_>>(), want);
    assert_eq!(page.total, want.len() as u64);
    assert_eq!(
        page.agencies,
        vec![
            ("northshire-council".to_owned(), 11),
            ("northshire-health".to_owned(), 10),
            ("northshire-police".to_owned(), 10),
        ]
    );
    assert_eq!(
        page.kinds,
        vec![
            ("link.recorded".to_owned(), 6),
            ("note.recorded".to_owned(), 24),
            ("person.recorded".to_owned(), 1),
        ]
    );

    // Agency and kind together; two kinds.
    let links_by_council = store
        .chronology(
            person,
            &ChronologyQuery {
                agencies: vec!["northshire-council".into()],
                kinds: vec!["link.recorded".into()],
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    let want: Vec<Line> = all
        .iter()
        .filter(|l| l.agency == "northshire-council" && l.kind == "link.recorded")
        .cloned()
        .collect();
    assert_eq!(want.len(), 2);
    assert_eq!(
        links_by_council
            .rows
            .iter()
            .map(Line::of)
            .collect::<Vec<_>>(),
        want
    );
    let two_kinds = store
        .chronology(
            person,
            &ChronologyQuery {
                kinds: vec!["link.recorded".into(), "person.recorded".into()],
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert_eq!(two_kinds.total, 7);
    // A filtered page pages within the filter.
    let second = store
        .chronology(
            person,
            &ChronologyQuery {
                kinds: vec!["note.recorded".into()],
                offset: 20,
                limit: 10,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    let notes: Vec<Line> = all
        .iter()
        .filter(|l| l.kind == "note.recorded")
        .cloned()
        .collect();
    assert_eq!(second.total, 24);
    assert_eq!(
        second.rows.iter().map(Line::of).collect::<Vec<_>>(),
        notes[20..].to_vec()
    );
    // An agency nobody recorded anything for: nothing, but the facets stay.
    let none = store
        .chronology(
            person,
            &ChronologyQuery {
                agencies: vec!["elsewhere".into()],
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert!(none.rows.is_empty());
    assert_eq!(none.total, 0);
    assert_eq!(none.agencies.len(), 3);
}

fn visibility_by_record_owner(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = open(&db);
    // Person 1 is recorded by the council. The police record a referral
    // about them and a missing episode; the council decides the referral
    // (a follow-up by another agency on the police's record).
    let referral = "01930000-0000-7000-8000-000000000001";
    let episode = "01930000-0000-7000-8000-000000000002";
    let lines = vec![
        person_line(0, "northshire-council", 1),
        line(
            1,
            "northshire-police",
            "pc.001",
            ("2024-03-01T10:00:00Z", "exact"),
            "referral.submitted",
            format!(
                r#"{{"referral_id":"{referral}","child_id":"{}","concern":"Seen getting into cars with older men.","immediate_danger":false}}"#,
                pid(1)
            ),
        ),
        line(
            2,
            "northshire-council",
            "sw.001",
            ("2024-03-01T12:00:00Z", "exact"),
            "referral.decided",
            format!(r#"{{"referral_id":"{referral}","decision":"strategy_discussion"}}"#),
        ),
        line(
            3,
            "northshire-police",
            "pc.002",
            ("2024-03-05T22:00:00Z", "exact"),
            "missing_episode.recorded",
            format!(
                r#"{{"episode_id":"{episode}","child_id":"{}","missing_type":"M","started_at":"2024-03-05T22:00:00Z"}}"#,
                pid(1)
            ),
        ),
        line(
            4,
            "northshire-police",
            "pc.002",
            ("2024-03-06T09:00:00Z", "exact"),
            "missing_episode.returned",
            format!(
                r#"{{"episode_id":"{episode}","returned_at":"2024-03-06T09:00:00Z","return_interview_offered":true}}"#
            ),
        ),
        note_line(5, "northshire-council", "sw.001", ("2024-03-07", "day"), 1),
        note_line(6, "northshire-police", "pc.001", ("2024-03-08", "day"), 1),
    ];
    append_lines(store.as_ref(), &lines);
    let person: Uuid = pid(1).parse().unwrap();
    let seen = |v: Visibility| -> Vec<u64> {
        whole(store.as_ref(), person, v)
            .iter()
            .map(|l| l.log_index)
            .collect()
    };
    assert_eq!(seen(Visibility::All), vec![0, 1, 2, 3, 4, 5, 6]);
    // The police see their own records, with what others did to them (the
    // council's decision on the police's referral).
    assert_eq!(
        seen(Visibility::Agencies(vec!["northshire-police".into()])),
        vec![1, 2, 3, 4, 6]
    );
    assert_eq!(
        seen(Visibility::Agencies(vec!["northshire-council".into()])),
        vec![0, 5]
    );
    assert_eq!(
        seen(Visibility::Agencies(vec!["northshire-health".into()])),
        Vec::<u64>::new()
    );
    assert_eq!(
        seen(Visibility::Agencies(vec![
            "northshire-council".into(),
            "northshire-police".into()
        ])),
        vec![0, 1, 2, 3, 4, 5, 6]
    );
    // A submitter sees the records they made.
    assert_eq!(
        seen(Visibility::Submitter {
            user_id: "pc.001".into(),
            agency: "northshire-police".into()
        }),
        vec![1, 2, 6]
    );
    assert_eq!(
        seen(Visibility::Submitter {
            user_id: "pc.001".into(),
            agency: "northshire-council".into()
        }),
        Vec::<u64>::new()
    );
    // Facets count only what the reader may see.
    let page = store
        .chronology(
            person,
            &ChronologyQuery {
                visibility: Visibility::Agencies(vec!["northshire-council".into()]),
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.agencies, vec![("northshire-council".to_owned(), 2)]);
}

/// The kinds and shapes the borough never makes (an amendment, an
/// escalation, links of every role and their end, an outcome naming one
/// suspect and one naming none, notes about records rather than people and a
/// person twice over), checked with
/// the same independent reading.
fn kinds_the_borough_does_not_make_are_read_the_same_way(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = open(&db);
    let u = |n: u64| format!("01940000-0000-7000-8000-{n:012x}");
    let (referral, episode, placement, case, offence, meeting) =
        (u(1), u(2), u(3), u(4), u(5), u(6));
    let at = |d: &str| (d.to_owned(), "day".to_owned());
    let ev = |id: u64, agency: &str, day: &str, kind: &str, payload: String| {
        let (v, p) = at(day);
        line(id, agency, "worker.001", (&v, &p), kind, payload)
    };
    let (c, p, h) = (
        "northshire-council",
        "northshire-police",
        "northshire-health",
    );
    let mut lines: Vec<String> = (1..=4).map(|n| person_line(n, c, n)).collect();
    lines.extend([
        ev(10, h, "2024-01-02", "person.amended", format!(r#"{{"person_id":"{}","reason":"school says","add_names":[{{"given":"Tee","kind":"nickname"}}]}}"#, pid(1))),
        ev(11, p, "2024-01-03", "referral.submitted", format!(r#"{{"referral_id":"{referral}","child_id":"{}","others_involved":["{}"],"concern":"Older men collect them from school.","immediate_danger":false}}"#, pid(1), pid(2))),
        ev(12, c, "2024-01-08", "referral.escalated", format!(r#"{{"referral_id":"{referral}","level":"supervisor","due_by":"2024-01-04","working_days_overdue":2}}"#)),
        ev(13, c, "2024-01-09", "referral.decided", format!(r#"{{"referral_id":"{referral}","decision":"assessment"}}"#)),
        ev(14, c, "2024-02-01", "assessment.completed", format!(r#"{{"referral_id":"{referral}","factors":["1A"]}}"#)),
        ev(15, p, "2024-02-02", "offence.recorded", format!(r#"{{"offence_id":"{offence}","offence":"soa2003_s9","victim_ids":["{}"],"suspect_ids":["{}","{}"],"committed":{{"value":"2024-01","precision":"month"}},"cse_flag":true}}"#, pid(1), pid(3), pid(4))),
        ev(16, p, "2024-02-03", "offence.outcome_recorded", format!(r#"{{"offence_id":"{offence}","outcome":"caution","suspect_id":"{}"}}"#, pid(3))),
        ev(17, p, "2024-02-04", "offence.outcome_recorded", format!(r#"{{"offence_id":"{offence}","outcome":"not_yet_resolved"}}"#)),
        ev(18, p, "2024-02-05", "link.recorded", format!(r#"{{"link_id":"{}","kind":"witness_in","from":{{"type":"person","id":"{}"}},"to":{{"type":"offence","id":"{offence}"}}}}"#, u(7), pid(2))),
        ev(19, p, "2024-02-05", "link.recorded", format!(r#"{{"link_id":"{}","kind":"associate_of","from":{{"type":"person","id":"{}"}},"to":{{"type":"person","id":"{}"}}}}"#, u(8), pid(3), pid(4))),
        ev(20, p, "2024-02-06", "link.ended", format!(r#"{{"link_id":"{}","reason":"no longer in touch"}}"#, u(8))),
        ev(21, p, "2024-03-01", "missing_episode.recorded", format!(r#"{{"episode_id":"{episode}","child_id":"{}","missing_type":"A","started_at":"2024-03-01T20:00:00Z"}}"#, pid(1))),
        ev(22, c, "2024-03-02", "placement.started", format!(r#"{{"placement_id":"{placement}","child_id":"{}","placement_type":"U1","started_on":"2024-03-02"}}"#, pid(1))),
        ev(23, c, "2024-03-03", "case.opened", format!(r#"{{"case_id":"{case}","child_id":"{}","level":"child_in_need","reason":"Assessment found need."}}"#, pid(1))),
        ev(24, c, "2024-03-04", "case.level_changed", format!(r#"{{"case_id":"{case}","child_id":"{}","level":"child_protection","reason":"Risk rose."}}"#, pid(1))),
        ev(25, c, "2024-03-05", "meeting.recorded", format!(r#"{{"meeting_id":"{meeting}","kind":"strategy_discussion","child_id":"{}","attendees":["northshire-police"],"decisions":"Safety plan."}}"#, pid(1))),
        ev(26, h, "2024-03-06", "note.recorded", format!(r#"{{"subjects":[{{"type":"referral","id":"{referral}"}},{{"type":"missing_episode","id":"{episode}"}},{{"type":"placement","id":"{placement}"}},{{"type":"case","id":"{case}"}},{{"type":"meeting","id":"{meeting}"}},{{"type":"person","id":"{}"}},{{"type":"offence","id":"{offence}"}}],"text":"Discussed at the health review."}}"#, pid(2))),
        ev(27, c, "2024-03-07", "case.closed", format!(r#"{{"case_id":"{case}","child_id":"{}","reason":"Moved away."}}"#, pid(1))),
    ]);
    append_lines(store.as_ref(), &lines);
    let reader = read_log(store.as_ref());
    let mut kinds = BTreeSet::new();
    for person in &reader.people {
        let got = whole(store.as_ref(), *person, Visibility::All);
        let want = reader.lines.get(person).cloned().unwrap_or_default();
        assert_eq!(got, want, "person {person}");
        kinds.extend(got.into_iter().map(|l| l.kind));
    }
    assert_eq!(kinds.len(), 17, "{kinds:?}");
    // Spot checks of the reading itself: the child is once in the referral
    // (as the child), the witness has the witness role, the note reaches
    // the child through five records and person 2 directly.
    let roles = |n: u64| -> Vec<(u64, &'static str)> {
        reader.lines[&pid(n).parse::<Uuid>().unwrap()]
            .iter()
            .map(|l| (l.log_index, l.role))
            .collect()
    };
    assert!(roles(1).contains(&(5, "child")));
    assert!(roles(2).contains(&(12, "witness")));
    assert!(roles(1).contains(&(20, "child")));
    assert!(roles(2).contains(&(20, "subject")));
    assert!(roles(3).contains(&(10, "suspect")));
    assert!(
        !roles(4).iter().any(|(i, _)| *i == 10),
        "an outcome naming one suspect is not the other's"
    );
    assert!(roles(4).contains(&(11, "suspect")));
    assert!(roles(4).contains(&(14, "linked")));
}

fn imported_history_keeps_the_source_systems_recorded_time(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = open(&db);
    let imported = note_line(1, "northshire-council", "sw.001", ("2019-06-01", "day"), 1).replacen(
        r#""kind":"note.recorded""#,
        r#""source":{"system":"Old case system","reference":"N-1234","recorded_at":"2019-06-03T09:15:00Z"},"kind":"note.recorded""#,
        1,
    );
    append_lines(
        store.as_ref(),
        &[person_line(0, "northshire-council", 1), imported],
    );
    let rows = whole(store.as_ref(), pid(1).parse().unwrap(), Visibility::All);
    assert_eq!(rows.len(), 2);
    // The note (it happened in 2019, so it comes first) was recorded by the
    // source system in 2019, not when Vigil received it.
    assert_eq!(rows[0].kind, "note.recorded");
    assert_eq!(rows[0].recorded_at, "2019-06-03T09:15:00.000Z");
    assert!(rows[1]
        .recorded_at
        .starts_with(&Utc::now().format("%Y-").to_string()));
    // The independent reading agrees.
    let reader = read_log(store.as_ref());
    assert_eq!(reader.lines[&pid(1).parse::<Uuid>().unwrap()], rows);
}

// ---------------------------------------------------------------------------
// A person's page in one read
// ---------------------------------------------------------------------------

/// `Store::person_page` (one connection; on PostgreSQL fewer statements)
/// returns exactly what the methods of the same meaning return one by one.
fn person_page_reads_what_the_single_reads_read(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = open(&db);
    let cfg = SynthConfig {
        children: 300,
        victimisation_rate: 0.05,
        years: 2,
        seed: 21,
        ..SynthConfig::default()
    };
    append_all(store.as_ref(), generate(&cfg).unwrap().events);
    let reader = read_log(store.as_ref());
    let mut people = reader.people.clone();
    // Someone with the most links, and someone who does not exist.
    people.sort_by_key(|p| std::cmp::Reverse(store.edges_of(*p).unwrap().len()));
    people.truncate(40);
    people.push(Uuid::now_v7());
    let agency = reader
        .lines
        .values()
        .flatten()
        .map(|l| l.agency.clone())
        .next()
        .unwrap();
    let queries = [
        ChronologyQuery {
            limit: 50,
            counts: false,
            ..ChronologyQuery::default()
        },
        ChronologyQuery {
            kinds: vec![
                "referral.submitted".into(),
                "missing_episode.recorded".into(),
            ],
            visibility: Visibility::Agencies(vec![agency]),
            offset: 1,
            limit: 3,
            counts: false,
            ..ChronologyQuery::default()
        },
        ChronologyQuery::default(),
    ];
    let mut with_ends = 0;
    let mut with_referrals = 0;
    for p in people {
        // Every other end, so that the rule is seen to choose.
        let ends = |e: &vigil_model::index::EdgeRow| {
            e.link_id.as_bytes()[15]
                .is_multiple_of(2)
                .then_some(if e.from.id == p { e.to.id } else { e.link_id })
        };
        let edges = store.edges_of(p).unwrap();
        let ids = vigil_store::index::end_ids(&edges, &ends);
        for q in std::iter::once(None).chain(queries.iter().map(Some)) {
            let got = store.person_page(p, q, &ends).unwrap();
            let want = vigil_store::index::PersonPage {
                person: store.entity(p).unwrap(),
                referrals: store
                    .referrals(vigil_store::index::ReferralQuery::AboutChild(p))
                    .unwrap(),
                ends: store.entities(&ids).unwrap(),
                edges: edges.clone(),
                head: store.chronology_head(p).unwrap(),
                page: q
                    .map(|q| store.chronology(p, q).unwrap())
                    .unwrap_or_default(),
            };
            assert_eq!(got, want, "person {p}, query {q:?}");
            with_ends += usize::from(!got.ends.is_empty());
            with_referrals += usize::from(!got.referrals.is_empty());
        }
    }
    assert!(
        with_ends > 0 && with_referrals > 0,
        "{with_ends} {with_referrals}"
    );
}
