//! What the store test binaries share: one test body runs against both
//! backends. `on_both_backends!(a, b, ...)` turns each `fn a(b: Backend)`
//! into `sqlite::a` (always run) and `postgres::a` (run when
//! `VIGIL_TEST_POSTGRES_URL` names a database; otherwise it says so on stderr
//! and returns). Each PostgreSQL test gets its own fresh schema, dropped
//! afterwards, so tests run in parallel in one database.
//!
//! [`RawSql`] is the tamperer's access: plain SQL on the same tables, behind
//! the program's back, in whichever dialect the backend speaks.

#![allow(dead_code)]

use std::path::PathBuf;
use vigil_ledger::LogSigner;
use vigil_model::{EventDraft, EventInput};
use vigil_store::postgres::ScratchSchema;
use vigil_store::{DatabaseUrl, Store};

pub const SKIP_MESSAGE: &str = "PostgreSQL tests skipped: VIGIL_TEST_POSTGRES_URL is not set";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::common::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name($crate::common::Backend::Postgres) } )*
        }
    };
}

/// Says, once per test binary, that the PostgreSQL tests are skipped.
/// Written to the real stderr (not `eprintln!`, which the test harness
/// captures and hides for passing tests) so a plain `cargo test` shows it.
pub fn say_skipped() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{SKIP_MESSAGE}");
    });
}

/// The PostgreSQL database for tests, if one is configured.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("VIGIL_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A fresh, empty database of one backend: a SQLite file in a temporary
/// directory, or a new schema in the test PostgreSQL database.
pub struct TestDb {
    pub backend: Backend,
    pub url: DatabaseUrl,
    dir: Option<tempfile::TempDir>,
    schema: Option<ScratchSchema>,
}

impl TestDb {
    /// None (after saying so) when the backend is PostgreSQL and none is configured.
    pub fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("vigil.sqlite");
                Some(TestDb {
                    backend,
                    url: DatabaseUrl::Sqlite(path),
                    dir: Some(dir),
                    schema: None,
                })
            }
            Backend::Postgres => {
                let Some(base) = postgres_base_url() else {
                    say_skipped();
                    return None;
                };
                let schema = ScratchSchema::new(&base, "vigil_test").unwrap();
                let url = DatabaseUrl::Postgres(schema.url().to_owned());
                Some(TestDb {
                    backend,
                    url,
                    dir: None,
                    schema: Some(schema),
                })
            }
        }
    }

    pub fn open(&self, secret: &[u8; 32]) -> Box<dyn Store> {
        vigil_store::open(&self.url, LogSigner::from_secret_bytes(secret)).unwrap()
    }

    pub fn try_open(&self, secret: &[u8; 32]) -> Result<Box<dyn Store>, vigil_store::StoreError> {
        vigil_store::open(&self.url, LogSigner::from_secret_bytes(secret))
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.url {
            DatabaseUrl::Sqlite(p) => Some(p.clone()),
            DatabaseUrl::Postgres(_) => None,
        }
    }

    /// Plain SQL on this database.
    pub fn sql(&self) -> Box<dyn RawSql> {
        match &self.url {
            DatabaseUrl::Sqlite(p) => Box::new(SqliteSql(rusqlite::Connection::open(p).unwrap())),
            DatabaseUrl::Postgres(u) => {
                Box::new(PgSql(vigil_store::postgres::raw_client(u).unwrap()))
            }
        }
    }

    /// An independent copy of this database (to tamper with).
    pub fn copy(&self) -> TestDb {
        let copy = TestDb::new(self.backend).expect("the backend was available a moment ago");
        match (&self.url, &copy.url) {
            (DatabaseUrl::Sqlite(from), DatabaseUrl::Sqlite(to)) => {
                std::fs::copy(from, to).unwrap();
            }
            (DatabaseUrl::Postgres(_), DatabaseUrl::Postgres(_)) => {
                let from = self.schema.as_ref().unwrap().name().to_owned();
                let to = copy.schema.as_ref().unwrap().name().to_owned();
                let base = postgres_base_url().unwrap();
                let mut c = vigil_store::postgres::raw_client(&base).unwrap();
                // Every table of the schema, whatever later migrations add.
                let tables: Vec<String> = c
                    .query(
                        "SELECT tablename::text FROM pg_tables WHERE schemaname = $1",
                        &[&from],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                let mut sql = String::from("BEGIN;");
                sql.push_str(&format!("CREATE SCHEMA \"{to}\";"));
                for t in tables {
                    sql.push_str(&format!(
                        "CREATE TABLE \"{to}\".\"{t}\" (LIKE \"{from}\".\"{t}\" INCLUDING ALL); INSERT INTO \"{to}\".\"{t}\" SELECT * FROM \"{from}\".\"{t}\";"
                    ));
                }
                sql.push_str("COMMIT;");
                c.batch_execute(&sql).unwrap();
            }
            _ => unreachable!(),
        }
        copy
    }
}

