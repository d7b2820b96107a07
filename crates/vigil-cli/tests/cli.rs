//! The `vigil` command as a user and a script meet it: real processes, real
//! data directories, exit codes and one-sentence errors.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.jsonl")
}

fn run(c: &mut Command) -> Output {
    c.output().expect("vigil runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An error is one sentence: one line on stderr, no panic, no backtrace.
fn assert_one_sentence(o: &Output) {
    let e = stderr(o);
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "expected one line: {e}");
    assert!(e.starts_with("vigil: "), "{e}");
}

fn init(dir: &Path) {
    let o = run(vigil().arg("--data").arg(dir).arg("init"));
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A synthetic person event with a fixed id (so re-imports are idempotent).
fn person_line(i: u64) -> String {
    format!(
        r#"{{"id":"01900000-0000-7000-8000-{i:012x}","actor":{{"user":"loader","role":"system"}},"agency":"northshire-council","occurred_at":{{"value":"2024-05-01","precision":"day"}},"kind":"person.recorded","payload":{{"person_id":"01910000-0000-7000-8000-{i:012x}","names":[{{"given":"Testchild","family":"Number{i}","kind":"birth"}}]}}}}"#
    )
}

#[test]
fn init_import_verify_and_receipts_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    assert!(data.join("log-key.secret").exists() && data.join("log-key.pub").exists());

    // A second init of the same directory is refused, in one sentence.
    let o = run(vigil().arg("--data").arg(&data).arg("init"));
    assert_eq!(o.status.code(), Some(2));
    assert_one_sentence(&o);

    // VIGIL_DATA works like --data.
    let o = run(vigil()
        .env("VIGIL_DATA", &data)
        .arg("import")
        .arg(examples()));
    assert!(o.status.success(), "{}", stderr(&o));
    let receipts = String::from_utf8(o.stdout).unwrap();
    let lines = std::fs::read_to_string(examples())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(receipts.lines().count(), lines, "one receipt per event");
    let receipt_file = tmp.path().join("receipts.jsonl");
    std::fs::write(&receipt_file, &receipts).unwrap();

    let key = data.join("log-key.pub");
    let o = run(vigil()
        .args(["receipt", "verify"])
        .arg(&receipt_file)
        .arg("--key")
        .arg(&key));
    assert!(o.status.success(), "{}", stderr(&o));

    // One receipt on its own, pretty-printed, also verifies.
    let first: serde_json::Value = serde_json::from_str(receipts.lines().next().unwrap()).unwrap();
    let single = tmp.path().join("one.json");
    std::fs::write(&single, serde_json::to_string_pretty(&first).unwrap()).unwrap();
    assert!(run(vigil()
        .args(["receipt", "verify"])
        .arg(&single)
        .arg("--key")
        .arg(&key))
    .status
    .success());

    // A receipt with its root changed is rejected with exit 1.
    let mut forged = first.clone();
    forged["leaf_index"] = serde_json::json!(first["leaf_index"].as_u64().unwrap() + 1);
    std::fs::write(&single, forged.to_string()).unwrap();
    let o = run(vigil()
        .args(["receipt", "verify"])
        .arg(&single)
        .arg("--key")
        .arg(&key));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_one_sentence(&o);

    // Another log's key does not verify this log's receipts.
    let other = tmp.path().join("other");
    init(&other);
    let o = run(vigil()
        .args(["receipt", "verify"])
        .arg(&receipt_file)
        .arg("--key")
        .arg(other.join("log-key.pub")));
    assert_eq!(o.status.code(), Some(1));

    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("intact"));

    // Importing the same file again: every event carries an id already in the log.
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(examples()));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already recorded"));
    assert!(o.stdout.is_empty());
}

#[test]
fn verify_exits_1_naming_the_entry_after_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    assert!(run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(examples()))
    .status
    .success());
    let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    conn.execute(
        "UPDATE ledger_entries SET payload = replace(payload, '\"', '\"x') WHERE idx = 4",
        [],
    )
    .unwrap();
    drop(conn);
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert_eq!(o.status.code(), Some(1));
    assert_one_sentence(&o);
    assert!(stderr(&o).contains("entry 4"), "{}", stderr(&o));
}

