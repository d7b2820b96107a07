//! Concurrency test from the PostgreSQL issue: four `vigil import` processes
//! append at once to one database (one SQLite file; one PostgreSQL schema
//! when `VIGIL_TEST_POSTGRES_URL` is set), all through one data directory
//! (one signing key). Afterwards `vigil verify` passes and the number of
//! acknowledged events (receipts printed) equals the number in the log: no
//! lost, duplicated or out-of-place leaf. Part of each file is shared by all
//! four processes (same event ids), so concurrent duplicates are exercised
//! too: each shared event must be acknowledged exactly once.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c
}

/// A synthetic person event with a fixed id (the shape of tests/cli.rs).
fn person_line(i: u64) -> String {
    format!(
        r#"{{"id":"01900000-0000-7000-8000-{i:012x}","actor":{{"user":"loader","role":"system"}},"agency":"northshire-council","occurred_at":{{"value":"2024-05-01","precision":"day"}},"kind":"person.recorded","payload":{{"person_id":"01910000-0000-7000-8000-{i:012x}","names":[{{"given":"Testchild","family":"Number{i}","kind":"birth"}}]}}}}"#
    )
}

const PROCESSES: u64 = 4;
const OWN: u64 = 1_500;
const SHARED: u64 = 300;

fn four_imports_at_once(dir: &Path, database: Option<&str>) {
    let data = dir.join("data");
    let with_db = |c: &mut Command| {
        c.arg("--data").arg(&data);
        if let Some(u) = database {
            c.arg("--database").arg(u);
        }
    };
    let mut init = vigil();
    with_db(&mut init);
    let o = init.arg("init").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut children = Vec::new();
    for p in 0..PROCESSES {
        let file = dir.join(format!("part{p}.jsonl"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        // Interleave the shared events with each process's own.
        for k in 0..OWN {
            writeln!(f, "{}", person_line(1_000_000 * (p + 1) + k)).unwrap();
            if k % 5 == 0 && k / 5 < SHARED {
                writeln!(f, "{}", person_line(k / 5)).unwrap();
            }
        }
        drop(f);
        let mut c = vigil();
        with_db(&mut c);
        c.arg("import")
            .arg(&file)
            .args(["--batch", "25"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        children.push(c.spawn().unwrap());
    }
    let mut receipts = String::new();
    let mut indexes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for child in children {
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        // Exit 1 only because some shared events were already recorded by another process.
        assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
        for line in err.lines().filter(|l| l.contains(".jsonl:")) {
            assert!(line.contains("already recorded"), "{line}");
        }
        let out = String::from_utf8(o.stdout).unwrap();
        for line in out.lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                indexes.insert(r["leaf_index"].as_u64().unwrap()),
                "position acknowledged twice: {line}"
            );
            assert!(
                ids.insert(r["event_id"].as_str().unwrap().to_owned()),
                "event acknowledged twice: {line}"
            );
        }
        receipts.push_str(&out);
    }
    let expected = PROCESSES * OWN + SHARED;
    assert_eq!(
        ids.len() as u64,
        expected,
        "every event acknowledged exactly once"
    );
    assert_eq!(
        indexes.iter().copied().collect::<Vec<_>>(),
        (0..expected).collect::<Vec<_>>(),
        "no gap"
    );

    let mut verify = vigil();
    with_db(&mut verify);
    let o = verify.arg("verify").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.starts_with(&format!("intact: {expected} entries, ")),
        "{said}"
    );

    // Every receipt printed checks out offline against the log's key.
    let file = dir.join("receipts.jsonl");
    std::fs::write(&file, receipts).unwrap();
    let o = vigil()
        .args(["receipt", "verify"])
        .arg(&file)
        .arg("--key")
        .arg(data.join("log-key.pub"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn four_imports_at_once_on_one_sqlite_file() {
    let tmp = tempfile::tempdir().unwrap();
    four_imports_at_once(tmp.path(), None);
}

#[test]
fn four_imports_at_once_on_one_postgres_database() {
    let Some(base) = std::env::var("VIGIL_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        // To the real stderr: the harness hides eprintln! output of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL tests skipped: VIGIL_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let schema = vigil_store::postgres::ScratchSchema::new(&base, "vigil_cli_test").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    four_imports_at_once(tmp.path(), Some(schema.url()));
}
