//! Search recall on a synthetic borough, on both backends.
//!
//! For each true child with several person records (the truth file says
//! which records are whose), for each name recorded on each of those
//! records, the name is searched as a practitioner would type it
//! (`vigil_model::names::parse_query`, then `Store::find_people` with the
//! page's limit of 20, as vigil-app's search does) and the share of the
//! child's records among the results is counted. The figure is printed and
//! must stay above a floor set below what was measured (BENCHMARKS.md,
//! "Issue 10: chronology and search").

mod common;

use chrono::Utc;
use common::{Backend, TestDb};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_model::names::parse_query;
use vigil_model::{EventDraft, EventPayload};
use vigil_store::Store;
use vigil_synth::{generate, PersonKind, SynthConfig};

on_both_backends!(searching_any_recorded_name_finds_the_childs_other_records);

/// Results a search shows (vigil-app's `SEARCH_LIMIT`).
const LIMIT: usize = 20;

/// Measured 2026-12-01 (see BENCHMARKS.md); the floor sits a little below.
const RECALL_FLOOR: f64 = 0.90;

/// What one run measured.
struct Recall {
    children: usize,
    queries: usize,
    /// Sum over queries of records found / records the child has.
    found: usize,
    wanted: usize,
    /// Queries that found every record of the child.
    complete: usize,
    /// Misses, by what differs between the name searched and the missed
    /// record's names.
    misses: BTreeMap<&'static str, usize>,
    examples: Vec<String>,
}

fn name_text(n: &Value) -> String {
    [n.get("given"), n.get("family")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

fn measure(store: &dyn Store, cfg: &SynthConfig) -> Recall {
    let borough = generate(cfg).unwrap();
    let truth = borough.truth.clone();
    // Every name each person record was given (recorded, then added).
    let mut names: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for e in &borough.events {
        let v = serde_json::to_value(&e.body).unwrap();
        let p = &v["payload"];
        let (key, list) = match &e.body {
            EventPayload::PersonRecorded(_) => ("person_id", "names"),
            EventPayload::PersonAmended(_) => ("person_id", "add_names"),
            _ => continue,
        };
        let id: Uuid = p[key].as_str().unwrap().parse().unwrap();
        for n in p[list].as_array().into_iter().flatten() {
            let t = name_text(n);
            let entry = names.entry(id).or_default();
            if !t.is_empty() && !entry.contains(&t) {
                entry.push(t);
            }
        }
    }
    for chunk in borough.events.chunks(5_000) {
        let drafts: Vec<EventDraft> = chunk
            .iter()
            .map(|e| e.clone().prepare(Utc::now(), rand::random()).unwrap())
            .collect();
        for r in store.append(drafts).unwrap().results {
            r.expect("generated event accepted");
        }
    }

    let children: BTreeSet<&str> = truth
        .people
        .iter()
        .filter(|p| p.kind == PersonKind::Child)
        .map(|p| p.id.as_str())
        .collect();
    let mut records_of: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
    for (record, person) in &truth.person_records {
        if children.contains(person.as_str()) {
            records_of.entry(person).or_default().push(*record);
        }
    }
    records_of.retain(|_, r| r.len() > 1);
    let mut out = Recall {
        children: records_of.len(),
        queries: 0,
        found: 0,
        wanted: 0,
        complete: 0,
        misses: BTreeMap::new(),
        examples: Vec::new(),
    };
    for (child, records) in &records_of {
        let mut asked = BTreeSet::new();
        for r in records {
            for text in names.get(r).into_iter().flatten() {
                if !asked.insert(text.clone()) {
                    continue; // the same name on two records is one search
                }
                let q = parse_query(text);
                let hits: BTreeSet<Uuid> = store
                    .find_people(&q, None, LIMIT)
                    .unwrap()
                    .into_iter()
                    .map(|h| h.person_id)
                    .collect();
                let found = records.iter().filter(|x| hits.contains(x)).count();
                out.queries += 1;
                out.found += found;
                out.wanted += records.len();
                if found == records.len() {
                    out.complete += 1;
                }
                for missed in records.iter().filter(|x| !hits.contains(x)) {
                    let theirs = names.get(missed).cloned().unwrap_or_default();
                    let why = classify(text, &theirs, &q, store, missed);
                    *out.misses.entry(why).or_default() += 1;
                    if out.examples.len() < 80 {
                        out.examples.push(format!(
                            "{child}: searched “{text}”, missed {missed} named {theirs:?} ({why})"
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Why a record was not among the results: it has no key of some group of
/// the query (which word failed, and whether it is the given or family
/// name), or it has every group but ranked below the 20 shown.
fn classify(
    searched: &str,
    theirs: &[String],
    q: &vigil_model::names::NameQuery,
    store: &dyn Store,
    missed: &Uuid,
) -> &'static str {
    let _ = theirs;
    let alone = store.find_people(q, None, 100_000).unwrap();
    if alone.iter().any(|h| h.person_id == *missed) {
        return "matched but ranked below the first 20";
    }
    let words: Vec<&str> = searched.split_whitespace().collect();
    let mut failed = Vec::new();
    for (i, g) in q.groups.iter().enumerate() {
        let one = vigil_model::names::NameQuery {
            groups: vec![g.clone()],
        };
        let hits = store.find_people(&one, None, 100_000).unwrap();
        if !hits.iter().any(|h| h.person_id == *missed) {
            failed.push(i);
        }
    }
    match (failed.as_slice(), words.len()) {
        ([0], n) if n > 1 => "given name not matched",
        ([i], n) if *i == n - 1 && n > 1 => "family name not matched",
        ([_, _, ..], _) => "given and family names not matched",
        _ => "a name word not matched",
    }
}

fn searching_any_recorded_name_finds_the_childs_other_records(b: Backend) {
    let Some(db) = TestDb::new(b) else { return };
    let store = vigil_store::open(&db.url, LogSigner::generate()).unwrap();
    let cfg = SynthConfig {
        children: 5_000,
        years: 3,
        seed: 7,
        ..SynthConfig::default()
    };
    let r = measure(store.as_ref(), &cfg);
    let recall = r.found as f64 / r.wanted as f64;
    eprintln!(
        "{b:?}: search recall {recall:.4} ({} of {} records over {} queries, {} children with several records); {} queries ({:.3}) found every record; misses by cause: {:?}",
        r.found,
        r.wanted,
        r.queries,
        r.children,
        r.complete,
        r.complete as f64 / r.queries as f64,
        r.misses
    );
    for e in &r.examples {
        eprintln!("  {e}");
    }
    assert!(
        r.children > 50,
        "{} children with several records",
        r.children
    );
    assert!(
        recall >= RECALL_FLOOR,
        "search recall {recall:.4} is below {RECALL_FLOOR}"
    );
}
