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

/// A data directory with `examples/events.jsonl` imported; returns the
/// receipts printed (one per line).
fn imported(data: &Path) -> String {
    init(data);
    let o = run(vigil()
        .arg("--data")
        .arg(data)
        .arg("import")
        .arg(examples()));
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// The reviewer's note, appended after the example story.
fn forged_note_line() -> String {
    let line = std::fs::read_to_string(examples())
        .unwrap()
        .lines()
        .find(|l| l.contains("\"note.recorded\""))
        .unwrap()
        .to_owned();
    let mut v: serde_json::Value = serde_json::from_str(&line).unwrap();
    v["id"] = serde_json::json!("018d0000-0000-7000-8000-0000000000ff");
    v["payload"]["text"] =
        serde_json::json!("Jade says the concerns were made up. No further contact needed.");
    v.to_string()
}

/// Copies entry `idx` of database `from` into `to` with plain SQL: its
/// ledger row, subject rows and the projection rows it changed.
fn copy_entry_rows(from: &Path, to: &Path, idx: i64) {
    let to_db = rusqlite::Connection::open(to).unwrap();
    to_db
        .execute("ATTACH DATABASE ?1 AS b", [from.to_str().unwrap()])
        .unwrap();
    to_db
        .execute_batch(&format!(
            "INSERT INTO ledger_entries SELECT * FROM b.ledger_entries WHERE idx = {idx};
             INSERT INTO event_subjects SELECT * FROM b.event_subjects WHERE idx = {idx};
             INSERT OR REPLACE INTO entities SELECT * FROM b.entities WHERE updated_idx = {idx};"
        ))
        .unwrap();
}

#[test]
fn forged_entry_after_last_tree_head_is_reported_and_never_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    imported(&a);
    imported(&b);
    let extra = tmp.path().join("extra.jsonl");
    std::fs::write(&extra, forged_note_line() + "\n").unwrap();
    let o = run(vigil().arg("--data").arg(&b).arg("import").arg(&extra));
    assert!(o.status.success(), "{}", stderr(&o));
    copy_entry_rows(&b.join("vigil.sqlite"), &a.join("vigil.sqlite"), 114);

    for args in [vec!["verify"], vec!["verify", "--ledger-only"]] {
        let o = run(vigil().arg("--data").arg(&a).args(&args));
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_one_sentence(&o);
        let e = stderr(&o);
        assert!(
            e.contains("entry 114") && e.contains("018d0000-0000-7000-8000-0000000000ff"),
            "{e}"
        );
    }
    // One genuine event more: refused, so no tree head is ever signed over the forgery.
    let genuine = tmp.path().join("genuine.jsonl");
    std::fs::write(&genuine, person_line(1) + "\n").unwrap();
    let o = run(vigil().arg("--data").arg(&a).arg("import").arg(&genuine));
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("entry 114"), "{}", stderr(&o));
    let conn = rusqlite::Connection::open(a.join("vigil.sqlite")).unwrap();
    let signed: i64 = conn
        .query_row("SELECT max(size) FROM tree_heads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(signed, 114);
    let o = run(vigil()
        .arg("--data")
        .arg(&a)
        .args(["verify", "--ledger-only"]));
    assert_eq!(o.status.code(), Some(1));
}

/// Deletes entries from `from` on with their tree heads, subject rows and
/// the projection rows they made.
fn truncate_sqlite(db: &Path, from: i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(&format!(
        "DELETE FROM ledger_entries WHERE idx >= {from}; DELETE FROM event_subjects WHERE idx >= {from};
         DELETE FROM tree_heads WHERE size > {from}; DELETE FROM entities WHERE created_idx >= {from};"
    ))
    .unwrap();
}

#[test]
fn truncation_and_an_emptied_log_make_verify_exit_1_naming_the_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    imported(&data);
    let more = tmp.path().join("more.jsonl");
    std::fs::write(&more, format!("{}\n{}\n", person_line(1), person_line(2))).unwrap();
    assert!(
        run(vigil().arg("--data").arg(&data).arg("import").arg(&more))
            .status
            .success()
    );
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("tree-head.json") && out.contains("116 entries"),
        "{out}"
    );

    // The newest batch cut off, with its tree head: a shorter log that is
    // consistent with itself, but not with the tree-head file.
    let db = data.join("vigil.sqlite");
    let keep = tmp.path().join("kept.sqlite");
    std::fs::copy(&db, &keep).unwrap();
    truncate_sqlite(&db, 114);
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["verify", "--ledger-only"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_one_sentence(&o);
    let e = stderr(&o);
    assert!(
        e.contains("entries 114 to 115") && e.contains("tree-head.json"),
        "{e}"
    );

    // Every row deleted.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DELETE FROM ledger_entries; DELETE FROM event_subjects; DELETE FROM tree_heads; DELETE FROM entities;",
    )
    .unwrap();
    drop(conn);
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("entries 0 to 115"), "{}", stderr(&o));
    // And nothing is appended to it.
    let o = run(vigil().arg("--data").arg(&data).arg("import").arg(&more));
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("tree-head.json"), "{}", stderr(&o));
}

