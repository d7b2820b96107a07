//! The PostgreSQL backend: several application servers (and `vigil import`
//! runs) on one database, which does the replication, backups and
//! point-in-time recovery (docs/postgres.md is the operator's page).
//!
//! Same tables and semantics as the SQLite backend; every write goes through
//! the one append path, [`LogWriter::append_in`], inside a transaction that
//! first takes a transaction-scoped advisory lock, so appends from every
//! process on every server form one gap-free sequence:
//!
//! - `BEGIN` (READ COMMITTED: each statement after the lock sees everything
//!   committed before it was granted; REPEATABLE READ would take its snapshot
//!   at the lock statement itself, before the lock was held, and miss the
//!   previous holder's rows) then `SELECT pg_advisory_xact_lock(1449748332,
//!   K)`, where 1449748332 is `Vigl` in ASCII and K the FNV-1a hash of the
//!   schema name, so two Vigil logs in different schemas do not wait on each
//!   other. The lock is released by `COMMIT`/`ROLLBACK`, after the commit is
//!   visible, and also if the connection dies, so a crashed writer never
//!   wedges the others.
//! - The writer's in-memory Merkle tree catches up with leaves appended by
//!   other processes ([`LogWriter::catch_up`]); `idx` and `event_id` are
//!   unique, a second line of defence.
//! - `synchronous_commit` is `on` unless the server is set to something at
//!   least as strong; a session that finds it `off` turns it on, so `COMMIT`
//!   returning means the WAL is flushed and a receipt is only ever made for
//!   a durable event.
//!
//! Connections: one dedicated writer connection and a small pool of reader
//! connections of our own (`?pool_size=N`, default 8), rather than r2d2. The
//! pool is some seventy lines; r2d2 would report an unreachable database as a
//! timeout after its connection-timeout period instead of the driver's own
//! reason, runs maintenance threads, and would still need the retry below. A
//! connection found closed (server restart, failover, `pg_terminate_backend`)
//! is dropped and the idle ones with it; a read that failed on a reused
//! connection before returning anything is retried once on a fresh one, and a
//! write whose `BEGIN` failed likewise (nothing was sent). A write that loses
//! its connection later fails with an `Unavailable` error and acknowledges
//! nothing. There is no background reconnect loop: the next request opens a
//! fresh connection, so the store recovers as soon as the database does.
//!
//! Bulk reads (`for_each_*`) stream through a portal in a REPEATABLE READ,
//! READ ONLY transaction, 2,000 rows at a time, so verifying millions of
//! entries needs little memory; [`Store::read_snapshot`] runs several of them
//! in one such transaction, so `vigil verify` sees one moment of a live log.
//! A write costs four round trips whatever the batch size (lock and log size,
//! prefetch, one statement for all rows and the tree head, commit).
//!
//! Addresses are ordinary libpq URLs plus two options Vigil strips before
//! handing the rest to the driver: `schema=NAME` (tables live in that schema,
//! created if absent, through `search_path`; tests give each test its own)
//! and `pool_size=N`. Messages never show the password.
//!
//! **Not from async code:** the `postgres` crate's blocking client runs its
//! own small Tokio runtime and panics if called from a thread that is already
//! inside one. Call a [`PostgresStore`] from plain threads, or from async
//! handlers through `tokio::task::spawn_blocking`.

use crate::index::{
    ChronologyPage, ChronologyQuery, ChronologyRow, EntityRows, PersonHit, ReferralQuery,
};
use crate::rebuild::{serving_refusal, RebuildReport, ServingLock, SERVING_LOCK_CLASS};
use crate::write::{LogWriter, RebuildTx, StoredLeaf, WriteTx};
use crate::{entity_from_row, Batch, BatchOutcome, LogReader, Store, StoreError, StoredEntry};
use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, IsolationLevel, NoTls, Row, Statement};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use uuid::Uuid;
use vigil_ledger::{Hash, LogKey, LogSigner, SignedTreeHead, TreeHead};
use vigil_model::index::{EdgeRow, NameKeyRow, ReferralRow};
use vigil_model::names::NameQuery;
use vigil_model::projection::EntityRecord;
use vigil_model::EntityKind;
use vigil_model::SealedEvent;

/// Schema migrations, applied in order; the index + 1 is the schema version.
/// Version N here makes the same change as version N of the SQLite list (a
/// test holds the two lists to the same length). Never edit one that has
/// shipped: add a new one to both lists.
///
/// Identifiers are `COLLATE "C"` so that `ORDER BY id` is byte order, as in
/// SQLite and as verification expects.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The log. idx is the Merkle leaf index; header is the canonical JSON leaf.
-- payload and salt become NULL when a payload is erased at the end of its retention.
CREATE TABLE ledger_entries (
    idx        BIGINT PRIMARY KEY,
    event_id   TEXT COLLATE "C" NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    header     TEXT NOT NULL,
    payload    TEXT,
    salt       BYTEA,
    leaf_hash  BYTEA NOT NULL
);
-- One signed tree head per committed batch.
CREATE TABLE tree_heads (
    size         BIGINT PRIMARY KEY,
    root         BYTEA NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    signature    BYTEA NOT NULL
);
-- Projections: the current state of each entity, rebuilt from the log by `vigil verify`.
CREATE TABLE entities (
    id          TEXT COLLATE "C" PRIMARY KEY,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_idx BIGINT NOT NULL,
    updated_idx BIGINT NOT NULL
);
CREATE INDEX entities_kind ON entities(kind);
-- Which entries concern which entity (from each header's subjects).
CREATE TABLE event_subjects (
    subject_id TEXT COLLATE "C" NOT NULL,
    idx        BIGINT NOT NULL,
    PRIMARY KEY (subject_id, idx)
);
"#,
    crate::accounts::POSTGRES_MIGRATION,
    // 3: `entities_updated (kind, updated_idx)` (migration 2) serves every
    // query by kind, so `entities_kind` was only a cost on each write. The
    // access log's subject index becomes one row per subject per written
    // batch (a queue page names fifty children; a batch of fifty page loads
    // wrote 2,500 index rows, now 50): see `accounts::subject_ranges`.
    r#"
DROP INDEX entities_kind;
CREATE TABLE access_subject_ranges (
    subject_id BYTEA NOT NULL,
    last_seq   BIGINT NOT NULL,
    first_seq  BIGINT NOT NULL,
    PRIMARY KEY (subject_id, last_seq)
);
INSERT INTO access_subject_ranges(subject_id, last_seq, first_seq)
    SELECT subject_id, seq, seq FROM access_subjects;
DROP TABLE access_subjects;
"#,
    // 4: the secondary projections (see `crate::index`).
    index::MIGRATION,
    // 5: same-person links (`person_match.*`) are edges of kind
    // `same_person`; the review queue lists them by kind.
    "CREATE INDEX edges_kind ON edges(kind, link_id);",
    // 6: search walks a key's people in id order and probes (key, person).
    "DROP INDEX name_keys_key;
     CREATE INDEX name_keys_key ON name_keys(kind, key, person_id) INCLUDE (agency);",
    // 7: the review queue of undecided scored pairs.
    index::MATCH_REVIEW_MIGRATION,
    // 8: a person's chronology head (`max(idx) WHERE person_id = ?`, read on
    // every page load) is one index probe rather than a walk over the
    // person's rows of `chronology_person`.
    "CREATE INDEX chronology_head ON chronology(person_id, idx);",
    // 9 and 10: kept for the branches that number them (cases; missing
    // episodes); the lead renumbers at merge.
    "-- 9: reserved",
    "-- 10: reserved",
    // 11: forms sent on an ended session, held for their account
    // (`accounts::HeldForm`).
    r#"
CREATE TABLE held_forms (
    token_sha256 BYTEA PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL,
    form         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL
);
CREATE INDEX held_forms_expiry ON held_forms(expires_ms);
"#,
    // 12: the actions of cases (projection version 8), so an owner's open
    // actions and the overdue ones are index reads.
    r#"
CREATE TABLE case_actions (
    action_id  uuid PRIMARY KEY,
    case_id    uuid NOT NULL,
    child_id   uuid NOT NULL,
    owner      text NOT NULL,
    due        date NOT NULL,
    status     text NOT NULL,
    meeting_id uuid
);
CREATE INDEX case_actions_case ON case_actions(case_id);
CREATE INDEX case_actions_owner ON case_actions(owner, status, due);
CREATE INDEX case_actions_due ON case_actions(status, due) WHERE status = 'open';
CREATE INDEX case_actions_meeting ON case_actions(meeting_id) WHERE meeting_id IS NOT NULL;
"#,
    // 13: returned missing episodes and their return home interviews
    // (projection version 8).
    r#"
CREATE TABLE return_interviews (
    episode_id      UUID PRIMARY KEY,
    child_id        UUID NOT NULL,
    agency          TEXT NOT NULL,
    returned_at     TEXT COLLATE "C" NOT NULL,
    done            BOOLEAN NOT NULL,
    assigned_agency TEXT,
    assigned_worker TEXT
);
CREATE INDEX return_interviews_due ON return_interviews(returned_at, episode_id) WHERE NOT done;
"#,
    // 15: an action of a contextual case (on a place or a peer group) has
    // no child (projection version 12).
    r#"
ALTER TABLE case_actions ALTER COLUMN child_id DROP NOT NULL;
"#,
];

