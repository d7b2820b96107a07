//! `vigil user add`: the operator's way to create accounts, including the
//! partnership administrator, which no web page can create (review item 6),
//! and never under a name that has acted in the log (item 7).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vigil(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA")
        .env_remove("VIGIL_DATABASE_URL")
        .arg("--data")
        .arg(data);
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

fn add(data: &Path, args: &[&str]) -> Output {
    run(vigil(data).arg("user").arg("add").args(args))
}

#[test]
fn user_add_creates_partnership_administrators_and_refuses_names_the_log_has_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(run(vigil(&data).arg("init")).status.success());
    let o = run(vigil(&data).arg("import").arg(examples()));
    assert!(o.status.success(), "{}", stderr(&o));

    // `admin` registered the example's agencies: it acted, so it is taken.
    let o = add(&data, &["admin", "--role", "partnership_administrator"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("used in the record before"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    // So is a name that only ever acted for another agency.
    let o = add(
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
    let o = add(&data, &["ada.admin", "--role", "administrator"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--agency"), "{}", stderr(&o));
    let o = add(
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
    let o = add(&data, &["ada.admin", "--role", "partnership_administrator"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("partnership administrator"), "{out}");
    assert!(out.contains("one-time password: "), "{out}");
    let o = add(
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
    assert!(run(vigil(&data).arg("verify")).status.success());
}