#[test]
fn verify_receipts_catches_a_log_cut_below_a_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let receipts = imported(&data);
    // One event more, in a batch of its own (so a cut back to the example
    // story leaves a log with its own signed tree head at its end).
    let one = tmp.path().join("one.jsonl");
    std::fs::write(&one, person_line(1) + "\n").unwrap();
    let o = run(vigil().arg("--data").arg(&data).arg("import").arg(&one));
    assert!(o.status.success(), "{}", stderr(&o));
    let last = tmp.path().join("last.json");
    std::fs::write(&last, &o.stdout).unwrap();
    let all = tmp.path().join("all.jsonl");
    std::fs::write(&all, &receipts).unwrap();
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["verify", "--receipts"])
        .arg(&all)
        .arg(&last));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("115 receipts"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // Cut the last entry, and remove the tree-head file too: the receipt
    // still shows the cut.
    let copy = tmp.path().join("tree-head-copy.json");
    std::fs::copy(data.join("tree-head.json"), &copy).unwrap();
    truncate_sqlite(&data.join("vigil.sqlite"), 114);
    std::fs::remove_file(data.join("tree-head.json")).unwrap();
    // A copy of the tree-head file kept elsewhere shows it too.
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["verify", "--tree-head"])
        .arg(&copy));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("tree-head-copy.json"), "{}", stderr(&o));
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["verify", "--ledger-only"]));
    assert!(o.status.success(), "without witnesses the cut is invisible");
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["verify", "--receipts"])
        .arg(&last));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_one_sentence(&o);
    let e = stderr(&o);
    assert!(
        e.contains("entry 114 is missing") && e.contains("last.json"),
        "{e}"
    );
}

#[test]
fn a_receipt_holder_proves_the_payload_they_submitted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let receipts = imported(&data);
    // The first receipt for a child's record.
    let first = receipts
        .lines()
        .find(|l| l.contains("person.recorded"))
        .unwrap();
    let index = serde_json::from_str::<serde_json::Value>(first).unwrap()["leaf_index"]
        .as_u64()
        .unwrap();
    let receipt: serde_json::Value = serde_json::from_str(first).unwrap();
    assert!(receipt["salt"].is_string(), "{first}");
    let file = tmp.path().join("r.json");
    std::fs::write(&file, first).unwrap();
    // The canonical payload, as the store hands it out.
    let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    let payload: String = conn
        .query_row(
            "SELECT payload FROM ledger_entries WHERE idx = ?1",
            [index as i64],
            |r| r.get(0),
        )
        .unwrap();
    // The receipt itself holds no payload content.
    let value = serde_json::from_str::<serde_json::Value>(&payload).unwrap();
    let given = value
        .pointer("/names/0/given")
        .and_then(|v| v.as_str())
        .expect("a person.recorded payload names the person");
    assert!(
        !first.contains(given) && !first.contains(&payload),
        "{first}"
    );
    let p = tmp.path().join("payload.json");
    std::fs::write(&p, &payload).unwrap();
    let key = data.join("log-key.pub");
    let check = |payload_file: &Path| {
        run(vigil()
            .args(["receipt", "verify"])
            .arg(&file)
            .arg("--key")
            .arg(&key)
            .arg("--payload")
            .arg(payload_file))
    };
    let o = check(&p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("payload"));

    // Another payload, or the same one not in canonical form, is refused.
    let changed = tmp.path().join("changed.json");
    std::fs::write(&changed, payload.replacen("\":\"", "\":\"x", 1)).unwrap();
    let o = check(&changed);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_one_sentence(&o);
    let pretty = tmp.path().join("pretty.json");
    std::fs::write(&pretty, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let o = check(&pretty);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("canonical"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn init_makes_the_data_directory_private_and_serve_warns_when_it_is_not() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    imported(&data);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut files = 0;
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        files += 1;
    }
    assert!(files >= 4, "key, public key, database, tree-head file");

    // Widened by hand: `vigil serve` says so on stderr, and still serves.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        data.join("vigil.sqlite"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut child = vigil()
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(line.contains("serving"), "{line}{err}");
    assert!(
        err.contains("warning") && err.contains("0755") && err.contains("vigil.sqlite"),
        "{err}"
    );
}

/// `vigil user add` (the operator's way to make accounts) for `data`.
fn add_user(data: &Path, args: &[&str]) -> Output {
    run(vigil()
        .arg("--data")
        .arg(data)
        .arg("user")
        .arg("add")
        .args(args))
}