mod accounts;
mod index;

/// First half of the advisory lock key: "Vigl" in ASCII.
pub const LOCK_CLASS: i32 = 0x5669_676c;
/// How long a writer waits for another process's write transaction.
const LOCK_TIMEOUT: &str = "30s";
const DEFAULT_POOL_SIZE: usize = 8;
/// How long a reader waits for a free pooled connection.
const POOL_WAIT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows fetched per round trip when streaming.
const STREAM_ROWS: i32 = 2000;
/// Oldest server accepted (`server_version_num`).
const MIN_SERVER_VERSION: i32 = 110000;

/// The second half of the advisory lock key for a schema: 32-bit FNV-1a of
/// its name, as a signed integer (what `pg_locks.objid` shows, modulo sign).
pub fn lock_key(schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in schema.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as i32
}

/// A parsed address: the driver's configuration plus Vigil's own options.
#[derive(Clone)]
struct Target {
    config: Config,
    schema: Option<String>,
    pool_size: usize,
    /// `host:port`, for messages.
    address: String,
}

fn valid_schema_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with("pg_")
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn parse_target(url: &str) -> Result<Target, StoreError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut schema = None;
    let mut pool_size = DEFAULT_POOL_SIZE;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "schema" => {
                if !valid_schema_name(v) {
                    return Err(StoreError::Config(format!(
                        "the schema name '{v}' in the PostgreSQL address is not allowed: use lower-case letters, digits and _ (not starting with pg_)"
                    )));
                }
                schema = Some(v.to_owned());
            }
            "pool_size" => {
                pool_size = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
                    StoreError::Config(format!("pool_size={v} in the PostgreSQL address is not a number from 1 to 1000"))
                })?;
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = Config::from_str(&rest).map_err(|e| {
        StoreError::Config(format!(
            "the PostgreSQL address {} is not valid: {e}",
            redact_url(url)
        ))
    })?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(StoreError::Config(
            "this build of Vigil cannot encrypt PostgreSQL connections (sslmode=require); reach the database over a private network or through a local TLS tunnel (see docs/postgres.md)".into(),
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("vigil");
    }
    if let Some(s) = &schema {
        let opts = match config.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} -csearch_path={s}"),
            _ => format!("-csearch_path={s}"),
        };
        config.options(&opts);
    }
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let address = if hosts.is_empty() {
        "localhost:5432".to_owned()
    } else {
        hosts.join(",")
    };
    Ok(Target {
        config,
        schema,
        pool_size,
        address,
    })
}

/// `url` with any password replaced by `***` (in the user-info part and in
/// a `password=` option).
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let after = &url[scheme_end + 3..];
    let auth_end = after.find(['/', '?']).unwrap_or(after.len());
    let authority = &after[..auth_end];
    let mut out = url[..scheme_end + 3].to_owned();
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => out.push_str(&format!("{user}:***")),
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let rest = &after[auth_end..];
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        None => out.push_str(rest),
    }
    out
}

/// The most specific reason in a driver error, as a phrase.
fn cause(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_owned();
    }
    let mut last: Option<String> = None;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    last.unwrap_or_else(|| e.to_string())
}

/// The generic conversion (`?` on a driver error). A lost connection is
/// [`StoreError::Unavailable`] carrying just the reason; the store's outer
/// layer rewrites it into a sentence naming the server.
pub(crate) fn error_from(e: postgres::Error) -> StoreError {
    let code = e.code().cloned();
    if e.is_closed() || (e.as_db_error().is_none() && std::error::Error::source(&e).is_some()) {
        return StoreError::Unavailable(cause(&e));
    }
    match code {
        Some(c) if c == SqlState::ADMIN_SHUTDOWN || c == SqlState::CRASH_SHUTDOWN || c == SqlState::CANNOT_CONNECT_NOW => {
            StoreError::Unavailable(cause(&e))
        }
        Some(c) if c == SqlState::LOCK_NOT_AVAILABLE => StoreError::Unavailable(format!(
            "another Vigil process held the log's write lock for more than {LOCK_TIMEOUT}; nothing was recorded"
        )),
        Some(c) if c == SqlState::READ_ONLY_SQL_TRANSACTION => StoreError::Config(
            "this PostgreSQL server is a read-only replica; point Vigil's writers at the primary".into(),
        ),
        Some(_) => StoreError::Database(format!("PostgreSQL refused the request: {}", cause(&e))),
        None => StoreError::Database(cause(&e)),
    }
}

/// Whether an `Unavailable` message from [`error_from`] means the connection
/// failed (rather than a lock wait, a busy pool or a refused connect, which
/// carry their own sentences).
fn connection_failure_message(m: &str) -> bool {
    // Sentences this module has already written (for this store or another
    // one, as when a copy's target fails inside a source's stream) start so.
    const FINISHED: [&str; 5] = [
        "cannot reach",
        "another Vigil",
        "all ",
        "the connection to the PostgreSQL database",
        "the PostgreSQL server at",
    ];
    !FINISHED.iter().any(|p| m.starts_with(p))
}

/// Whether `e`, raised while using `conn`, means the connection is gone: the
/// driver may report the server's FATAL message before it marks the client
/// closed.
fn connection_lost(e: &StoreError, conn: &Conn) -> bool {
    conn.is_closed() || matches!(e, StoreError::Unavailable(m) if connection_failure_message(m))
}

/// One connection with its prepared statements.
struct Conn {
    client: Client,
    stmts: HashMap<&'static str, Statement>,
}

impl Conn {
    fn stmt(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.stmts.insert(sql, s.clone());
        Ok(s)
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

fn connect(t: &Target) -> Result<Conn, StoreError> {
    let mut client = t.config.connect(NoTls).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot reach the PostgreSQL database at {}: {}",
            t.address,
            cause(&e)
        ))
    })?;
    // Statements are prepared once per connection. After five runs the
    // server may switch a prepared statement to a "generic" plan made from
    // the statistics of that moment, and keep it: a new log of 50 entries
    // gets a sequential scan for `event_id = ANY($1)`, still used at 60,000
    // entries (measured: the batch lookup grew from 0.2 ms to 12-30 ms under
    // load, before autovacuum had analysed the tables). Planning each run
    // costs about 0.1 ms and always fits the table's current size.
    client.batch_execute("SET plan_cache_mode = force_custom_plan")?;
    Ok(Conn {
        client,
        stmts: HashMap::new(),
    })
}

/// A small bounded pool of reader connections.
struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections handed out (or being opened).
    out: usize,
}

impl Pool {
    fn new(max: usize) -> Self {
        Pool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                out: 0,
            }),
            freed: Condvar::new(),
            max,
        }
    }

    /// A connection and whether it was reused (it may have died while idle).
    fn get(&self, t: &Target) -> Result<(Conn, bool), StoreError> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            while let Some(c) = st.idle.pop() {
                if !c.is_closed() {
                    st.out += 1;
                    return Ok((c, true));
                }
            }
            if st.out < self.max {
                st.out += 1;
                drop(st);
                return match connect(t) {
                    Ok(c) => Ok((c, false)),
                    Err(e) => {
                        self.release(None);
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "all {} connections to the PostgreSQL database at {} stayed busy for {} s",
                    self.max,
                    t.address,
                    POOL_WAIT.as_secs()
                )));
            }
            st = self
                .freed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Gives a connection back (None: it was lost; the idle ones are then
    /// suspect too and are closed).
    fn release(&self, conn: Option<Conn>) {
        let stale = {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.out = st.out.saturating_sub(1);
            match conn {
                Some(c) if !c.is_closed() => {
                    st.idle.push(c);
                    Vec::new()
                }
                _ => std::mem::take(&mut st.idle),
            }
        };
        self.freed.notify_one();
        drop(stale);
    }
}

struct Writer {
    conn: Option<Conn>,
    log: LogWriter,
}

