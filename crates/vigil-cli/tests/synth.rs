//! `vigil synth` and `vigil demo` as a user meets them: a small borough
//! recorded end to end through the normal write path, then verified.

use std::path::Path;
use std::process::{Command, Output};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("vigil runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn init(dir: &Path) {
    let o = run(vigil().arg("--data").arg(dir).arg("init"));
    assert!(o.status.success(), "{}", text(&o.stderr));
}

fn one_sentence(o: &Output) -> String {
    let e = text(&o.stderr);
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "expected one line: {e}");
    assert!(e.starts_with("vigil: "), "{e}");
    e
}

fn synth(dir: &Path, truth: &Path, seed: &str) -> Output {
    run(vigil()
        .arg("--data")
        .arg(dir)
        .args([
            "synth",
            "--children",
            "300",
            "--years",
            "2",
            "--seed",
            seed,
            "--truth",
        ])
        .arg(truth))
}

#[test]
fn synth_records_a_small_borough_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let truth = tmp.path().join("truth.json");
    init(&data);
    let o = synth(&data, &truth, "7");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for part in [
        "Synthetic borough: 300 children over 2 year(s)",
        "person.recorded",
        "networks:",
        "victims:",
        "duplicates by design:",
        "receipts",
    ] {
        assert!(out.contains(part), "the summary has no '{part}':\n{out}");
    }
    // The truth file is written and names every record.
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth).unwrap()).unwrap();
    assert_eq!(t["config"]["children"], 300);
    assert_eq!(t["config"]["seed"], 7);
    let events = t["counts"]["events"].as_u64().unwrap();
    assert!(events > 100, "{events} events");
    assert!(!t["person_records"].as_object().unwrap().is_empty());
    // Every generated event is in the ledger.
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v = text(&o.stdout);
    assert!(v.starts_with(&format!("intact: {events} entries")), "{v}");
    // The same borough again into the same ledger is refused: every event
    // id is already there. One sentence, exit 2, and the ledger still verifies.
    let o = synth(&data, &tmp.path().join("again.json"), "7");
    assert_eq!(o.status.code(), Some(2));
    assert!(one_sentence(&o).contains("were refused"));
    assert!(run(vigil().arg("--data").arg(&data).arg("verify"))
        .status
        .success());
}

#[test]
fn the_same_seed_gives_a_byte_identical_truth_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    for d in [&a, &b, &c] {
        init(d);
    }
    let ta = tmp.path().join("a.json");
    let tb = tmp.path().join("b.json");
    let tc = tmp.path().join("c.json");
    assert!(synth(&a, &ta, "3").status.success());
    assert!(synth(&b, &tb, "3").status.success());
    assert!(synth(&c, &tc, "4").status.success());
    let (ja, jb, jc) = (
        std::fs::read(&ta).unwrap(),
        std::fs::read(&tb).unwrap(),
        std::fs::read(&tc).unwrap(),
    );
    assert_eq!(ja, jb);
    assert_ne!(ja, jc);
}

#[test]
fn bad_settings_are_one_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    let base = |args: &[&str]| {
        let o = run(vigil().arg("--data").arg(&data).arg("synth").args(args));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        one_sentence(&o)
    };
    assert!(base(&["--children", "0"]).contains("the number of children must be between 1"));
    assert!(base(&["--years", "0"]).contains("the number of years must be between 1 and 50"));
    assert!(base(&["--years", "80"]).contains("it is 80"));
    assert!(base(&["--end-date", "2999-01-01"]).contains("is in the future"));
    let cfg = tmp.path().join("cfg.json");
    std::fs::write(&cfg, r#"{"noise": {"misspelling": 3}}"#).unwrap();
    assert!(base(&["--config", cfg.to_str().unwrap()])
        .contains("noise.misspelling must be a probability"));
    std::fs::write(&cfg, r#"{"childs": 3}"#).unwrap();
    assert!(base(&["--config", cfg.to_str().unwrap()]).contains("is not a synth config"));
    // Nothing was recorded by any of these.
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(
        text(&o.stdout).starts_with("intact: 0 entries"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn demo_generates_verifies_and_says_where_it_would_serve() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = tmp.path().join("demo");
    let o = run(vigil()
        .args([
            "demo",
            "--children",
            "200",
            "--years",
            "1",
            "--seed",
            "2",
            "--addr",
            "127.0.0.1:9999",
            "--no-serve",
            "--keep",
        ])
        .arg(&keep));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for part in [
        "Synthetic borough: 200 children",
        // Too few person records to fit a matching model on: said, not fatal.
        "Matching model: The store has",
        "Verified:",
        "checked offline with the public key only: valid",
        "one character changed: rejected",
        "would be at http://127.0.0.1:9999",
        "demo accounts, one for each role at each agency",
        "Referrer",
        "Auditor",
    ] {
        assert!(
            out.contains(part),
            "the demo output has no '{part}':\n{out}"
        );
    }
    assert!(keep.join("truth.json").exists());
    assert!(run(vigil().arg("--data").arg(&keep).arg("verify"))
        .status
        .success());
}