/// Plain SQL access for tampering, in either dialect.
pub trait RawSql {
    fn exec(&mut self, sql: &str);
    /// The first column of the first row, as text.
    fn text(&mut self, sql: &str) -> String;
    /// The first column of the first row, as bytes.
    fn bytes(&mut self, sql: &str) -> Vec<u8>;
    /// The first column of every row, as text.
    fn texts(&mut self, sql: &str) -> Vec<String>;
    fn count(&mut self, sql: &str) -> i64;
    /// A literal for a BLOB / BYTEA value.
    fn bytes_literal(&self, b: &[u8]) -> String;
    /// A literal for a TEXT value holding these bytes (SQLite stores them
    /// as they are; PostgreSQL can only hold valid UTF-8, so invalid
    /// sequences become U+FFFD, which is still a change).
    fn text_literal(&self, b: &[u8]) -> String;
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

struct SqliteSql(rusqlite::Connection);

impl RawSql for SqliteSql {
    fn exec(&mut self, sql: &str) {
        self.0
            .execute_batch(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    fn text(&mut self, sql: &str) -> String {
        self.0
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn bytes(&mut self, sql: &str) -> Vec<u8> {
        self.0
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn texts(&mut self, sql: &str) -> Vec<String> {
        let mut s = self.0.prepare(sql).unwrap();
        let v = s
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        v
    }
    fn count(&mut self, sql: &str) -> i64 {
        self.0
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn bytes_literal(&self, b: &[u8]) -> String {
        format!("X'{}'", hex::encode(b))
    }
    fn text_literal(&self, b: &[u8]) -> String {
        format!("CAST(X'{}' AS TEXT)", hex::encode(b))
    }
}

struct PgSql(postgres::Client);

impl RawSql for PgSql {
    fn exec(&mut self, sql: &str) {
        self.0
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    fn text(&mut self, sql: &str) -> String {
        self.0
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
    fn bytes(&mut self, sql: &str) -> Vec<u8> {
        self.0
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
    fn texts(&mut self, sql: &str) -> Vec<String> {
        self.0
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
    fn count(&mut self, sql: &str) -> i64 {
        self.0
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
    fn bytes_literal(&self, b: &[u8]) -> String {
        format!("'\\x{}'::bytea", hex::encode(b))
    }
    fn text_literal(&self, b: &[u8]) -> String {
        quote(&String::from_utf8_lossy(b).replace('\0', "\u{fffd}"))
    }
}

pub fn person_id(i: u64) -> String {
    format!("01910000-0000-7000-8000-{i:012x}")
}

/// Event ids all end in `b`, so flipping one character of one id never
/// makes another id of the fixture.
pub fn event_id(i: u64) -> String {
    format!("01900000-0000-7000-8000-{i:011x}b")
}

fn envelope(id: u64, kind: &str, payload: &str) -> String {
    format!(
        r#"{{"id":"{}","actor":{{"user":"tester","role":"practitioner"}},"agency":"northshire-council","occurred_at":{{"value":"2024-05-01","precision":"day"}},"kind":"{kind}","payload":{payload}}}"#,
        event_id(id)
    )
}

/// `person.recorded` for person `p`, as event `id`.
pub fn person(id: u64, p: u64) -> String {
    envelope(
        id,
        "person.recorded",
        &format!(
            r#"{{"person_id":"{}","names":[{{"given":"Testchild","family":"Number{p}","kind":"birth"}}]}}"#,
            person_id(p)
        ),
    )
}

/// `person.amended`: adds an alias to person `p`.
pub fn alias(id: u64, p: u64, n: u64) -> String {
    envelope(
        id,
        "person.amended",
        &format!(
            r#"{{"person_id":"{}","reason":"new information from school","add_names":[{{"given":"Alias{n}","kind":"alias"}}]}}"#,
            person_id(p)
        ),
    )
}

/// `note.recorded` about persons `a` and `b`.
pub fn note(id: u64, a: u64, b: u64) -> String {
    envelope(
        id,
        "note.recorded",
        &format!(
            r#"{{"subjects":[{{"type":"person","id":"{}"}},{{"type":"person","id":"{}"}}],"text":"Seen together near the station."}}"#,
            person_id(a),
            person_id(b)
        ),
    )
}

pub fn draft(line: &str) -> EventDraft {
    let input: EventInput =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("bad test event {line}: {e}"));
    input
        .prepare(chrono::Utc::now(), rand_salt())
        .unwrap_or_else(|e| panic!("test event refused {line}: {e}"))
}

fn rand_salt() -> [u8; 16] {
    rand::random()
}

/// The fixture log: six people, aliases and notes (so entities are created
/// and updated, and entries concern several subjects), in three batches so
/// there are several signed tree heads. Fourteen entries.
pub fn fixture_lines() -> Vec<Vec<String>> {
    vec![
        (0..6).map(|p| person(p, p)).collect(),
        vec![alias(6, 1, 1), note(7, 0, 2), alias(8, 0, 1), note(9, 3, 4)],
        vec![
            alias(10, 1, 2),
            note(11, 5, 1),
            alias(12, 4, 1),
            note(13, 0, 1),
        ],
    ]
}

/// A store at `db` filled with the fixture; returns its key.
pub fn fill_fixture(db: &TestDb) -> [u8; 32] {
    let signer = LogSigner::generate();
    let secret = signer.secret_bytes();
    let store = vigil_store::open(&db.url, signer).unwrap();
    for batch in fixture_lines() {
        let out = store
            .append(batch.iter().map(|l| draft(l)).collect())
            .unwrap();
        for r in out.results {
            r.expect("fixture event accepted");
        }
    }
    assert_eq!(store.log_size().unwrap(), 14);
    secret
}