/// The PostgreSQL store. Blocking: see the module documentation before using
/// it from async code (`spawn_blocking`).
pub struct PostgresStore {
    target: Target,
    schema: String,
    lock_key: i32,
    read_only: bool,
    writer: Mutex<Writer>,
    pool: Pool,
    key: LogKey,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("address", &self.target.address)
            .field("schema", &self.schema)
            .finish()
    }
}

impl PostgresStore {
    /// Opens the store at `url` (creating the schema and tables if needed, by
    /// the versioned migrations). Refuses a database whose log was signed
    /// with another key, one made by a newer Vigil, and a schema that holds
    /// tables that are not Vigil's. On a read-only replica it opens for
    /// reading only (if the schema is current).
    pub fn open(url: &str, signer: LogSigner) -> Result<Self, StoreError> {
        PostgresStore::open_with_writer(url, LogWriter::new(signer))
    }

    /// [`PostgresStore::open`] with a writer already set up (a tree-head file).
    pub fn open_with_writer(url: &str, writer: LogWriter) -> Result<Self, StoreError> {
        let target = parse_target(url)?;
        let mut conn = connect(&target)?;
        let prepare_err = |e: StoreError| match e {
            StoreError::Database(m) => StoreError::Database(format!(
                "cannot prepare the PostgreSQL database at {} for Vigil: {m}",
                target.address
            )),
            StoreError::Unavailable(m) if !m.starts_with("cannot reach") => {
                StoreError::Unavailable(format!(
                "the connection to the PostgreSQL database at {} was lost while opening it: {m}",
                target.address
            ))
            }
            other => other,
        };
        let row = conn
            .client
            .query_one(
                "SELECT current_setting('server_version_num')::int, pg_is_in_recovery(),
                        current_setting('server_encoding')",
                &[],
            )
            .map_err(|e| prepare_err(e.into()))?;
        let version: i32 = row.get(0);
        let read_only: bool = row.get(1);
        let encoding: String = row.get(2);
        if encoding != "UTF8" {
            return Err(StoreError::Config(format!(
                "the PostgreSQL database at {} uses the {encoding} encoding; Vigil needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8')",
                target.address
            )));
        }
        if version < MIN_SERVER_VERSION {
            return Err(StoreError::Config(format!(
                "the PostgreSQL server at {} runs version {}.{}; Vigil needs {} or later",
                target.address,
                version / 10000,
                version % 10000,
                MIN_SERVER_VERSION / 10000
            )));
        }
        let key = writer.signer().public_key();
        let schema = match &target.schema {
            Some(s) => s.clone(),
            None => conn
                .client
                .query_one("SELECT current_schema()", &[])
                .map_err(|e| prepare_err(e.into()))?
                .get::<_, Option<String>>(0)
                .ok_or_else(|| {
                    StoreError::Config(format!(
                        "the PostgreSQL database at {} has no schema to hold Vigil's tables (none of its search_path exists); add ?schema=NAME to the address",
                        target.address
                    ))
                })?,
        };
        let lock_key = lock_key(&schema);
        let opened = if read_only {
            check_read_only(&mut conn, &schema, &key, &target)
        } else {
            prepare_schema(&mut conn, &schema, lock_key, &key, &target)
        };
        opened.map_err(prepare_err)?;
        let writer_conn = if read_only { None } else { Some(conn) };
        let mut store = PostgresStore {
            pool: Pool::new(target.pool_size),
            target,
            schema,
            lock_key,
            read_only,
            writer: Mutex::new(Writer {
                conn: None,
                log: writer,
            }),
            key,
        };
        if let Some(mut c) = writer_conn {
            store.setup_writer(&mut c)?;
            store
                .writer
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .conn = Some(c);
        }
        Ok(store)
    }

    /// The schema holding this store's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The advisory lock key pair taken by every write transaction.
    pub fn advisory_lock_key(&self) -> (i32, i32) {
        (LOCK_CLASS, self.lock_key)
    }

    /// Makes sure a writer connection commits durably.
    fn setup_writer(&self, conn: &mut Conn) -> Result<(), StoreError> {
        let sc: String = conn
            .client
            .query_one("SHOW synchronous_commit", &[])?
            .get(0);
        if sc == "off" {
            conn.client.batch_execute("SET synchronous_commit = on")?;
        }
        Ok(())
    }

    /// Rewrites a failure of an operation on an established connection into
    /// a sentence naming the server.
    fn lost(&self, e: StoreError, what: &str) -> StoreError {
        match e {
            StoreError::Unavailable(m) if connection_failure_message(&m) => {
                StoreError::Unavailable(format!(
                    "the connection to the PostgreSQL database at {} was lost {what} ({m})",
                    self.target.address
                ))
            }
            other => other,
        }
    }

    /// Runs `f` on a pooled connection. `f` sets its flag once it has passed
    /// anything to a caller's callback; until then a failure on a reused
    /// connection that turns out to be dead is retried once on a fresh one.
    fn read<T>(
        &self,
        mut f: impl FnMut(&mut Conn, &mut bool) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut retried = false;
        loop {
            let (mut conn, reused) = self.pool.get(&self.target)?;
            let mut delivered = false;
            let out = f(&mut conn, &mut delivered);
            match out {
                Ok(v) => {
                    self.pool.release(Some(conn));
                    return Ok(v);
                }
                Err(e) if connection_lost(&e, &conn) => {
                    drop(conn);
                    self.pool.release(None);
                    if reused && !delivered && !retried {
                        retried = true;
                        continue;
                    }
                    return Err(self.lost(e, "while reading; try again"));
                }
                Err(e) => {
                    self.pool.release(Some(conn));
                    return Err(e);
                }
            }
        }
    }

