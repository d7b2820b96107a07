//! The header and payload encoder refuses what RFC 8785 / I-JSON cannot
//! hold exactly, and stored headers must keep their subjects in the one
//! documented order; both surface as one clear sentence.

use chrono::{DateTime, Utc};
use vigil_model::event::EventInput;
use vigil_model::SealedEvent;

const NOTE: &str = r#"{"id":"01900000-0000-7000-8000-00000000001b","actor":{"user":"tester","role":"practitioner"},"agency":"northshire-council","occurred_at":{"value":"2024-05-01","precision":"day"},"kind":"note.recorded","payload":{"subjects":[{"type":"person","id":"01910000-0000-7000-8000-000000000002"},{"type":"person","id":"01910000-0000-7000-8000-000000000001"}],"text":"Seen together near the station."}}"#;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn an_integer_beyond_2_pow_53_in_a_header_is_refused_with_a_clear_error() {
    let input: EventInput = serde_json::from_str(NOTE).unwrap();
    let draft = input.prepare(now(), [7; 16]).unwrap();
    let e = draft
        .clone()
        .seal(1 << 53)
        .expect_err("index 2^53 cannot be written exactly");
    let msg = e.to_string();
    assert!(
        msg.contains("9007199254740992") && msg.contains("too large") && !msg.contains('\n'),
        "{msg}"
    );
    assert!(draft.seal((1 << 53) - 1).is_ok());
}

#[test]
fn a_payload_with_an_integer_beyond_2_pow_53_is_refused() {
    let line = NOTE.replace(
        r#""text":"Seen together near the station.""#,
        r#""text":9007199254740993"#,
    );
    let e = serde_json::from_str::<EventInput>(&line)
        .map(|i| i.prepare(now(), [7; 16]))
        .expect_err("a number where text belongs is refused when read");
    assert!(!e.to_string().is_empty());
}

#[test]
fn stored_subjects_must_be_sorted_by_kind_then_id() {
    let input: EventInput = serde_json::from_str(NOTE).unwrap();
    let sealed = input.prepare(now(), [7; 16]).unwrap().seal(3).unwrap();
    // prepare sorted them: person 1 before person 2.
    let ids: Vec<String> = sealed
        .header
        .subjects
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert!(ids[0] < ids[1], "{ids:?}");
    let back = SealedEvent::from_stored(&sealed.header_json, &sealed.payload_json, &sealed.salt);
    assert!(back.is_ok());
    let swapped = sealed
        .header_json
        .replace(&ids[0], "SWAP")
        .replace(&ids[1], &ids[0])
        .replace("SWAP", &ids[1]);
    let e = SealedEvent::from_stored(&swapped, &sealed.payload_json, &sealed.salt)
        .expect_err("unsorted subjects are refused");
    assert!(e.to_string().contains("subjects are not sorted"), "{e}");
}
