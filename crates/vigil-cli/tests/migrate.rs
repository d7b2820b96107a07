//! `vigil migrate` and `--database postgres://...` as an operator meets them:
//! a data directory's SQLite log moved verbatim into an empty database and
//! verified on both sides; a non-empty target, a tampered source and an
//! unreachable server refused in one sentence, never showing a password.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("vigil runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_one_sentence(o: &Output) {
    let e = stderr(o);
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "expected one line: {e}");
    assert!(e.starts_with("vigil: "), "{e}");
}

fn person_line(i: u64) -> String {
    format!(
        r#"{{"id":"01900000-0000-7000-8000-{i:012x}","actor":{{"user":"loader","role":"system"}},"agency":"northshire-council","occurred_at":{{"value":"2024-05-01","precision":"day"}},"kind":"person.recorded","payload":{{"person_id":"01910000-0000-7000-8000-{i:012x}","names":[{{"given":"Testchild","family":"Number{i}","kind":"birth"}}]}}}}"#
    )
}

/// A note about two of the people above (so entries concern several subjects).
fn note_line(i: u64, a: u64, b: u64) -> String {
    format!(
        r#"{{"id":"01920000-0000-7000-8000-{i:012x}","actor":{{"user":"worker","role":"practitioner"}},"agency":"northshire-council","occurred_at":{{"value":"2024-05-02","precision":"day"}},"kind":"note.recorded","payload":{{"subjects":[{{"type":"person","id":"01910000-0000-7000-8000-{a:012x}"}},{{"type":"person","id":"01910000-0000-7000-8000-{b:012x}"}}],"text":"Seen together near the station."}}}}"#
    )
}

/// A data directory holding 400 people and 200 notes, imported in uneven batches.
fn filled_data_dir(tmp: &Path) -> PathBuf {
    let data = tmp.join("data");
    assert!(run(vigil().arg("--data").arg(&data).arg("init"))
        .status
        .success());
    let file = tmp.join("events.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    for i in 0..400 {
        writeln!(f, "{}", person_line(i)).unwrap();
    }
    for i in 0..200 {
        writeln!(f, "{}", note_line(i, i, 399 - i)).unwrap();
    }
    drop(f);
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(&file)
        .args(["--batch", "37"]));
    assert!(o.status.success(), "{}", stderr(&o));
    data
}

/// The root printed by `vigil verify`.
fn verified_root(data: &Path, database: Option<&str>) -> String {
    let mut c = vigil();
    c.arg("--data").arg(data);
    if let Some(u) = database {
        c.arg("--database").arg(u);
    }
    let o = run(c.arg("verify"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("intact: 600 entries, 17 signed tree heads, 400 projection rows"),
        "{out}"
    );
    out.rsplit("root ").next().unwrap().trim().to_owned()
}

fn migrate_and_check(tmp: &Path, target: &str) {
    let data = filled_data_dir(tmp);
    let root = verified_root(&data, None);
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["migrate", "--to", target, "--batch", "100"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("migrated: 600 entries, 17 signed tree heads, 400 projection rows"),
        "{out}"
    );
    assert!(out.contains(&root), "{out}");
    // The target verifies on its own, with the same root: receipts already given out still hold.
    assert_eq!(verified_root(&data, Some(target)), root);
    // The source is untouched.
    assert_eq!(verified_root(&data, None), root);

    // A second migration into the now non-empty target is refused.
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["migrate", "--to", target]));
    assert_eq!(o.status.code(), Some(2));
    assert_one_sentence(&o);
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));

    // The new database goes on as the log: an import continues it.
    let more = tmp.join("more.jsonl");
    std::fs::write(&more, person_line(5_000) + "\n").unwrap();
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .arg("--database")
        .arg(target)
        .arg("import")
        .arg(&more));
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(r["leaf_index"], 600);
}

#[test]
fn migrate_to_postgres_copies_the_log_verbatim_and_verifies_both_sides() {
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
    migrate_and_check(tmp.path(), schema.url());
}

#[test]
fn migrate_to_another_sqlite_file_works_the_same_way() {
    let tmp = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", tmp.path().join("moved.sqlite").display());
    migrate_and_check(tmp.path(), &target);
}

#[test]
fn migrate_refuses_a_tampered_source_and_the_same_database() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled_data_dir(tmp.path());
    let same = format!("sqlite://{}", data.join("vigil.sqlite").display());
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["migrate", "--to", &same]));
    assert_eq!(o.status.code(), Some(2));
    assert_one_sentence(&o);
    assert!(stderr(&o).contains("same database"), "{}", stderr(&o));

    let conn = rusqlite::Connection::open(data.join("vigil.sqlite")).unwrap();
    conn.execute(
        "UPDATE ledger_entries SET payload = replace(payload, 'Number', 'Numbex') WHERE idx = 7",
        [],
    )
    .unwrap();
    drop(conn);
    let target = tmp.path().join("target.sqlite");
    let o = run(vigil()
        .arg("--data")
        .arg(&data)
        .args(["migrate", "--to"])
        .arg(format!("sqlite://{}", target.display())));
    assert_eq!(o.status.code(), Some(2));
    assert_one_sentence(&o);
    assert!(
        stderr(&o).contains("fails verification") && stderr(&o).contains("entry 7"),
        "{}",
        stderr(&o)
    );
}

/// Needs no server: nothing listens on port 1.
#[test]
fn an_unreachable_postgres_is_one_sentence_without_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(run(vigil().arg("--data").arg(&data).arg("init"))
        .status
        .success());
    let url = "postgres://vigil:hunter2@127.0.0.1:1/vigil";
    for args in [
        vec!["verify"],
        vec!["import", "-"],
        vec!["migrate", "--to", url],
    ] {
        let mut c = vigil();
        c.arg("--data").arg(&data);
        if args[0] != "migrate" {
            c.env("VIGIL_DATABASE_URL", url);
        }
        let o = run(c.args(&args));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_one_sentence(&o);
        let e = stderr(&o);
        assert!(
            e.contains("cannot reach the PostgreSQL database at 127.0.0.1:1"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }
}