    /// Runs `f` on a view inside one REPEATABLE READ, READ ONLY transaction
    /// on a pooled connection. With `retry`, a failure on a reused connection
    /// that turns out to be dead is retried on a fresh one as long as no row
    /// has reached a callback; without it, only the start of the transaction
    /// is retried (`f` may keep state between its reads).
    fn in_snapshot(
        &self,
        retry: bool,
        f: &mut dyn FnMut(&PgView<'_, '_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|conn, delivered| {
            let Conn { client, stmts } = conn;
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            if !retry {
                *delivered = true;
            }
            let out = {
                let view = PgView {
                    tx: RefCell::new(&mut tx),
                    stmts: RefCell::new(stmts),
                    delivered: Cell::new(false),
                };
                let out = f(&view);
                *delivered |= view.delivered.get();
                out
            };
            out?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Streams the rows of one query through a portal, in one consistent
    /// snapshot.
    pub(crate) fn stream(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
        on_row: &mut dyn FnMut(&Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.in_snapshot(true, &mut |v| v.stream(sql, params, &mut *on_row))
    }

    /// A writer connection inside `BEGIN` holding the advisory lock, and the
    /// size of the log as seen under the lock (same round trip).
    fn begin_write(&self, w: &mut Writer) -> Result<(Conn, u64, Option<Option<u32>>), StoreError> {
        if self.read_only {
            return Err(StoreError::Config(format!(
                "the PostgreSQL server at {} is a read-only replica; point Vigil's writers at the primary",
                self.target.address
            )));
        }
        let begin = format!(
            "BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {}); {SIZE_AND_VERSION}",
            self.lock_key
        );
        let mut retried = false;
        loop {
            let (mut conn, reused) = match w.conn.take() {
                Some(c) if !c.is_closed() => (c, true),
                _ => {
                    let mut c = connect(&self.target)?;
                    self.setup_writer(&mut c).map_err(|e| {
                        self.lost(e, "before anything was written; nothing was recorded")
                    })?;
                    (c, false)
                }
            };
            match conn.client.simple_query(&begin) {
                Ok(messages) => {
                    // The last row is max(idx) (NULL for an empty log) and
                    // the projection version (NULL if none is recorded).
                    let last = messages.iter().rev().find_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => {
                            Some((r.get(0).map(str::to_owned), r.get(1).map(str::to_owned)))
                        }
                        _ => None,
                    });
                    let (max, version) = match last {
                        Some((m, v)) => (Some(m), v),
                        None => (None, None),
                    };
                    let version = index::parse_version(version)?;
                    let size = match max.flatten() {
                        None => 0,
                        Some(t) => {
                            t.parse::<i64>()
                                .map_err(|_| {
                                    StoreError::Corrupt(format!(
                                        "the log's last index '{t}' is not a number"
                                    ))
                                })
                                .and_then(index_of)?
                                + 1
                        }
                    };
                    return Ok((conn, size, Some(version)));
                }
                Err(e) => {
                    let e = StoreError::from(e);
                    if connection_lost(&e, &conn) {
                        if reused && !retried {
                            retried = true;
                            continue;
                        }
                        return Err(
                            self.lost(e, "before anything was written; nothing was recorded")
                        );
                    }
                    self.finish(w, conn, false);
                    return Err(e);
                }
            }
        }
    }

    /// Ends a write transaction that failed: rolls back and keeps the
    /// connection if it is alive, forgets the writer's tree (it may hold
    /// leaves that were never committed).
    fn finish(&self, w: &mut Writer, mut conn: Conn, reset: bool) {
        if reset {
            w.log.reset();
        }
        // A connection that failed is dropped (the server rolls back what it
        // had); a live one is rolled back and kept.
        if !conn.is_closed() && conn.client.batch_execute("ROLLBACK").is_ok() {
            w.conn = Some(conn);
        }
    }

    fn commit(&self, w: &mut Writer, mut conn: Conn) -> Result<(), StoreError> {
        match conn.client.batch_execute("COMMIT") {
            Ok(()) => {
                w.conn = Some(conn);
                Ok(())
            }
            Err(e) => {
                let e = StoreError::from(e);
                let closed = connection_lost(&e, &conn);
                self.finish(w, conn, true);
                Err(if closed {
                    StoreError::Unavailable(format!(
                        "the connection to the PostgreSQL database at {} was lost while committing, so nothing was acknowledged; the batch may or may not have been recorded, and sending the same events again (same ids) is safe",
                        self.target.address
                    ))
                } else {
                    e
                })
            }
        }
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        // A panic while writing leaves nothing half-committed (the
        // transaction dies with its connection or is rolled back), so a
        // poisoned lock is safe to take over once the tree is reloaded.
        self.writer.lock().unwrap_or_else(|p| {
            let mut g = p.into_inner();
            g.log.reset();
            g.conn = None;
            g
        })
    }
}

/// Creates the schema if needed, runs the migrations and records or checks
/// the log key, under the advisory lock so that servers starting together
/// do not race.
fn prepare_schema(
    conn: &mut Conn,
    schema: &str,
    lock_key: i32,
    key: &LogKey,
    t: &Target,
) -> Result<(), StoreError> {
    let c = &mut conn.client;
    c.batch_execute(&format!(
        "BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {lock_key})"
    ))?;
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )?
        .get(0);
    if !exists {
        if t.schema.is_none() {
            return Err(StoreError::Config(format!(
                "the schema {schema} does not exist"
            )));
        }
        // The name was checked to be a plain identifier.
        c.batch_execute(&format!("CREATE SCHEMA \"{schema}\""))?;
    }
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
             WHERE n.nspname = $1 AND k.relkind IN ('r', 'p', 'v', 'm', 'f')",
            &[&schema],
        )?
        .get(0);
    let version = schema_version(c, schema, tables, t)?;
    for sql in &MIGRATIONS[version..] {
        c.batch_execute(sql)?;
    }
    c.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&MIGRATIONS.len().to_string()],
    )?;
    let stored: Option<String> = c
        .query_opt("SELECT value FROM meta WHERE key = 'log_key'", &[])?
        .map(|r| r.get(0));
    match stored {
        None => {
            c.execute(
                "INSERT INTO meta(key, value) VALUES ('log_key', $1)",
                &[&key.to_base64()],
            )?;
        }
        Some(k) if k == key.to_base64() => {}
        Some(_) => return Err(other_key(schema, t)),
    }
    c.batch_execute("COMMIT")?;
    Ok(())
}

fn other_key(schema: &str, t: &Target) -> StoreError {
    StoreError::OtherKey(format!(
        "the PostgreSQL database at {} (schema {schema}) belongs to a log signed with another key; use that data directory's key",
        t.address
    ))
}

fn schema_version(
    c: &mut Client,
    schema: &str,
    tables: i64,
    t: &Target,
) -> Result<usize, StoreError> {
    let has_meta: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
             WHERE n.nspname = $1 AND k.relname = 'meta')",
            &[&schema],
        )?
        .get(0);
    let where_ = || format!("{} (schema {schema})", t.address);
    let version = if has_meta {
        c.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
            .and_then(|r| r.get::<_, String>(0).parse().ok())
            .unwrap_or(0)
    } else if tables > 0 {
        return Err(StoreError::Schema(
            where_(),
            "it already holds other tables; give Vigil its own schema with ?schema=NAME".into(),
        ));
    } else {
        0
    };
    if version > MIGRATIONS.len() {
        return Err(StoreError::Schema(
            where_(),
            format!(
                "its schema version {version} is newer than this program's {}",
                MIGRATIONS.len()
            ),
        ));
    }
    Ok(version)
}

/// On a replica nothing can be created: the schema must be current already.
fn check_read_only(
    conn: &mut Conn,
    schema: &str,
    key: &LogKey,
    t: &Target,
) -> Result<(), StoreError> {
    let c = &mut conn.client;
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = $1",
            &[&schema],
        )?
        .get(0);
    let version = schema_version(c, schema, tables, t)?;
    if version != MIGRATIONS.len() {
        return Err(StoreError::Schema(
            format!("{} (schema {schema})", t.address),
            "it is a read-only replica whose schema is not current; open the primary once with this version of Vigil".into(),
        ));
    }
    let stored: Option<String> = c
        .query_opt("SELECT value FROM meta WHERE key = 'log_key'", &[])?
        .map(|r| r.get(0));
    if stored.as_deref() != Some(key.to_base64().as_str()) {
        return Err(other_key(schema, t));
    }
    Ok(())
}

/// The open write transaction. Inserts are buffered and sent with the tree
/// head as one statement (`unnest` of arrays in data-modifying CTEs), the
/// ids a batch asks about are fetched in one query ([`WriteTx::prefetch`]),
/// and the log size comes back with the lock: a batch costs four round trips
/// (lock, prefetch, write, commit) whatever its size.
struct PgTx<'a> {
    conn: &'a mut Conn,
    /// The log size read with the lock, answered once instead of a query.
    known_size: Option<u64>,
    known_events: HashMap<Uuid, Option<u64>>,
    known_entities: HashMap<Uuid, Option<EntityRecord>>,
    entries: EntryColumns,
    subjects: (Vec<String>, Vec<i64>),
    entities: EntityColumns,
    /// Receipts to keep: (event id, receipt JSON).
    receipts: (Vec<String>, Vec<String>),
    /// The secondary projections' rows.
    index: index::IndexColumns,
    /// The projection version read with the lock.
    known_version: Option<Option<u32>>,
}

#[derive(Default)]
struct EntryColumns {
    idx: Vec<i64>,
    event_id: Vec<String>,
    kind: Vec<String>,
    header: Vec<String>,
    payload: Vec<String>,
    salt: Vec<Vec<u8>>,
    leaf: Vec<Vec<u8>>,
}

#[derive(Default)]
struct EntityColumns {
    id: Vec<String>,
    kind: Vec<String>,
    state: Vec<String>,
    created: Vec<i64>,
    updated: Vec<i64>,
}

const INSERT_ENTRIES: &str = "INSERT INTO ledger_entries(idx, event_id, kind, header, payload, salt, leaf_hash)
     SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bytea[])";
const INSERT_SUBJECTS: &str =
    "INSERT INTO event_subjects(subject_id, idx) SELECT * FROM unnest($1::text[], $2::int8[])";
const UPSERT_ENTITIES: &str = "INSERT INTO entities(id, kind, state, created_idx, updated_idx)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[])
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state,
       created_idx = excluded.created_idx, updated_idx = excluded.updated_idx";
const ENTITY_BY_ID: &str =
    "SELECT id, kind, state, created_idx, updated_idx FROM entities WHERE id = $1";
const EVENT_INDEX: &str = "SELECT idx FROM ledger_entries WHERE event_id = $1";
/// What a batch asks about, in one round trip: which of its event ids are
/// already in the log (false rows) and the current rows of its subjects
/// (true rows).
const PREFETCH: &str = "SELECT false, event_id, idx, NULL::text, NULL::text, NULL::int8
       FROM ledger_entries WHERE event_id = ANY($1)
     UNION ALL
     SELECT true, id, created_idx, kind, state, updated_idx FROM entities WHERE id = ANY($2)";
