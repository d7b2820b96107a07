//! The generated borough as Vigil sees it: every event valid, in order, and
//! accepted by the projection rules; the same seed giving the same output
//! and another seed another; the truth agreeing with the records.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use vigil_model::canonical::to_canonical_string;
use vigil_model::projection::{apply, MemoryProjection};
use vigil_model::EventPayload;
use vigil_synth::{generate, Borough, SynthConfig};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn canonical_events(b: &Borough) -> Vec<String> {
    b.events
        .iter()
        .map(|e| to_canonical_string(e).unwrap())
        .collect()
}

#[test]
fn every_event_validates_projects_and_comes_in_order() {
    let b = generate(&SynthConfig::default()).unwrap();
    assert!(b.events.len() > 2_000, "{} events", b.events.len());
    let mut state = MemoryProjection::default();
    let mut last_day = String::new();
    let mut last_exact = String::new();
    let mut kinds = BTreeSet::new();
    for (i, e) in b.events.iter().enumerate() {
        let kind = e.body.kind();
        kinds.insert(kind);
        assert!(e.id.is_some(), "event {i} has no id");
        let draft = e
            .clone()
            .prepare(now(), [7u8; 16])
            .unwrap_or_else(|err| panic!("event {i} ({kind}): {err}"));
        let sealed = draft.seal(i as u64).unwrap();
        apply(&sealed, &mut state).unwrap_or_else(|err| panic!("event {i} ({kind}): {err}"));
        let day = e.occurred_at.earliest_day().unwrap().to_string();
        assert!(
            day >= last_day,
            "event {i} ({kind}) on {day} comes after one on {last_day}"
        );
        if e.occurred_at.precision == vigil_model::Precision::Exact {
            if day == last_day {
                assert!(
                    e.occurred_at.value >= last_exact,
                    "event {i} ({kind}) is out of order"
                );
            }
            last_exact = e.occurred_at.value.clone();
        }
        if day != last_day && e.occurred_at.precision != vigil_model::Precision::Exact {
            last_exact.clear();
        }
        last_day = day;
    }
    // The borough uses nearly the whole vocabulary of events.
    for k in [
        "agency.registered",
        "person.recorded",
        "object.recorded",
        "location.recorded",
        "link.recorded",
        "referral.submitted",
        "referral.decided",
        "assessment.completed",
        "missing_episode.recorded",
        "missing_episode.returned",
        "placement.started",
        "placement.ended",
        "allocation.recorded",
        "allocation.ended",
        "intelligence.recorded",
        "offence.recorded",
        "offence.outcome_recorded",
        "meeting.recorded",
        "case.opened",
        "case.closed",
        "note.recorded",
    ] {
        assert!(kinds.contains(k), "no {k} event was generated");
    }
    // Ids are unique.
    let ids: BTreeSet<_> = b.events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), b.events.len());
}

#[test]
fn same_seed_same_output_other_seed_other_output() {
    let cfg = SynthConfig::new(600, 2, 42);
    let a = generate(&cfg).unwrap();
    let b = generate(&cfg).unwrap();
    assert_eq!(canonical_events(&a), canonical_events(&b));
    assert_eq!(a.truth.to_json().as_bytes(), b.truth.to_json().as_bytes());
    let c = generate(&SynthConfig::new(600, 2, 43)).unwrap();
    assert_ne!(canonical_events(&a), canonical_events(&c));
    assert_ne!(a.truth.to_json(), c.truth.to_json());
    // The same world under other noise: the people stay, the records change.
    let mut noisier = cfg.clone();
    noisier.noise.misspelling = 0.5;
    let d = generate(&noisier).unwrap();
    assert_eq!(
        serde_json::to_string(&a.truth.people).unwrap(),
        serde_json::to_string(&d.truth.people).unwrap()
    );
    assert_ne!(canonical_events(&a), canonical_events(&d));
}

fn index(id: &str) -> usize {
    id[1..].parse::<usize>().unwrap() - 1
}

