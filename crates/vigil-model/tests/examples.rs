//! The example story in `examples/events.jsonl` must load: every line is an
//! `EventInput`, validates, seals at the next index and projects without
//! error, and every kind of event appears in it.

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use vigil_model::event::EventInput;
use vigil_model::projection::{apply, MemoryProjection};
use vigil_model::EventPayload;

fn example_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.jsonl")
}

#[test]
fn example_story_loads_and_covers_every_kind() {
    let text = std::fs::read_to_string(example_path()).expect("examples/events.jsonl is readable");
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut state = MemoryProjection::default();
    let mut kinds = BTreeSet::new();
    let mut index = 0u64;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let input: EventInput =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n}: {e}"));
        assert!(
            input.id.is_some(),
            "line {n}: every example event carries an id, so importing it twice is refused"
        );
        let year = &input.occurred_at.value[..4];
        assert!(
            year == "2024" || year == "2025",
            "line {n}: occurred_at should be in 2024–2025"
        );
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&index.to_be_bytes());
        let draft = input
            .prepare(now, salt)
            .unwrap_or_else(|e| panic!("line {n}: {e}"));
        let sealed = draft
            .seal(index)
            .unwrap_or_else(|e| panic!("line {n}: {e}"));
        apply(&sealed, &mut state)
            .unwrap_or_else(|e| panic!("line {n} ({}): {e}", sealed.header.kind));
        kinds.insert(sealed.header.kind.clone());
        index += 1;
    }
    let missing: Vec<&str> = EventPayload::ALL_KINDS
        .iter()
        .copied()
        .filter(|k| !kinds.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "examples/events.jsonl has no event of kind(s) {missing:?}"
    );
    assert!(index >= EventPayload::ALL_KINDS.len() as u64);
}

#[test]
fn a_misspelt_envelope_field_is_refused() {
    let first = std::fs::read_to_string(example_path())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let mut v: serde_json::Value = serde_json::from_str(&first).unwrap();
    v["ocurred_at"] = v["occurred_at"].clone();
    let e = serde_json::from_value::<EventInput>(v)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ocurred_at"), "{e}");
}