/// A batch's rows and its signed tree head, in one statement (one round trip).
const WRITE_BATCH: &str = concat!(
    index::write_index_ctes!(),
    ",
     e AS (
       INSERT INTO ledger_entries(idx, event_id, kind, header, payload, salt, leaf_hash)
       SELECT * FROM unnest($47::int8[], $48::text[], $49::text[], $50::text[], $51::text[], $52::bytea[], $53::bytea[])),
     s AS (
       INSERT INTO event_subjects(subject_id, idx) SELECT * FROM unnest($54::text[], $55::int8[])),
     n AS (
       INSERT INTO entities(id, kind, state, created_idx, updated_idx)
       SELECT * FROM unnest($56::text[], $57::text[], $58::text[], $59::int8[], $60::int8[])
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state,
         created_idx = excluded.created_idx, updated_idx = excluded.updated_idx),
     r AS (
       INSERT INTO receipts(event_id, receipt) SELECT * FROM unnest($65::text[], $66::text[])
       ON CONFLICT (event_id) DO UPDATE SET receipt = EXCLUDED.receipt)
     INSERT INTO tree_heads(size, root, timestamp_ms, signature) VALUES ($61, $62, $63, $64)"
);
const LOG_SIZE: &str = "SELECT max(idx) FROM ledger_entries";
/// The log size and the projection version, read with the writers' lock.
const SIZE_AND_VERSION: &str = "SELECT max(idx), (SELECT value FROM meta WHERE key = 'projection_version') FROM ledger_entries";
const LATEST_TREE_HEAD: &str =
    "SELECT size, root, timestamp_ms, signature FROM tree_heads ORDER BY size DESC LIMIT 1";

impl PgTx<'_> {
    fn new(conn: &mut Conn, size: u64) -> PgTx<'_> {
        PgTx {
            conn,
            known_size: Some(size),
            known_events: HashMap::new(),
            known_entities: HashMap::new(),
            entries: EntryColumns::default(),
            subjects: (Vec::new(), Vec::new()),
            entities: EntityColumns::default(),
            receipts: (Vec::new(), Vec::new()),
            index: index::IndexColumns::default(),
            known_version: None,
        }
    }

    /// Sends the buffered inserts. After a write the prefetched answers may
    /// be stale, so they are dropped.
    fn flush(&mut self) -> Result<(), StoreError> {
        if !self.entries.idx.is_empty() {
            let s = self.conn.stmt(INSERT_ENTRIES)?;
            let e = std::mem::take(&mut self.entries);
            self.conn.client.execute(
                &s,
                &[
                    &e.idx,
                    &e.event_id,
                    &e.kind,
                    &e.header,
                    &e.payload,
                    &e.salt,
                    &e.leaf,
                ],
            )?;
            self.known_events.clear();
        }
        if !self.subjects.0.is_empty() {
            let s = self.conn.stmt(INSERT_SUBJECTS)?;
            let (ids, idx) = std::mem::take(&mut self.subjects);
            self.conn.client.execute(&s, &[&ids, &idx])?;
        }
        if !self.entities.id.is_empty() {
            let s = self.conn.stmt(UPSERT_ENTITIES)?;
            let e = std::mem::take(&mut self.entities);
            self.conn
                .client
                .execute(&s, &[&e.id, &e.kind, &e.state, &e.created, &e.updated])?;
            self.known_entities.clear();
        }
        if !self.index.is_empty() {
            let s = self.conn.stmt(index::WRITE_INDEX)?;
            let cols = std::mem::take(&mut self.index);
            self.conn.client.execute(&s, &cols.params())?;
        }
        Ok(())
    }
}

fn entity_row(r: &Row) -> Result<EntityRecord, StoreError> {
    entity_from_row((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
    ))
}

fn index_of(i: i64) -> Result<u64, StoreError> {
    u64::try_from(i)
        .map_err(|_| StoreError::Corrupt(format!("the log holds a negative entry index ({i})")))
}

impl WriteTx for PgTx<'_> {
    fn log_size(&mut self) -> Result<u64, StoreError> {
        if let Some(n) = self.known_size.take() {
            return Ok(n);
        }
        self.flush()?;
        let s = self.conn.stmt(LOG_SIZE)?;
        let n: Option<i64> = self.conn.client.query_one(&s, &[])?.get(0);
        n.map(|n| index_of(n).map(|n| n + 1)).unwrap_or(Ok(0))
    }

    fn leaves_page(&mut self, from: u64, limit: u64) -> Result<Vec<StoredLeaf>, StoreError> {
        self.flush()?;
        let s = self.conn.stmt(
            "SELECT idx, event_id, header, leaf_hash FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )?;
        let rows = self
            .conn
            .client
            .query(&s, &[&(from as i64), &(limit as i64)])?;
        rows.iter()
            .map(|r| {
                Ok(StoredLeaf {
                    index: index_of(r.try_get(0)?)?,
                    event_id: r.try_get(1)?,
                    header: r.try_get::<_, String>(2)?.into_bytes(),
                    leaf_hash: r.try_get(3)?,
                })
            })
            .collect()
    }

    fn latest_tree_head(&mut self) -> Result<Option<SignedTreeHead>, StoreError> {
        self.flush()?;
        let s = self.conn.stmt(LATEST_TREE_HEAD)?;
        self.conn
            .client
            .query_opt(&s, &[])?
            .map(|r| tree_head_row(&r))
            .transpose()
    }

    fn event_index(&mut self, id: Uuid) -> Result<Option<u64>, StoreError> {
        self.flush()?;
        if let Some(known) = self.known_events.get(&id) {
            return Ok(*known);
        }
        let s = self.conn.stmt(EVENT_INDEX)?;
        match self.conn.client.query_opt(&s, &[&id.to_string()])? {
            Some(r) => Ok(Some(index_of(r.try_get(0)?)?)),
            None => Ok(None),
        }
    }

    fn entity(&mut self, id: Uuid) -> Result<Option<EntityRecord>, StoreError> {
        self.flush()?;
        if let Some(known) = self.known_entities.get(&id) {
            return Ok(known.clone());
        }
        let s = self.conn.stmt(ENTITY_BY_ID)?;
        self.conn
            .client
            .query_opt(&s, &[&id.to_string()])?
            .map(|r| entity_row(&r))
            .transpose()
    }

    fn prefetch(&mut self, event_ids: &[Uuid], entity_ids: &[Uuid]) -> Result<(), StoreError> {
        self.flush()?;
        if event_ids.is_empty() && entity_ids.is_empty() {
            return Ok(());
        }
        let s = self.conn.stmt(PREFETCH)?;
        let events: Vec<String> = event_ids.iter().map(Uuid::to_string).collect();
        let entities: Vec<String> = entity_ids.iter().map(Uuid::to_string).collect();
        for id in event_ids {
            self.known_events.insert(*id, None);
        }
        for id in entity_ids {
            self.known_entities.insert(*id, None);
        }
        for r in self.conn.client.query(&s, &[&events, &entities])? {
            let is_entity: bool = r.try_get(0)?;
            if is_entity {
                let rec = entity_from_row((
                    r.try_get(1)?,
                    r.try_get::<_, Option<String>>(3)?.unwrap_or_default(),
                    r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
                    r.try_get(2)?,
                    r.try_get::<_, Option<i64>>(5)?.unwrap_or(-1),
                ))?;
                self.known_entities.insert(rec.id, Some(rec));
            } else {
                let text: String = r.try_get(1)?;
                if let Ok(id) = Uuid::parse_str(&text) {
                    self.known_events.insert(id, Some(index_of(r.try_get(2)?)?));
                }
            }
        }
        Ok(())
    }

    fn insert_entry(&mut self, e: &SealedEvent, leaf_hash: &Hash) -> Result<(), StoreError> {
        let idx = e.header.index as i64;
        let c = &mut self.entries;
        c.idx.push(idx);
        c.event_id.push(e.header.id.to_string());
        c.kind.push(e.header.kind.clone());
        c.header.push(e.header_json.clone());
        c.payload.push(e.payload_json.clone());
        c.salt.push(e.salt.to_vec());
        c.leaf.push(leaf_hash.to_vec());
        for s in &e.header.subjects {
            self.subjects.0.push(s.id.to_string());
            self.subjects.1.push(idx);
        }
        Ok(())
    }

    fn upsert_entity(&mut self, r: &EntityRecord) -> Result<(), StoreError> {
        let c = &mut self.entities;
        c.id.push(r.id.to_string());
        c.kind.push(r.kind.as_str().to_owned());
        c.state.push(r.state_json());
        c.created.push(r.created_index as i64);
        c.updated.push(r.updated_index as i64);
        Ok(())
    }

    fn insert_receipts(&mut self, receipts: &[(Uuid, String)]) -> Result<(), StoreError> {
        for (id, json) in receipts {
            self.receipts.0.push(id.to_string());
            self.receipts.1.push(json.clone());
        }
        Ok(())
    }

    fn projection_version(&mut self) -> Result<Option<u32>, StoreError> {
        if let Some(v) = self.known_version.take() {
            return Ok(v);
        }
        self.flush()?;
        let s = self.conn.stmt(index::PROJECTION_VERSION)?;
        let v: Option<String> = self
            .conn
            .client
            .query_opt(&s, &[])?
            .map(|r| r.try_get(0))
            .transpose()?;
        index::parse_version(v)
    }

    fn set_projection_version(&mut self, version: u32) -> Result<(), StoreError> {
        self.flush()?;
        let s = self.conn.stmt(index::SET_PROJECTION_VERSION)?;
        self.conn.client.execute(&s, &[&version.to_string()])?;
        Ok(())
    }

    fn insert_chronology(&mut self, rows: &[ChronologyRow]) -> Result<(), StoreError> {
        self.index.push_chronology(rows);
        Ok(())
    }

    fn replace_entity_rows(&mut self, rows: &EntityRows) -> Result<(), StoreError> {
        self.index.push_entity_rows(rows);
        if !rows.interviews.is_empty() {
            let s = self.conn.stmt(index::WRITE_INTERVIEW)?;
            for r in &rows.interviews {
                self.conn.client.execute(
                    &s,
                    &[
                        &r.episode_id,
                        &r.child_id,
                        &r.agency,
                        &r.returned_at,
                        &r.done,
                        &r.assigned_agency,
                        &r.assigned_worker,
                    ],
                )?;
            }
        }
        index::replace_case_actions(self.conn, rows)
    }

    fn place_links(&mut self, place: Uuid) -> Result<Vec<Uuid>, StoreError> {
        self.flush()?;
        let s = self.conn.stmt(index::PLACE_LINKS)?;
        self.conn
            .client
            .query(&s, &[&place])?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    fn insert_tree_head(&mut self, sth: &SignedTreeHead) -> Result<(), StoreError> {
        let s = self.conn.stmt(WRITE_BATCH)?;
        let e = std::mem::take(&mut self.entries);
        let (sid, sidx) = std::mem::take(&mut self.subjects);
        let n = std::mem::take(&mut self.entities);
        let (rid, rjson) = std::mem::take(&mut self.receipts);
        let cols = std::mem::take(&mut self.index);
        let mut params = cols.params();
        let tail: [&(dyn ToSql + Sync); 20] = [
            &e.idx,
            &e.event_id,
            &e.kind,
            &e.header,
            &e.payload,
            &e.salt,
            &e.leaf,
            &sid,
            &sidx,
            &n.id,
            &n.kind,
            &n.state,
            &n.created,
            &n.updated,
            &(sth.head.size as i64),
            &&sth.head.root[..],
            &sth.head.timestamp_ms,
            &&sth.signature[..],
            &rid,
            &rjson,
        ];
        params.extend_from_slice(&tail);
        self.conn.client.execute(&s, &params)?;
        self.known_events.clear();
        self.known_entities.clear();
        Ok(())
    }
}

impl RebuildTx for PgTx<'_> {
    fn clear_projections(&mut self) -> Result<(), StoreError> {
        self.flush()?;
        self.conn.client.batch_execute(
            "TRUNCATE entities, event_subjects, chronology, edges, name_keys, referrals, match_review, return_interviews, case_actions",
        )?;
        self.known_entities.clear();
        Ok(())
    }

    fn entries_page(&mut self, from: u64, limit: u64) -> Result<Vec<StoredEntry>, StoreError> {
        self.flush()?;
        let s = self.conn.stmt(
            "SELECT idx, event_id, header, payload, salt, leaf_hash, kind FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )?;
        self.conn
            .client
            .query(&s, &[&(from as i64), &(limit as i64)])?
            .iter()
            .map(entry_row)
            .collect()
    }

    fn insert_subjects(&mut self, e: &SealedEvent) -> Result<(), StoreError> {
        for s in &e.header.subjects {
            self.subjects.0.push(s.id.to_string());
            self.subjects.1.push(e.header.index as i64);
        }
        Ok(())
    }

    fn flush_rows(&mut self) -> Result<(), StoreError> {
        self.flush()
    }
}

const ENTRY_COLUMNS_SQL: &str = "SELECT idx, event_id, header, payload, salt, leaf_hash, kind FROM ledger_entries WHERE idx >= $1 ORDER BY idx";
const ENTRIES_ABOUT: &str =
    "SELECT e.idx, e.event_id, e.header, e.payload, e.salt, e.leaf_hash, e.kind
     FROM event_subjects s JOIN ledger_entries e ON e.idx = s.idx
     WHERE s.subject_id = $1 ORDER BY s.idx";

fn entry_row(r: &Row) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        index: index_of(r.try_get(0)?)?,
        event_id: r.try_get(1)?,
        header_json: r.try_get(2)?,
        payload_json: r.try_get(3)?,
        salt: r.try_get(4)?,
        leaf_hash: r.try_get(5)?,
        kind: r.try_get(6)?,
    })
}

