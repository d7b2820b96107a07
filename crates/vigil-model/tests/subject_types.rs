//! The list of subject types is written three times on purpose: in the
//! model (`EntityKind`), in the format document a third party implements
//! from (docs/ledger-format.md), and in the independent verifier that
//! implements it (tools/independent-verifier/verify.py). A kind added to the
//! model alone makes every log that uses it unverifiable by anyone else, so
//! this test holds the three to one list in one order (the order sorts
//! `subjects`).

use vigil_model::event::EntityKind;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_list() -> Vec<&'static str> {
    EntityKind::ALL.iter().map(|k| k.as_str()).collect()
}

#[test]
fn every_kind_round_trips_and_all_is_in_declaration_order() {
    for (i, k) in EntityKind::ALL.iter().enumerate() {
        assert_eq!(EntityKind::parse(k.as_str()), Some(*k));
        if i > 0 {
            assert!(EntityKind::ALL[i - 1] < *k, "{k} is out of order in ALL");
        }
    }
}

#[test]
fn the_format_document_lists_the_models_subject_types_in_order() {
    let doc = std::fs::read_to_string(root().join("docs/ledger-format.md")).unwrap();
    let at = doc
        .find("in the order that sorts them:")
        .expect("the sentence introducing the list");
    let rest = &doc[at..];
    let open = rest.find("```").unwrap() + 3;
    let close = open + rest[open..].find("```").unwrap();
    let listed: Vec<&str> = rest[open..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(listed, model_list(), "docs/ledger-format.md");
}

#[test]
fn the_independent_verifier_lists_the_models_subject_types_in_order() {
    let py = std::fs::read_to_string(root().join("tools/independent-verifier/verify.py")).unwrap();
    let at = py
        .find("SUBJECT_TYPE_ORDER = [")
        .expect("the list in verify.py");
    let rest = &py[at + "SUBJECT_TYPE_ORDER = [".len()..];
    let close = rest.find(']').unwrap();
    let listed: Vec<&str> = rest[..close]
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(listed, model_list(), "verify.py");
}
