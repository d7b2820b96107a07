//! `vigil --data DIR link`: the matching model fitted on a synthetic
//! borough's own person records, its scores recorded in the log and
//! checked against the generator's truth; a second run writes nothing; a
//! person's rejection stands through a refit; an old model's link that the
//! new model does not make is scored again; the store still verifies; and
//! `vigil serve` refuses a model file that is not one.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

fn vigil(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA")
        .env_remove("VIGIL_DATABASE_URL")
        .arg("--data")
        .arg(data);
    c
}

fn ok(c: &mut Command) -> String {
    let o: Output = c.output().expect("vigil runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every `same_person` pair in the projection: (a, b) → (status, ppm, model).
fn pairs(data: &Path) -> HashMap<(String, String), (String, u64, String)> {
    let c = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    let mut stmt = c
        .prepare("SELECT state FROM entities WHERE kind = 'link'")
        .unwrap();
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap);
    let mut out = HashMap::new();
    for s in rows {
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let Some(m) = v.get("matching") else { continue };
        let (a, b) = (
            v["from"]["id"].as_str().unwrap().to_owned(),
            v["to"]["id"].as_str().unwrap().to_owned(),
        );
        let score = &m["score"];
        out.insert(
            key(&a, &b),
            (
                m["status"].as_str().unwrap().to_owned(),
                score["probability_ppm"].as_u64().unwrap_or(0),
                score["model"].as_str().unwrap_or_default().to_owned(),
            ),
        );
    }
    out
}

/// A pair's key, whichever way round it was recorded.
fn key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn line_with<'a>(out: &'a str, what: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line with {what:?} in:\n{out}"))
}

fn import(data: &Path, dir: &Path, lines: &[String]) {
    let f = dir.join(format!("decisions-{}.jsonl", lines.len()));
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    ok(vigil(data).arg("import").arg(&f));
}

#[test]
fn the_store_is_linked_by_a_model_fitted_on_its_own_records() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let truth_file = tmp.path().join("truth.json");
    ok(vigil(&data).arg("init"));
    ok(vigil(&data)
        .args(["synth", "--children", "800", "--years", "2", "--seed", "3"])
        .arg("--truth")
        .arg(&truth_file));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth_file).unwrap()).unwrap();
    let person_of: HashMap<String, String> = truth["person_records"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();

    let first = ok(vigil(&data).arg("link"));
    assert!(data.join("link-model.json").exists(), "{first}");
    let found = pairs(&data);
    let linked: Vec<_> = found
        .iter()
        .filter(|(_, (status, _, _))| status == "linked_by_model")
        .collect();
    assert!(!linked.is_empty(), "{first}");
    assert!(found.values().all(|(_, _, model)| model == "vigil-link"));
    // Against the generator's truth: the pairs the model links.
    let true_pos = linked
        .iter()
        .filter(|((a, b), _)| {
            person_of
                .get(a)
                .is_some_and(|p| person_of.get(b) == Some(p))
        })
        .count();
    let mut per_person: HashMap<&str, u64> = HashMap::new();
    for p in person_of.values() {
        *per_person.entry(p).or_default() += 1;
    }
    let true_pairs: u64 = per_person.values().map(|n| n * (n - 1) / 2).sum();
    let precision = true_pos as f64 / linked.len() as f64;
    let recall = true_pos as f64 / true_pairs as f64;
    eprintln!("store fit: {true_pos} of {} linked pairs true, {true_pairs} true pairs: precision {precision:.3}, recall {recall:.3}", linked.len());
    assert!(precision >= 0.85 && recall >= 0.85, "{precision} {recall}");

    // Nothing changed, nothing written.
    let again = ok(vigil(&data).arg("link"));
    assert!(
        line_with(&again, "scores recorded").contains(" 0 scores recorded"),
        "{again}"
    );

    // A person says one linked pair is not the same; an old model's link of
    // two different people stands in the log.
    let ((ra, rb), _) = linked[0];
    let (oa, ob) = {
        let mut ids: Vec<&String> = person_of.keys().collect();
        ids.sort();
        let a = ids[0];
        let b = ids
            .iter()
            .find(|b| person_of[**b] != person_of[a] && !found.contains_key(&key(a, b)))
            .unwrap();
        key(a, b)
    };
    import(
        &data,
        tmp.path(),
        &[
            format!(
                r#"{{"actor": {{"user": "t.triage", "role": "triage"}}, "agency": "northshire-childrens-services", "occurred_at": {{"value": "2025-06-01T10:00:00Z", "precision": "exact"}}, "kind": "person_match.rejected", "payload": {{"person_a": "{ra}", "person_b": "{rb}", "reason": "Different schools and the parents say so."}}}}"#
            ),
            format!(
                r#"{{"actor": {{"user": "vigil", "role": "system"}}, "agency": "vigil", "occurred_at": {{"value": "2025-06-01T10:00:00Z", "precision": "exact"}}, "kind": "person_match.scored", "payload": {{"person_a": "{oa}", "person_b": "{ob}", "probability_ppm": 800000, "threshold_ppm": 500000, "model": "an-older-model", "model_version": "1"}}}}"#
            ),
        ],
    );
    assert_eq!(pairs(&data)[&(oa.clone(), ob.clone())].0, "linked_by_model");
    let third = ok(vigil(&data).arg("link"));
    assert!(
        line_with(&third, "Fitted").contains("1 people decided pairs kept"),
        "{third}"
    );
    let after = pairs(&data);
    assert_eq!(after[&(ra.clone(), rb.clone())].0, "rejected", "{third}");
    let (status, ppm, model) = &after[&(oa, ob)];
    assert_eq!(model, "vigil-link", "{third}");
    assert!(*ppm < 200_000 && status == "proposed", "{status} {ppm}");

    ok(vigil(&data).arg("verify"));

    // A model file that is not one: serve says so and does not start.
    std::fs::write(data.join("link-model.json"), "{\"not\": \"a model\"}").unwrap();
    let o = vigil(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.starts_with("vigil: ") && err.contains("is not a model") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn too_few_records_and_options_of_a_csv_file_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(vigil(&data).arg("init"));
    // An empty store: no model from nothing, and no file left behind.
    let o = vigil(&data).arg("link").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.starts_with("vigil: The store has 0 person records") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(!data.join("link-model.json").exists());
    let o = vigil(&data).args(["link", "--out", "x"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--csv"), "{err}");
    let o = vigil(&data).args(["link", "--id", "x"]).output().unwrap();
    assert!(!o.status.success());
}