fn tree_head_row(r: &Row) -> Result<SignedTreeHead, StoreError> {
    let size: i64 = r.try_get(0)?;
    let root: Vec<u8> = r.try_get(1)?;
    let timestamp_ms: i64 = r.try_get(2)?;
    let sig: Vec<u8> = r.try_get(3)?;
    let bad = || StoreError::Corrupt(format!("the signed tree head of size {size} is malformed"));
    Ok(SignedTreeHead {
        head: TreeHead {
            size: u64::try_from(size).map_err(|_| bad())?,
            root: root.try_into().map_err(|_| bad())?,
            timestamp_ms,
        },
        signature: sig.try_into().map_err(|_| bad())?,
    })
}

/// Reads inside one REPEATABLE READ, READ ONLY transaction, streaming each
/// query through a portal. Not re-entrant: a callback must not read through
/// the same view.
struct PgView<'t, 'c> {
    tx: RefCell<&'t mut postgres::Transaction<'c>>,
    stmts: RefCell<&'t mut HashMap<&'static str, Statement>>,
    /// Set once any row has been handed to a callback.
    delivered: Cell<bool>,
}

impl PgView<'_, '_> {
    fn stream(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
        on_row: &mut dyn FnMut(&Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut tx = self.tx.borrow_mut();
        let stmt = {
            let mut stmts = self.stmts.borrow_mut();
            match stmts.get(sql) {
                Some(s) => s.clone(),
                None => {
                    let s = tx.prepare(sql)?;
                    stmts.insert(sql, s.clone());
                    s
                }
            }
        };
        let portal = tx.bind(&stmt, params)?;
        loop {
            let rows = tx.query_portal(&portal, STREAM_ROWS)?;
            for r in &rows {
                self.delivered.set(true);
                on_row(r)?;
            }
            if rows.len() < STREAM_ROWS as usize {
                return Ok(());
            }
        }
    }
}

impl LogReader for PgView<'_, '_> {
    fn for_each_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(StoredEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let from = i64::try_from(from).unwrap_or(i64::MAX);
        self.stream(ENTRY_COLUMNS_SQL, &[&from], &mut |r| f(entry_row(r)?))
    }

    fn for_each_tree_head(
        &self,
        f: &mut dyn FnMut(SignedTreeHead) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(
            "SELECT size, root, timestamp_ms, signature FROM tree_heads ORDER BY size",
            &[],
            &mut |r| f(tree_head_row(r)?),
        )
    }