/// The partnership administrator is made only here, never by a web page
/// (review item 6), and never under a name that has acted in the log (item 7).
#[test]
fn user_add_creates_partnership_administrators_and_refuses_names_the_log_has_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(run(vigil().arg("--data").arg(&data).arg("init"))
        .status
        .success());
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(examples()));
    assert!(o.status.success(), "{}", stderr(&o));

    // `admin` registered the example's agencies: it acted, so it is taken.
    let o = add_user(&data, &["admin", "--role", "partnership_administrator"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("used in the record before"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    // So is a name that only ever acted for another agency.
    let o = add_user(
        &data,
        &[
            "youth.worker.3",
            "--role",
            "referrer",
            "--agency",
            "oakfield-academy",
        ],
    );
    assert!(!o.status.success(), "{}", stderr(&o));

    // An agency's administrator needs its agency; the partnership's has none.
    let o = add_user(&data, &["ada.admin", "--role", "administrator"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--agency"), "{}", stderr(&o));
    let o = add_user(
        &data,
        &[
            "ada.admin",
            "--role",
            "partnership_administrator",
            "--agency",
            "northshire-police",
        ],
    );
    assert!(!o.status.success());
    let o = add_user(&data, &["ada.admin", "--role", "partnership_administrator"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("partnership administrator"), "{out}");
    assert!(out.contains("one-time password: "), "{out}");
    let o = add_user(
        &data,
        &[
            "p.admin",
            "--role",
            "administrator",
            "--agency",
            "northshire-police",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(run(vigil().arg("--data").arg(&data).arg("verify"))
        .status
        .success());
}

/// A key of another log, in the `meta.log_key` form (base64).
fn another_log_key() -> String {
    vigil_ledger::LogSigner::generate().public_key().to_base64()
}

#[test]
fn verify_exits_1_when_the_database_names_another_log_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    imported(&data);
    let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'log_key'",
        [another_log_key()],
    )
    .unwrap();
    drop(conn);
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_one_sentence(&o);
    assert!(stderr(&o).contains("another key"), "{}", stderr(&o));
}

/// Someone with the data directory replaces the log's key everywhere it is
/// kept there (the secret, log-key.pub, meta.log_key), re-signs every tree
/// head and removes the tree-head file: the result is consistent with
/// itself, and only a key held elsewhere (`vigil verify --key`) shows it.
#[test]
fn verify_with_a_key_held_elsewhere_catches_a_log_re_signed_with_a_new_key() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    imported(&data);
    let kept = tmp.path().join("kept.pub");
    std::fs::copy(data.join("log-key.pub"), &kept).unwrap();
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("verify")
        .arg("--key")
        .arg(&kept));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let new = vigil_ledger::LogSigner::generate();
    std::fs::write(
        data.join("log-key.secret"),
        base64::engine::general_purpose::STANDARD.encode(new.secret_bytes()),
    )
    .unwrap();
    std::fs::write(data.join("log-key.pub"), new.public_key().to_text()).unwrap();
    std::fs::remove_file(data.join("tree-head.json")).unwrap();
    let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'log_key'",
        [new.public_key().to_base64()],
    )
    .unwrap();
    let heads: Vec<(i64, Vec<u8>, i64)> = conn
        .prepare("SELECT size, root, timestamp_ms FROM tree_heads")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!heads.is_empty());
    for (size, root, timestamp_ms) in heads {
        let signed = new.sign_tree_head(&vigil_ledger::TreeHead {
            size: size as u64,
            root: root.try_into().unwrap(),
            timestamp_ms,
        });
        conn.execute(
            "UPDATE tree_heads SET signature = ?1 WHERE size = ?2",
            rusqlite::params![&signed.signature[..], size],
        )
        .unwrap();
    }
    drop(conn);

    // Consistent with itself: the data directory alone cannot tell.
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("verify")
        .arg("--key")
        .arg(&kept));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_one_sentence(&o);
    assert!(stderr(&o).contains("key"), "{}", stderr(&o));
}

/// docs/ledger-format.md §3: the public key file is one line and a newline.
#[test]
fn the_public_key_file_is_one_line_and_a_newline() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init(&data);
    let text = std::fs::read_to_string(data.join("log-key.pub")).unwrap();
    let line = text.strip_suffix('\n').expect("ends with a newline");
    assert!(
        line.starts_with("vigil-log-key-v1 ") && !line.contains('\n'),
        "{text:?}"
    );
}

#[test]
fn stale_projections_make_verify_exit_3_until_vigil_rebuild() {
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
        "UPDATE meta SET value = '99' WHERE key = 'projection_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_one_sentence(&o);
    assert!(
        stderr(&o).contains("version 99") && stderr(&o).contains("vigil rebuild"),
        "{}",
        stderr(&o)
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("ledger intact: "));
    // Appends are refused, in one sentence, until the rebuild.
    let more = tmp.path().join("more.jsonl");
    std::fs::write(&more, format!("{}\n", person_line(999))).unwrap();
    let o = run(vigil().arg("--data").arg(&data).arg("import").arg(&more));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_one_sentence(&o);
    assert!(stderr(&o).contains("run `vigil rebuild`"), "{}", stderr(&o));
    let o = run(vigil().arg("--data").arg(&data).arg("rebuild"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("rebuilt: ") && out.contains("were version 99"),
        "{out}"
    );
    // Not a terminal: plain progress lines.
    assert!(
        stderr(&o).contains("rebuilding the projections"),
        "{}",
        stderr(&o)
    );
    let o = run(vigil().arg("--data").arg(&data).arg("verify"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(vigil().arg("--data").arg(&data).arg("import").arg(&more));
    assert!(o.status.success(), "{}", stderr(&o));
}