#[test]
fn bad_input_gets_a_clear_error_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    let file = tmp.path().join("mixed.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(f, "{}", person_line(1)).unwrap();
    writeln!(f, "this is not json").unwrap();
    writeln!(f).unwrap(); // blank lines are skipped
    writeln!(f, "{{}}").unwrap();
    writeln!(
        f,
        "{}",
        person_line(2).replace("person.recorded", "person.exploded")
    )
    .unwrap();
    writeln!(f, "{}", person_line(3).replace("2024-05-01", "2999-01-01")).unwrap();
    writeln!(
        f,
        "{}",
        person_line(4).replace("Testchild", "<script>alert(1)</script>")
    )
    .unwrap();
    writeln!(
        f,
        "{}",
        person_line(5).replace("Testchild", "Test\\u0000child")
    )
    .unwrap();
    f.write_all(&[0xff, 0xfe, b'\n']).unwrap();
    writeln!(f, "{}", "x".repeat(2 * 1024 * 1024)).unwrap();
    writeln!(f, "{}", person_line(6)).unwrap();
    drop(f);
    let o = run(vigil().arg("--data").arg(&data).arg("import").arg(&file));
    assert_eq!(
        o.status.code(),
        Some(1),
        "refusals make the import exit non-zero"
    );
    let err = stderr(&o);
    for line in [2, 4, 5, 6, 8, 9, 10] {
        assert!(
            err.contains(&format!("mixed.jsonl:{line}: ")),
            "line {line} should be reported: {err}"
        );
    }
    assert!(err.contains("future"), "{err}");
    assert!(err.contains("longer than"), "{err}");
    assert!(!err.contains("panicked"));
    // The good lines (1, the escaped script tag as plain text, and 11) went in.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        3,
        "{err}"
    );
    assert!(run(vigil().arg("--data").arg(&data).arg("verify"))
        .status
        .success());

    // An empty file imports nothing and is not an error.
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert!(
        run(vigil().arg("--data").arg(&data).arg("import").arg(&empty))
            .status
            .success()
    );
}

#[test]
fn clear_errors_for_missing_things() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["verify"],
        vec!["--data", "/nonexistent/vigil", "verify"],
        vec!["--data", "/nonexistent/vigil", "import", "x.jsonl"],
        vec![
            "receipt",
            "verify",
            "/nonexistent/r.json",
            "--key",
            "garbage",
        ],
        vec![
            "--data",
            tmp.path().to_str().unwrap(),
            "--database",
            "mysql://x",
            "verify",
        ],
    ] {
        let o = run(vigil().args(&args));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_one_sentence(&o);
    }
}

/// Crash test: SIGKILL `vigil import` while it appends thousands of events,
/// then check that every event whose receipt had been printed is in the
/// store, the log verifies, and re-running the import completes it exactly.
#[test]
fn sigkill_during_import_loses_no_acknowledged_event() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    const N: u64 = 20_000;
    let file = tmp.path().join("people.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for i in 0..N {
        writeln!(f, "{}", person_line(i)).unwrap();
    }
    drop(f);

    let mut acknowledged: Vec<String> = Vec::new();
    for (round, kill_after) in [(1, 1_500usize), (2, 4_000)] {
        let mut child = vigil()
            .arg("--data")
            .arg(&data)
            .arg("import")
            .arg(&file)
            .args(["--batch", "100"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0usize;
        let mut line = String::new();
        while seen < kill_after {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if line.ends_with('\n') {
                let r: serde_json::Value = serde_json::from_str(&line).unwrap();
                acknowledged.push(r["event_id"].as_str().unwrap().to_owned());
                seen += 1;
            }
        }
        // SIGKILL: no chance to clean up.
        child.kill().unwrap();
        child.wait().unwrap();
        // Receipts already in the pipe were printed before the kill: they count too.
        loop {
            line.clear();
            match out.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.ends_with('\n') => {
                    let r: serde_json::Value = serde_json::from_str(&line).unwrap();
                    acknowledged.push(r["event_id"].as_str().unwrap().to_owned());
                }
                Ok(_) => break, // a torn last line was never a complete receipt
            }
        }
        assert!(acknowledged.len() >= kill_after, "round {round}");

        let o = run(vigil().arg("--data").arg(&data).arg("verify"));
        assert!(o.status.success(), "round {round}: {}", stderr(&o));
        let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
        let mut stmt = conn
            .prepare("SELECT count(*) FROM ledger_entries WHERE event_id = ?1")
            .unwrap();
        for id in &acknowledged {
            let n: i64 = stmt.query_row([id], |r| r.get(0)).unwrap();
            assert_eq!(n, 1, "acknowledged event {id} is missing after the crash");
        }
    }
    // Finish the job: already-recorded ids are refused, the rest go in.
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(&file)
        .args(["--batch", "1000"]));
    assert_eq!(o.status.code(), Some(1), "duplicates are reported");
    let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM ledger_entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as u64, N, "every event exactly once");
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `vigil bench web` (the load benchmark in BENCHMARKS.md) runs end to end
/// in a short run and reports both pages with requests counted and no
/// errors; a run too short to measure is refused with a sentence.
#[test]
fn bench_web_reports_both_pages() {
    let o = run(vigil().args([
        "bench",
        "web",
        "--users",
        "4",
        "--seconds",
        "2",
        "--warmup",
        "0",
        "--queue",
        "5",
    ]));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(
        out.contains("SQLite (0 s warm-up per page, not counted)"),
        "{out}"
    );
    for page in ["GET /triage (queue page)", "POST /referrals/new (send)"] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(page))
            .unwrap_or_else(|| panic!("no line for {page}: {out}"));
        let cols: Vec<&str> = line[line.find(')').unwrap() + 1..]
            .split_whitespace()
            .collect();
        let requests: u64 = cols[0].parse().unwrap();
        assert!(requests > 0, "{line}");
        assert_eq!(cols.last(), Some(&"0"), "no errors: {line}");
    }
    let o = run(vigil().args(["bench", "web", "--seconds", "1"]));
    assert_eq!(o.status.code(), Some(2));
    assert_one_sentence(&o);
}