    fn for_each_entity(
        &self,
        f: &mut dyn FnMut(EntityRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(
            "SELECT id, kind, state, created_idx, updated_idx FROM entities ORDER BY id",
            &[],
            &mut |r| f(entity_row(r)?),
        )
    }

    fn for_each_raw_entity(
        &self,
        f: &mut dyn FnMut(crate::RawEntity<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(
            "SELECT id, kind, state, created_idx, updated_idx FROM entities ORDER BY id",
            &[],
            &mut |r| {
                let (id, kind, state): (&str, &str, &str) =
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                f(crate::RawEntity {
                    id: id.as_bytes(),
                    kind: kind.as_bytes(),
                    state: state.as_bytes(),
                    created_idx: r.try_get(3)?,
                    updated_idx: r.try_get(4)?,
                })
            },
        )
    }

    fn for_each_subject_link(
        &self,
        f: &mut dyn FnMut(Uuid, u64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(
            "SELECT subject_id, idx FROM event_subjects ORDER BY subject_id, idx",
            &[],
            &mut |r| {
                let s: String = r.try_get(0)?;
                let id = Uuid::parse_str(&s).map_err(|_| {
                    StoreError::Corrupt(format!("subject index row '{s}' is not a UUID"))
                })?;
                f(id, index_of(r.try_get(1)?)?)
            },
        )
    }

    fn for_each_kept_receipt(
        &self,
        f: &mut dyn FnMut(String, String) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(
            "SELECT event_id, receipt FROM receipts ORDER BY event_id",
            &[],
            &mut |r| {
                let event_id: Option<String> = r.try_get(0)?;
                let receipt: Option<String> = r.try_get(1)?;
                f(event_id.unwrap_or_default(), receipt.unwrap_or_default())
            },
        )
    }

    fn stored_log_key(&self) -> Result<Option<String>, StoreError> {
        let mut key = None;
        self.stream(
            "SELECT value FROM meta WHERE key = 'log_key'",
            &[],
            &mut |r| {
                key = r.try_get(0)?;
                Ok(())
            },
        )?;
        Ok(key)
    }

    fn projection_version(&self) -> Result<Option<u32>, StoreError> {
        let mut v = None;
        self.stream(index::PROJECTION_VERSION, &[], &mut |r| {
            v = r.try_get(0)?;
            Ok(())
        })?;
        index::parse_version(v)
    }

    fn for_each_chronology(
        &self,
        f: &mut dyn FnMut(ChronologyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::CHRONOLOGY_COLUMNS, &[], &mut |r| {
            f(index::chronology_row(r)?)
        })
    }

    fn for_each_edge(
        &self,
        f: &mut dyn FnMut(EdgeRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::EDGES_ALL, &[], &mut |r| f(index::edge_row(r)?))
    }

    fn for_each_name_key(
        &self,
        f: &mut dyn FnMut(NameKeyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::NAME_KEYS_ALL, &[], &mut |r| {
            f(index::name_key_row(r)?)
        })
    }

    fn for_each_referral(
        &self,
        f: &mut dyn FnMut(ReferralRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::REFERRALS_ALL, &[], &mut |r| {
            f(index::referral_row(r)?)
        })
    }

    fn for_each_match_review(
        &self,
        f: &mut dyn FnMut(vigil_model::index::MatchReviewRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::MATCH_REVIEW_ALL, &[], &mut |r| {
            f(index::match_review_row(r)?)
        })
    }

    fn for_each_case_action(
        &self,
        f: &mut dyn FnMut(vigil_model::index::CaseActionRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::CASE_ACTIONS_ALL, &[], &mut |r| {
            f(index::case_action_row(r)?)
        })
    }

    fn for_each_return_interview(
        &self,
        f: &mut dyn FnMut(vigil_model::index::ReturnInterviewRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(index::RETURN_INTERVIEWS_ALL, &[], &mut |r| {
            f(index::return_interview_row(r)?)
        })
    }
}

impl Store for PostgresStore {
    fn writer_held_hashes(&self) -> usize {
        self.writer().log.held_hashes()
    }

    fn append_batch(&self, batch: Batch) -> Result<BatchOutcome, StoreError> {
        let mut guard = self.writer();
        let w = &mut *guard;
        let (mut conn, size, version) = self.begin_write(w)?;
        let mut tx = PgTx::new(&mut conn, size);
        tx.known_version = version;
        let pending = match w.log.append_in(&mut tx, batch) {
            Ok(p) => p,
            Err(e) => {
                drop(tx);
                self.finish(w, conn, true);
                return Err(self.lost(e, "before the batch was committed; nothing was recorded"));
            }
        };
        drop(tx);
        self.commit(w, conn)?;
        Ok(w.log.receipts(pending))
    }

    fn append_verbatim(
        &self,
        entries: Vec<StoredEntry>,
        heads: Vec<SignedTreeHead>,
    ) -> Result<(), StoreError> {
        let mut guard = self.writer();
        let w = &mut *guard;
        let (mut conn, size, version) = self.begin_write(w)?;
        let mut tx = PgTx::new(&mut conn, size);
        tx.known_version = version;
        let done = w
            .log
            .append_verbatim_in(&mut tx, entries, heads)
            .and_then(|pending| tx.flush().map(|()| pending));
        drop(tx);
        let pending = match done {
            Ok(p) => p,
            Err(e) => {
                self.finish(w, conn, true);
                return Err(self.lost(
                    e,
                    "before the copy was committed; nothing of this part was recorded",
                ));
            }
        };
        self.commit(w, conn)?;
        w.log.receipts(pending);
        Ok(())
    }

    fn log_size(&self) -> Result<u64, StoreError> {
        self.read(|c, _| {
            let s = c.stmt(LOG_SIZE)?;
            let n: Option<i64> = c.client.query_one(&s, &[])?.get(0);
            n.map(|n| index_of(n).map(|n| n + 1)).unwrap_or(Ok(0))
        })
    }

    fn latest_tree_head(&self) -> Result<Option<SignedTreeHead>, StoreError> {
        self.read(|c, _| {
            let s = c.stmt(LATEST_TREE_HEAD)?;
            c.client
                .query_opt(&s, &[])?
                .map(|r| tree_head_row(&r))
                .transpose()
        })
    }

    fn payload_of(&self, event_id: Uuid) -> Result<Option<String>, StoreError> {
        let id = event_id.to_string();
        self.read(|c, _| {
            let s = c.stmt("SELECT payload FROM ledger_entries WHERE event_id = $1")?;
            Ok(c.client
                .query_opt(&s, &[&id])?
                .map(|r| r.try_get::<_, Option<String>>(0))
                .transpose()?
                .flatten())
        })
    }

    fn for_each_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(StoredEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.in_snapshot(true, &mut |v| v.for_each_entry(from, &mut *f))
    }

    fn for_each_tree_head(
        &self,
        f: &mut dyn FnMut(SignedTreeHead) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.in_snapshot(true, &mut |v| v.for_each_tree_head(&mut *f))
    }

    fn for_each_entity(
        &self,
        f: &mut dyn FnMut(EntityRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.in_snapshot(true, &mut |v| v.for_each_entity(&mut *f))
    }

    fn for_each_subject_link(
        &self,
        f: &mut dyn FnMut(Uuid, u64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.in_snapshot(true, &mut |v| v.for_each_subject_link(&mut *f))
    }

    fn read_snapshot(
        &self,
        f: &mut dyn FnMut(&dyn LogReader) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.in_snapshot(false, &mut |v| f(v))
    }

    fn entity(&self, id: Uuid) -> Result<Option<EntityRecord>, StoreError> {
        let id = id.to_string();
        self.read(|c, _| {
            let s = c.stmt(ENTITY_BY_ID)?;
            c.client
                .query_opt(&s, &[&id])?
                .map(|r| entity_row(&r))
                .transpose()
        })
    }

    fn entries_about(&self, subject: Uuid) -> Result<Vec<StoredEntry>, StoreError> {
        let id = subject.to_string();
        self.read(|c, _| {
            let s = c.stmt(ENTRIES_ABOUT)?;
            c.client.query(&s, &[&id])?.iter().map(entry_row).collect()
        })
    }

    fn event_index(&self, event_id: Uuid) -> Result<Option<u64>, StoreError> {
        let id = event_id.to_string();
        self.read(|c, _| {
            let s = c.stmt(EVENT_INDEX)?;
            c.client
                .query_opt(&s, &[&id])?
                .map(|r| index_of(r.try_get(0)?))
                .transpose()
        })
    }

    fn log_key(&self) -> LogKey {
        self.key.clone()
    }

    fn chronology(&self, person: Uuid, q: &ChronologyQuery) -> Result<ChronologyPage, StoreError> {
        self.read(|c, _| index::chronology(c, person, q))
    }

    fn chronology_head(&self, person: Uuid) -> Result<Option<u64>, StoreError> {
        self.read(|c, _| index::chronology_head(c, person))
    }

    fn person_page(
        &self,
        person: Uuid,
        q: Option<&ChronologyQuery>,
        ends: &dyn Fn(&EdgeRow) -> Option<Uuid>,
    ) -> Result<crate::index::PersonPage, StoreError> {
        self.read(|c, _| index::person_page(c, person, q, ends))
    }

    fn find_people(
        &self,
        q: &NameQuery,
        visible_agencies: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<PersonHit>, StoreError> {
        self.read(|c, _| index::find_people(c, q, visible_agencies, limit))
    }

    fn edges_of(&self, entity: Uuid) -> Result<Vec<EdgeRow>, StoreError> {
        self.read(|c, _| index::edges_of(c, entity))
    }

    fn edges_of_kind(&self, kind: &str, limit: usize) -> Result<Vec<EdgeRow>, StoreError> {
        self.read(|c, _| index::edges_of_kind(c, kind, limit))
    }

    fn match_review(
        &self,
        q: &crate::index::MatchReviewQuery,
    ) -> Result<crate::index::MatchReviewPage, StoreError> {
        self.read(|c, _| index::match_review(c, q))
    }

    fn referrals(&self, q: ReferralQuery) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c, _| index::referrals(c, &q))
    }

    fn interviews_not_done(
        &self,
        returned_by: &str,
        limit: usize,
    ) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c, _| index::interviews_not_done(c, returned_by, limit))
    }

    fn case_actions(
        &self,
        q: &crate::index::CaseActionQuery,
    ) -> Result<Vec<vigil_model::index::CaseActionRow>, StoreError> {
        self.read(|c, _| index::case_actions(c, q))
    }

    fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c, _| index::entities_of_kind(c, kind))
    }

    fn entities(&self, ids: &[Uuid]) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c, _| index::entities(c, ids))
    }

