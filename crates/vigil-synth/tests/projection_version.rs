//! The projection version guard.
//!
//! Stored projection rows are only valid for the rules that built them
//! (`PROJECTION_VERSION`). This test projects two fixed inputs (a small
//! synthetic borough made from a fixed seed, and the example story in
//! `examples/events.jsonl`, which has every kind of event) and hashes the
//! canonical JSON of every projected row, and the secondary rows derived from
//! entity state (edges, referrals, match review, name keys; the chronology
//! is checked against the log in vigil-store's tests). The expected hashes are stored
//! here with the version they were made with, so a change to a rule or to
//! the shape of a row that does not bump the version fails here.
//!
//! The inputs are hashed too: when the generator or the example story
//! changes, the rows change without any rule changing, and the test says
//! so instead of blaming the rules.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use vigil_model::canonical::to_canonical_string;
use vigil_model::event::EventInput;
use vigil_model::index;
use vigil_model::projection::{apply, MemoryProjection, PROJECTION_VERSION};
use vigil_model::state::EntityState;
use vigil_synth::{generate, SynthConfig};

/// The version the hashes below were made with.
const HASHED_WITH_VERSION: u32 = 14;

/// SHA-256 of the borough's events and of its projected rows.
const BOROUGH_EVENTS: &str = "aa944cddd991eff7c6657b046a035cefe168104e02e3b1dd7700992031df0630";
const BOROUGH_ROWS: &str = "6d4da24bee38e97193e1fd0328657bc0673f40e9aaf87889f5b8106f8cdf735f";
/// SHA-256 of the example story's events and of its projected rows.
const EXAMPLE_EVENTS: &str = "1ba8e8e89cb51a856de03bb9717efddfdb94909e51f2894ba2f346c8477cb139";
const EXAMPLE_ROWS: &str = "f073ab51b0ef478dd8563073f5303f20846baa8433845bd87771d5d0d7be2a38";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Seals and projects `events` in order.
fn projected(events: &[EventInput]) -> MemoryProjection {
    let mut state = MemoryProjection::default();
    for (i, e) in events.iter().enumerate() {
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let sealed = e
            .clone()
            .prepare(now(), salt)
            .and_then(|d| d.seal(i as u64))
            .unwrap_or_else(|err| panic!("event {i}: {err}"));
        apply(&sealed, &mut state).unwrap_or_else(|err| panic!("event {i}: {err}"));
    }
    state
}

/// Projects `events`, returning the hash of the inputs and the hash of
/// every projected row (id, kind, indexes, canonical state). With
/// `PROJECTION_ROWS_DUMP=DIR` set, the rows are also written to
/// `DIR/NAME.rows`, one a line, so two versions can be compared with `diff`.
fn project(name: &str, events: &[EventInput]) -> (String, String) {
    let mut inputs = Sha256::new();
    for e in events {
        inputs.update(to_canonical_string(e).unwrap().as_bytes());
        inputs.update(b"\n");
    }
    let state = projected(events);
    let mut rows = Sha256::new();
    let mut dump = String::new();
    for r in state.records.values() {
        let line = format!(
            "{} {} {} {} {}\n",
            r.id,
            r.kind,
            r.created_index,
            r.updated_index,
            r.state_json()
        );
        rows.update(line.as_bytes());
        dump.push_str(&line);
    }
    // The secondary rows derived from entity state are projection rules too.
    let mut lookup = state.clone();
    for r in state.records.values() {
        let mut derived = Vec::new();
        derived.extend(index::edge_row(r).map(|x| format!("edge {x:?}")));
        derived.extend(index::referral_row(r).map(|x| format!("referral {x:?}")));
        derived.extend(
            index::match_review_row(r, &mut lookup)
                .unwrap()
                .map(|x| format!("review {x:?}")),
        );
        for k in index::name_key_rows(r, &mut lookup).unwrap() {
            derived.push(format!("key {k:?}"));
        }
        for line in derived {
            let line = format!("{line}\n");
            rows.update(line.as_bytes());
            dump.push_str(&line);
        }
    }
    if let Some(dir) = std::env::var_os("PROJECTION_ROWS_DUMP") {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("{name}.rows")),
            dump,
        )
        .expect("the dump directory is writable");
    }
    (hex::encode(inputs.finalize()), hex::encode(rows.finalize()))
}

fn borough() -> Vec<EventInput> {
    generate(&SynthConfig::new(1_000, 2, 20_261_201))
        .unwrap()
        .events
}

fn example_story() -> Vec<EventInput> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.jsonl");
    std::fs::read_to_string(path)
        .expect("examples/events.jsonl is readable")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("an example event"))
        .collect()
}

/// The verdict on one input: `None` when the rows are as recorded.
fn verdict(name: &str, got: (String, String), want: (&str, &str)) -> Option<String> {
    let (events, rows) = got;
    if rows == want.1 && events == want.0 && PROJECTION_VERSION == HASHED_WITH_VERSION {
        return None;
    }
    Some(if events != want.0 {
        format!(
            "{name}: the input events changed (hash {events}, recorded {}), so the rows cannot be compared; \
             if a projection rule changed too, bump PROJECTION_VERSION; then record the new hashes \
             (events {events}, rows {rows}) and the version in this test",
            want.0
        )
    } else if PROJECTION_VERSION == HASHED_WITH_VERSION {
        format!(
            "{name}: a projection rule changed: bump PROJECTION_VERSION and update the hash \
             (rows now hash to {rows}; recorded {} with version {HASHED_WITH_VERSION})",
            want.1
        )
    } else {
        format!(
            "{name}: PROJECTION_VERSION is now {PROJECTION_VERSION}: update the hash \
             (rows now hash to {rows}) and HASHED_WITH_VERSION in this test"
        )
    })
}

#[test]
fn projected_rows_match_the_recorded_hash_for_this_version() {
    let problems: Vec<String> = [
        verdict(
            "the synthetic borough",
            project("borough", &borough()),
            (BOROUGH_EVENTS, BOROUGH_ROWS),
        ),
        verdict(
            "the example story",
            project("example", &example_story()),
            (EXAMPLE_EVENTS, EXAMPLE_ROWS),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_projected_row_round_trips_through_its_typed_state_byte_for_byte() {
    for (name, events) in [("borough", borough()), ("example story", example_story())] {
        let state = projected(&events);
        let mut kinds = std::collections::BTreeSet::new();
        for r in state.records.values() {
            let json = r.state_json();
            let parsed = EntityState::parse(r.kind, &json).unwrap_or_else(|e| {
                panic!("{name}: {} {} does not parse: {e}\n{json}", r.kind, r.id)
            });
            assert_eq!(
                parsed, r.state,
                "{name}: {} {} parses to other state",
                r.kind, r.id
            );
            assert_eq!(
                parsed.to_json().unwrap(),
                json,
                "{name}: {} {} does not serialise back to the same bytes",
                r.kind,
                r.id
            );
            assert_eq!(r.kind, r.state.kind());
            kinds.insert(r.kind);
        }
        if name == "example story" {
            assert_eq!(
                kinds.len(),
                vigil_model::EntityKind::ALL.len(),
                "the example story has every kind of entity: {kinds:?}"
            );
        }
    }
}