#[test]
fn truth_agrees_with_the_records() {
    let b = generate(&SynthConfig::default()).unwrap();
    let t = &b.truth;
    let people: BTreeSet<&str> = t.people.iter().map(|p| p.id.as_str()).collect();
    for (i, p) in t.people.iter().enumerate() {
        assert_eq!(index(&p.id), i);
    }
    let mut agencies_of: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut recorded_people = 0;
    for e in &b.events {
        let id = e.id.unwrap();
        let subjects = e.body.subjects();
        let persons: Vec<_> = subjects
            .iter()
            .filter(|s| s.kind == vigil_model::EntityKind::Person)
            .collect();
        if persons.is_empty() {
            assert!(!t.records.contains_key(&id));
        } else {
            let who = t
                .records
                .get(&id)
                .unwrap_or_else(|| panic!("event {id} is not in the truth"));
            for w in who {
                assert!(people.contains(w.as_str()), "{w} is not a true person");
            }
            for p in persons {
                let truth = t
                    .person_records
                    .get(&p.id)
                    .expect("every person record is in the truth");
                assert!(who.contains(truth));
            }
        }
        match &e.body {
            EventPayload::PersonRecorded(p) => {
                recorded_people += 1;
                let truth = &t.person_records[&p.person_id];
                agencies_of
                    .entry(truth.as_str())
                    .or_default()
                    .insert(e.agency.as_str().to_owned());
            }
            EventPayload::LocationRecorded(l) => {
                let place = &t.location_records[&l.location_id];
                assert_eq!(t.places[index(place)].kind, l.kind);
            }
            EventPayload::ObjectRecorded(o) => {
                let thing = &t.object_records[&o.object_id];
                assert_eq!(t.things[index(thing)].kind, o.kind);
            }
            _ => {}
        }
    }
    assert_eq!(recorded_people, t.person_records.len());
    assert_eq!(t.duplicates.person_records, recorded_people as u64);
    assert!(
        t.duplicates.duplicate_person_records > 0,
        "duplicates by design exist"
    );
    assert_eq!(
        t.duplicates.duplicate_person_records,
        t.duplicates.person_records - t.duplicates.people_recorded
    );

    // Networks: members and victims are real people of the right kind, and
    // every victim is on record with at least two agencies.
    assert_eq!(t.networks.len() as u64, t.counts.networks);
    let mut victims = 0;
    for n in &t.networks {
        assert!(
            n.members.len() >= 3,
            "{} has {} members",
            n.id,
            n.members.len()
        );
        for m in &n.members {
            assert_eq!(
                t.people[index(m)].kind,
                vigil_synth::PersonKind::NetworkMember
            );
            assert_eq!(t.people[index(m)].network.as_deref(), Some(n.id.as_str()));
        }
        for v in &n.victims {
            victims += 1;
            let p = &t.people[index(&v.person)];
            assert_eq!(p.kind, vigil_synth::PersonKind::Child);
            assert!(v.exploitation_began >= t.start_date && v.exploitation_began <= t.end_date);
            let age = vigil_model::time::age_on(p.date_of_birth, v.exploitation_began);
            assert!((11..=16).contains(&age), "{} was {age}", v.person);
            let agencies = agencies_of
                .get(v.person.as_str())
                .cloned()
                .unwrap_or_default();
            assert!(
                agencies.len() >= 2,
                "victim {} is recorded by {:?} only",
                v.person,
                agencies
            );
        }
    }
    assert_eq!(victims, t.counts.victims);
    assert_eq!(victims, 40, "2% of 2,000 children");

    // The failures are there, and point at records that exist.
    let ids: BTreeSet<_> = b.events.iter().filter_map(|e| e.id).collect();
    assert!(!t.failures.unanswered_referrals.is_empty());
    assert!(!t.failures.victim_blaming_wording.is_empty());
    assert!(!t.failures.cases_closed_while_exploited.is_empty());
    assert!(!t.failures.victims_recorded_as_suspects.is_empty());
    for id in &t.failures.victim_blaming_wording {
        assert!(ids.contains(id));
        let e = b.events.iter().find(|e| e.id == Some(*id)).unwrap();
        let text = match &e.body {
            EventPayload::NoteRecorded(n) => n.text.clone(),
            EventPayload::ReferralSubmitted(r) => r.concern.clone(),
            other => panic!("blaming wording in a {} event", other.kind()),
        };
        assert!(
            vigil_synth::text::BLAMING_MARKERS
                .iter()
                .any(|m| text.contains(m)),
            "{text}"
        );
    }
    let decided: BTreeSet<_> = b
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventPayload::ReferralDecided(d) => Some(d.referral_id),
            _ => None,
        })
        .collect();
    for r in &t.failures.unanswered_referrals {
        assert!(!decided.contains(r), "referral {r} was answered");
    }
}

#[test]
fn the_truth_file_names_every_part() {
    let b = generate(&SynthConfig::new(300, 2, 5)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&b.truth.to_json()).unwrap();
    for key in [
        "format",
        "config",
        "counts",
        "duplicates",
        "noise",
        "failures",
        "networks",
        "people",
        "places",
        "things",
        "person_records",
        "location_records",
        "object_records",
        "records",
    ] {
        assert!(v.get(key).is_some(), "the truth has no {key}");
    }
    assert_eq!(v["config"]["children"], 300);
    assert!(b.truth.to_json().ends_with("}\n"));
}

#[test]
fn bad_configs_are_refused_with_a_sentence() {
    for (cfg, start) in [
        (SynthConfig::new(0, 2, 1), "the number of children"),
        (SynthConfig::new(10, 0, 1), "the number of years"),
        (SynthConfig::new(10, 51, 1), "the number of years"),
    ] {
        let e = generate(&cfg).err().expect("refused").to_string();
        assert!(e.starts_with(start), "{e}");
    }
}