    fn rebuild_projections(
        &self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport, StoreError> {
        let mut guard = self.writer();
        let w = &mut *guard;
        let (mut conn, size, version) = self.begin_write(w)?;
        let free: bool = match conn.client.query_one(
            "SELECT pg_try_advisory_xact_lock($1, $2)",
            &[&SERVING_LOCK_CLASS, &self.lock_key],
        ) {
            Ok(r) => r.get(0),
            Err(e) => {
                self.finish(w, conn, false);
                return Err(e.into());
            }
        };
        if !free {
            self.finish(w, conn, false);
            return Err(serving_refusal(&format!(
                "a server holds the serving lock of schema {} in the PostgreSQL database at {}",
                self.schema, self.target.address
            )));
        }
        let mut tx = PgTx::new(&mut conn, size);
        tx.known_version = version;
        let done = (|| {
            let size = w.log.catch_up(&mut tx)?;
            crate::rebuild::rebuild_in(&mut tx, size, progress)
        })();
        drop(tx);
        match done {
            Ok(report) => {
                self.commit(w, conn)?;
                Ok(report)
            }
            Err(e) => {
                self.finish(w, conn, true);
                Err(self.lost(e, "while rebuilding; nothing was changed"))
            }
        }
    }

    fn hold_serving_lock(&self) -> Result<ServingLock, StoreError> {
        // A connection of its own for the life of the server: the lock is
        // the session's, and goes when the process (or its connection) does.
        let mut conn = connect(&self.target)?;
        conn.client.execute(
            "SELECT pg_advisory_lock_shared($1, $2)",
            &[&SERVING_LOCK_CLASS, &self.lock_key],
        )?;
        Ok(ServingLock::new(Box::new(PgServingLock {
            client: conn.client,
            key: self.lock_key,
        })))
    }
}

/// The serving lock's connection. Released explicitly when dropped: the
/// server ends a closed session's locks a moment after the client goes,
/// and a rebuild started right after a server stopped must not be refused.
struct PgServingLock {
    client: Client,
    key: i32,
}

impl Drop for PgServingLock {
    fn drop(&mut self) {
        let _ = self.client.execute(
            "SELECT pg_advisory_unlock_shared($1, $2)",
            &[&SERVING_LOCK_CLASS, &self.key],
        );
    }
}

/// A plain driver connection to `url`, with Vigil's options applied (its
/// `schema` becomes the search path). For tests and tools that need to look
/// at (or tamper with) the tables directly.
pub fn raw_client(url: &str) -> Result<Client, StoreError> {
    Ok(connect(&parse_target(url)?)?.client)
}

/// A uniquely named schema for one test or benchmark run, dropped (with
/// everything in it) when this value is dropped.
///
/// While it exists it holds a shared lock on [`server_lock_path`], so a test
/// that stops the PostgreSQL server ([`ServerOutage`]) waits until no test or
/// benchmark on this machine is using it: developers share one machine and
/// one server, and may run test suites at the same time.
pub struct ScratchSchema {
    base: String,
    name: String,
    url: String,
    _shared: Option<std::fs::File>,
}

/// The lock file that coordinates [`ScratchSchema`] users with tests that
/// stop the server.
pub fn server_lock_path() -> std::path::PathBuf {
    std::env::temp_dir().join("vigil-postgres-server.lock")
}

static OUTAGE_HELD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn open_lock_file() -> Result<std::fs::File, StoreError> {
    let path = server_lock_path();
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            StoreError::Config(format!("cannot open the lock file {}: {e}", path.display()))
        })
}

/// Exclusive use of the PostgreSQL server on this machine, for a test that
/// stops and starts it: waits (up to `wait`) until no [`ScratchSchema`] of
/// any process exists, and makes later scratch schemas of this process (the
/// outage test's own) skip the shared lock. Other processes' scratch schemas
/// wait until this is dropped.
pub struct ServerOutage {
    file: std::fs::File,
}

impl ServerOutage {
    pub fn acquire(wait: Duration) -> Result<ServerOutage, StoreError> {
        let file = open_lock_file()?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Unavailable(format!(
                        "other PostgreSQL tests on this machine kept using the server for {} s",
                        wait.as_secs()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::Config(format!(
                        "cannot lock {}: {e}",
                        server_lock_path().display()
                    )))
                }
            }
        }
        OUTAGE_HELD.store(true, Ordering::SeqCst);
        Ok(ServerOutage { file })
    }
}

impl Drop for ServerOutage {
    fn drop(&mut self) {
        OUTAGE_HELD.store(false, Ordering::SeqCst);
        let _ = self.file.unlock();
    }
}

impl ScratchSchema {
    /// A new schema name under `prefix` (lower-case letters, digits, _) in the
    /// database at `base_url`, which must not name a schema itself. The
    /// schema is created when a store is first opened at [`ScratchSchema::url`].
    pub fn new(base_url: &str, prefix: &str) -> Result<Self, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        if parse_target(base_url)?.schema.is_some() {
            return Err(StoreError::Config(
                "the base address for a scratch schema must not name a schema".into(),
            ));
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "{}_{}_{}_{}",
            &prefix[..prefix.len().min(30)],
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        if !valid_schema_name(&name) {
            return Err(StoreError::Config(format!(
                "'{prefix}' cannot start a schema name"
            )));
        }
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}schema={name}");
        let shared = if OUTAGE_HELD.load(Ordering::SeqCst) {
            None
        } else {
            let f = open_lock_file()?;
            f.lock_shared().map_err(|e| {
                StoreError::Config(format!("cannot lock {}: {e}", server_lock_path().display()))
            })?;
            Some(f)
        };
        Ok(ScratchSchema {
            base: base_url.to_owned(),
            name,
            url,
            _shared: shared,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = raw_client(&self.base) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
        // The shared lock goes with the file, after the schema is gone.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_schema_versions() {
        assert_eq!(MIGRATIONS.len(), crate::sqlite::MIGRATIONS.len());
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            redact_url("postgres://vigil:s3cret@db.example:5432/vigil"),
            "postgres://vigil:***@db.example:5432/vigil"
        );
        assert_eq!(
            redact_url("postgresql://db/vigil?user=v&password=s3cret&schema=x"),
            "postgresql://db/vigil?user=v&password=***&schema=x"
        );
        assert_eq!(redact_url("postgres://vigil@db/x"), "postgres://vigil@db/x");
        let url = crate::DatabaseUrl::parse("postgres://u:topsecret@h/d").unwrap();
        assert!(!format!("{url:?}").contains("topsecret"));
        assert!(!url.redacted().contains("topsecret"));
    }

    #[test]
    fn vigil_options_are_taken_out_of_the_address() {
        let t = parse_target(
            "postgres://u:pw@127.0.0.1:5433/test?schema=vigil_a&pool_size=3&application_name=x",
        )
        .unwrap();
        assert_eq!(t.schema.as_deref(), Some("vigil_a"));
        assert_eq!(t.pool_size, 3);
        assert_eq!(t.address, "127.0.0.1:5433");
        assert_eq!(t.config.get_options(), Some("-csearch_path=vigil_a"));
        assert_eq!(t.config.get_application_name(), Some("x"));
        for bad in [
            "postgres://h/d?schema=Bad-Name",
            "postgres://h/d?schema=pg_x",
            "postgres://h/d?pool_size=0",
        ] {
            let e = parse_target(bad).err().expect(bad).to_string();
            assert!(!e.is_empty() && !e.contains('\n'), "{e}");
        }
        let e = parse_target("postgres://h/d?sslmode=require")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cannot encrypt"), "{e}");
        let e = parse_target("postgres://u:hunter2@h:notaport/d")
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn lock_keys_differ_by_schema_and_are_stable() {
        // FNV-1a of "public": fixed, because operators look for it in pg_locks.
        assert_eq!(lock_key("public"), -862940288);
        assert_eq!(lock_key("vigil"), 335754040);
        assert_eq!(lock_key(""), 0x811c_9dc5_u32 as i32);
    }
}
