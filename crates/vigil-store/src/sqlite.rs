//! The SQLite backend: one file, WAL, nothing to install.
//!
//! Durability: WAL with `synchronous=FULL`, so a transaction is on disk when
//! `COMMIT` returns; the write path acknowledges nothing before that. Writes
//! take `BEGIN IMMEDIATE`, which serialises writers across processes (a second
//! `vigil import` waits on the busy timeout rather than failing), and the
//! in-memory tree catches up with whatever another process appended.
//!
//! Connections: one writer and a bounded pool of readers
//! ([`default_max_readers`], two per core; [`SqliteStore::with_max_readers`]),
//! opened when first needed. A reader waits for a free connection rather
//! than opening another, so a burst of requests cannot open a connection
//! (and a page cache) each.

use crate::index::{
    ChronologyPage, ChronologyQuery, ChronologyRow, EntityRows, MatchReviewPage, MatchReviewQuery,
    PersonHit, ReferralQuery,
};
use crate::rebuild::{serving_refusal, RebuildReport, ServingLock};
use crate::write::{LogWriter, RebuildTx, StoredLeaf, WriteTx};
use crate::{
    entity_from_row, Batch, BatchOutcome, LogReader, RawEntry, Store, StoreError, StoredEntry,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use uuid::Uuid;
use vigil_ledger::{Hash, LogKey, LogSigner, SignedTreeHead, TreeHead};
use vigil_model::index::{EdgeRow, MatchReviewRow, NameKeyRow, ReferralRow};
use vigil_model::names::NameQuery;
use vigil_model::projection::EntityRecord;
use vigil_model::EntityKind;
use vigil_model::SealedEvent;

/// Schema migrations, applied in order; the index + 1 is the schema version.
/// Never edit one that has shipped: add a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The log. idx is the Merkle leaf index; header is the canonical JSON leaf.
-- payload and salt become NULL when a payload is erased at the end of its retention.
CREATE TABLE ledger_entries (
    idx        INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    header     TEXT NOT NULL,
    payload    TEXT,
    salt       BLOB,
    leaf_hash  BLOB NOT NULL
);
-- One signed tree head per committed batch.
CREATE TABLE tree_heads (
    size         INTEGER PRIMARY KEY,
    root         BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    signature    BLOB NOT NULL
);
-- Projections: the current state of each entity, rebuilt from the log by `vigil verify`.
CREATE TABLE entities (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_idx INTEGER NOT NULL,
    updated_idx INTEGER NOT NULL
);
CREATE INDEX entities_kind ON entities(kind);
-- Which entries concern which entity (from each header's subjects).
CREATE TABLE event_subjects (
    subject_id TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    PRIMARY KEY (subject_id, idx)
) WITHOUT ROWID;
"#,
    crate::accounts::SQLITE_MIGRATION,
    // 3: `entities_updated (kind, updated_idx)` (migration 2) serves every
    // query by kind, so `entities_kind` was only a cost on each write. The
    // access log's subject index becomes one row per subject per written
    // batch (a queue page names fifty children; a batch of fifty page loads
    // wrote 2,500 index rows, now 50): see `accounts::subject_ranges`.
    r#"
DROP INDEX entities_kind;
CREATE TABLE access_subject_ranges (
    subject_id BLOB NOT NULL,
    last_seq   INTEGER NOT NULL,
    first_seq  INTEGER NOT NULL,
    PRIMARY KEY (subject_id, last_seq)
) WITHOUT ROWID;
INSERT INTO access_subject_ranges(subject_id, last_seq, first_seq)
    SELECT subject_id, seq, seq FROM access_subjects;
DROP TABLE access_subjects;
"#,
    // 4: the secondary projections (see `crate::index`). Ids are 16-byte
    // blobs. A store that already holds a log gets empty tables and no
    // `projection_version`, so it refuses appends until `vigil rebuild`.
    SQLITE_INDEX_MIGRATION,
    // 5: same-person links (`person_match.*`) are edges of kind
    // `same_person`; the review queue lists them by kind.
    "CREATE INDEX edges_kind ON edges(kind, link_id);",
    // 6: nothing here (PostgreSQL orders its name index by person, as
    // `name_keys_key` here already does).
    "-- nothing",
    // 7: the review queue of undecided scored pairs (projection version 4;
    // a store with a log gets an empty table and rebuilds).
    SQLITE_MATCH_REVIEW_MIGRATION,
    // 8: a person's chronology head (`max(idx) WHERE person_id = ?`, read on
    // every page load) is one index probe rather than a walk over the
    // person's rows of `chronology_person`.
    "CREATE INDEX chronology_head ON chronology(person_id, idx);",
    // 9 and 10: kept for the branches that number them (cases; missing
    // episodes); the lead renumbers at merge.
    "-- 9: reserved",
    "-- 10: reserved",
    // 11: forms sent on an ended session, held for their account
    // (`accounts::HeldForm`; the front door loses nothing typed).
    r#"
CREATE TABLE held_forms (
    token_sha256 BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL,
    form         TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX held_forms_expiry ON held_forms(expires_ms);
"#,
    // 12: the actions of cases (projection version 8), so an owner's open
    // actions and the overdue ones are index reads.
    r#"
CREATE TABLE case_actions (
    action_id  BLOB PRIMARY KEY,
    case_id    BLOB NOT NULL,
    child_id   BLOB NOT NULL,
    owner      TEXT NOT NULL,
    due        TEXT NOT NULL,
    status     TEXT NOT NULL,
    meeting_id BLOB
) WITHOUT ROWID;
CREATE INDEX case_actions_case ON case_actions(case_id);
CREATE INDEX case_actions_owner ON case_actions(owner, status, due);
CREATE INDEX case_actions_due ON case_actions(status, due);
CREATE INDEX case_actions_meeting ON case_actions(meeting_id) WHERE meeting_id IS NOT NULL;
"#,
    // 13: returned missing episodes and their return home interviews, so
    // the overdue list is an index read (projection version 8; a store
    // with a log gets an empty table and rebuilds).
    r#"
CREATE TABLE return_interviews (
    episode_id      BLOB PRIMARY KEY,
    child_id        BLOB NOT NULL,
    agency          TEXT NOT NULL,
    returned_at     TEXT NOT NULL,
    done            INTEGER NOT NULL,
    assigned_agency TEXT,
    assigned_worker TEXT
) WITHOUT ROWID;
CREATE INDEX return_interviews_due ON return_interviews(done, returned_at, episode_id);
"#,
    // 15: an action of a contextual case (on a place or a peer group) has
    // no child (projection version 12, which rebuilds the rows).
    r#"
CREATE TABLE case_actions_15 (
    action_id  BLOB PRIMARY KEY,
    case_id    BLOB NOT NULL,
    child_id   BLOB,
    owner      TEXT NOT NULL,
    due        TEXT NOT NULL,
    status     TEXT NOT NULL,
    meeting_id BLOB
) WITHOUT ROWID;
INSERT INTO case_actions_15 SELECT action_id, case_id, child_id, owner, due, status, meeting_id
    FROM case_actions;
DROP TABLE case_actions;
ALTER TABLE case_actions_15 RENAME TO case_actions;
CREATE INDEX case_actions_case ON case_actions(case_id);
CREATE INDEX case_actions_owner ON case_actions(owner, status, due);
CREATE INDEX case_actions_due ON case_actions(status, due);
CREATE INDEX case_actions_meeting ON case_actions(meeting_id) WHERE meeting_id IS NOT NULL;
"#,
];

const SQLITE_MATCH_REVIEW_MIGRATION: &str = r#"
CREATE TABLE match_review (
    link_id         BLOB PRIMARY KEY,
    a_id            BLOB NOT NULL,
    b_id            BLOB NOT NULL,
    a_agency        TEXT NOT NULL,
    b_agency        TEXT NOT NULL,
    probability_ppm INTEGER NOT NULL
) WITHOUT ROWID;
-- The whole queue, best first (the front door, an auditor); covering, so a
-- page deep in the queue steps through the index alone.
CREATE INDEX match_review_order ON match_review(probability_ppm DESC, a_id, b_id, a_agency, b_agency);
-- One agency's pairs (a practitioner may open only their own agency's records).
CREATE INDEX match_review_agency ON match_review(a_agency, b_agency, probability_ppm DESC, a_id, b_id);
"#;

const SQLITE_INDEX_MIGRATION: &str = r#"
CREATE TABLE chronology (
    idx                INTEGER NOT NULL,
    person_id          BLOB NOT NULL,
    event_id           BLOB NOT NULL,
    kind               TEXT NOT NULL,
    agency             TEXT NOT NULL,
    actor              TEXT NOT NULL,
    occurred_value     TEXT NOT NULL,
    occurred_precision TEXT NOT NULL,
    occurred_sort      INTEGER NOT NULL,
    recorded_at        TEXT NOT NULL,
    record_id          BLOB NOT NULL,
    record_kind        TEXT NOT NULL,
    record_agency      TEXT NOT NULL,
    record_user        TEXT NOT NULL,
    role               TEXT NOT NULL,
    PRIMARY KEY (idx, person_id)
) WITHOUT ROWID;
CREATE INDEX chronology_person ON chronology(person_id, occurred_sort, idx);
CREATE TABLE edges (
    link_id    BLOB PRIMARY KEY,
    from_kind  TEXT NOT NULL,
    from_id    BLOB NOT NULL,
    to_kind    TEXT NOT NULL,
    to_id      BLOB NOT NULL,
    kind       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    active     INTEGER NOT NULL,
    agency     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX edges_from ON edges(from_id);
CREATE INDEX edges_to ON edges(to_id, kind);
CREATE TABLE name_keys (
    source_id BLOB NOT NULL,
    person_id BLOB NOT NULL,
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    agency    TEXT NOT NULL,
    PRIMARY KEY (source_id, person_id, kind, key)
) WITHOUT ROWID;
-- Covering: a search reads person and agency from the index alone.
CREATE INDEX name_keys_key ON name_keys(kind, key, person_id, agency);
CREATE TABLE referrals (
    referral_id      BLOB PRIMARY KEY,
    child_id         BLOB NOT NULL,
    submitted_by     TEXT NOT NULL,
    submitted_agency TEXT NOT NULL,
    status           TEXT NOT NULL,
    submitted_at     TEXT NOT NULL,
    decided_at       TEXT,
    reference        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX referrals_status ON referrals(status, submitted_at);
CREATE INDEX referrals_submitter ON referrals(submitted_by, submitted_agency, submitted_at);
CREATE INDEX referrals_child ON referrals(child_id, submitted_at);
CREATE INDEX referrals_reference ON referrals(reference);
"#;

mod accounts;
mod index;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<(Connection, LogWriter)>,
    readers: Readers,
    key: LogKey,
    _checkpoints: Checkpointer,
}

/// How long a reader waits for a free pooled connection.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Read connections a store opens at most unless told otherwise: two per
/// core (SQLite reads are CPU-bound once the pages are cached, and more
/// connections than that only add page caches).
pub fn default_max_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// The bounded pool of read connections.
struct Readers {
    state: Mutex<ReadersState>,
    freed: Condvar,
    max: usize,
}

struct ReadersState {
    idle: Vec<Connection>,
    /// Connections that exist (idle, handed out, or being opened).
    open: usize,
    /// The most that ever existed at once.
    peak: usize,
}

impl Readers {
    fn new(max: usize) -> Self {
        Readers {
            state: Mutex::new(ReadersState {
                idle: Vec::new(),
                open: 0,
                peak: 0,
            }),
            freed: Condvar::new(),
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReadersState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An idle connection, a new one if fewer than `max` exist, or the
    /// first one given back within [`POOL_WAIT`].
    fn get(&self, path: &Path) -> Result<Connection, StoreError> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut st = self.lock();
        loop {
            if let Some(c) = st.idle.pop() {
                return Ok(c);
            }
            if st.open < self.max {
                st.open += 1;
                st.peak = st.peak.max(st.open);
                drop(st);
                return connect(path, Mmap::On).inspect_err(|_| self.lost());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "all {} read connections to {} stayed busy for {} s",
                    self.max,
                    path.display(),
                    POOL_WAIT.as_secs()
                )));
            }
            st = self
                .freed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// An idle connection or a new one, without waiting: None when all
    /// `max` are in use. A reader that already holds one takes a second so,
    /// never waiting while it holds the first.
    fn try_get(&self, path: &Path) -> Result<Option<Connection>, StoreError> {
        let mut st = self.lock();
        if let Some(c) = st.idle.pop() {
            return Ok(Some(c));
        }
        if st.open >= self.max {
            return Ok(None);
        }
        st.open += 1;
        st.peak = st.peak.max(st.open);
        drop(st);
        connect(path, Mmap::On)
            .map(Some)
            .inspect_err(|_| self.lost())
    }

    fn put(&self, conn: Connection) {
        self.lock().idle.push(conn);
        self.freed.notify_one();
    }

    /// A connection that could not be opened no longer counts.
    fn lost(&self) {
        self.lock().open -= 1;
        self.freed.notify_one();
    }
}

/// A connection out of the pool, given back when dropped (even if the read
/// panicked), so the pool never loses a place.
struct Lease<'a>(&'a Readers, Option<Connection>);

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.1.take() {
            self.0.put(c);
        }
    }
}

/// How often the background thread copies the write-ahead log into the
/// database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Runs SQLite's WAL checkpoints on a thread of their own.
///
/// By default the connection whose commit takes the WAL past 1,000 pages
/// runs the checkpoint before its commit returns: under load that was a
/// request (a referral, a page's access-log row) waiting 10-20 ms more than
/// the others, which is what a p99 measures. Automatic checkpoints are
/// therefore off on every connection ([`connect`]) and this thread runs a
/// PASSIVE checkpoint (never blocks readers or writers) every
/// [`CHECKPOINT_EVERY`]; it stops when the store is dropped. Durability is
/// unaffected: a commit is on disk once it is in the WAL.
struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = connect(path, Mmap::Off)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("vigil-sqlite-checkpoint".into())
            .spawn(move || {
                let (lock, wake) = &*flag;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    // Busy (another process's checkpoint) or failed: the next round tries again.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    if *stopped {
                        return;
                    }
                    stopped = wake
                        .wait_timeout(stopped, CHECKPOINT_EVERY)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            })
            .map_err(|e| {
                StoreError::Database(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The page cache of the writer's connection while it rebuilds the
/// projections: 512 MiB (negative: in KiB), about a million entries' tables.
const REBUILD_CACHE_KIB: i64 = -512 * 1024;

/// How long a statement waits for a lock another connection holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`Store::read_snapshot_pair`] waits for the write lock under
/// which it begins its two reads.
const PAIR_LOCK_WAIT: Duration = Duration::from_millis(500);

/// Whether a connection reads through memory-mapped pages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mmap {
    On,
    Off,
}

fn connect(path: &Path, mmap: Mmap) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Checkpoints run on their own thread: see `Checkpointer`.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // Read through memory-mapped pages instead of a copy per page read: a
    // full verification reads every page of the log. (SQLite caps the map at
    // its compile-time maximum, 2 GiB in the bundled build; beyond that it
    // reads as usual. Writes are unaffected.)
    if mmap == Mmap::On {
        conn.pragma_update(None, "mmap_size", 1i64 << 31)?;
    }
    Ok(conn)
}

impl SqliteStore {
    /// Opens or creates the database. Refuses a database whose log was signed
    /// with another key (that would fork the log's identity).
    pub fn open(path: &Path, signer: LogSigner) -> Result<Self, StoreError> {
        SqliteStore::open_with_writer(path, LogWriter::new(signer))
    }

    /// [`SqliteStore::open`] with a writer already set up (a tree-head file).
    pub fn open_with_writer(path: &Path, writer: LogWriter) -> Result<Self, StoreError> {
        // The writer reads the whole log only when it (re)loads it, once;
        // through a memory map those pages would stay counted in the
        // process's resident memory, growing with the log.
        let mut conn = connect(path, Mmap::Off)?;
        migrate(&mut conn, path)?;
        let key = writer.signer().public_key();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'log_key'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match stored {
            None => {
                tx.execute("INSERT INTO meta(key, value) VALUES ('log_key', ?1)", [key.to_base64()])?;
            }
            Some(k) if k == key.to_base64() => {}
            Some(_) => {
                return Err(StoreError::OtherKey(format!(
                    "the database {} belongs to a log signed with another key; use that data directory's key",
                    path.display()
                )))
            }
        }
        tx.commit()?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Mutex::new((conn, writer)),
            readers: Readers::new(default_max_readers()),
            key,
            _checkpoints: Checkpointer::start(path)?,
        })
    }

    /// At most `n` (at least 1) read connections instead of
    /// [`default_max_readers`]. Call before the first read.
    pub fn with_max_readers(mut self, n: usize) -> Self {
        self.readers = Readers::new(n.max(1));
        self
    }

    /// The most read connections that were ever open at once.
    pub fn peak_readers(&self) -> usize {
        self.readers.lock().peak
    }

    /// The serving lock's file: `DB.serving` beside the database.
    fn serving_lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".serving");
        PathBuf::from(name)
    }

    /// Runs `f` with a read connection from the bounded pool, waiting for
    /// one if all are in use.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let lease = Lease(&self.readers, Some(self.readers.get(&self.path)?));
        f(lease
            .1
            .as_ref()
            .expect("a lease holds its connection until dropped"))
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let has_meta: bool = tx.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    let version: usize = if has_meta {
        tx.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
    } else {
        let tables: i64 = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Err(StoreError::Schema(
                path.display().to_string(),
                "it already holds other tables".into(),
            ));
        }
        0
    };
    if version > MIGRATIONS.len() {
        return Err(StoreError::Schema(
            path.display().to_string(),
            format!(
                "its schema version {version} is newer than this program's {}",
                MIGRATIONS.len()
            ),
        ));
    }
    for sql in &MIGRATIONS[version..] {
        tx.execute_batch(sql)?;
    }
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [MIGRATIONS.len().to_string()],
    )?;
    tx.commit()?;
    Ok(())
}

struct SqliteTx<'c> {
    tx: rusqlite::Transaction<'c>,
}

impl WriteTx for SqliteTx<'_> {
    fn log_size(&mut self) -> Result<u64, StoreError> {
        let n: Option<i64> = self
            .tx
            .query_row("SELECT max(idx) FROM ledger_entries", [], |r| r.get(0))?;
        Ok(n.map(|n| n as u64 + 1).unwrap_or(0))
    }

    fn leaves_page(&mut self, from: u64, limit: u64) -> Result<Vec<StoredLeaf>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT idx, event_id, header, leaf_hash FROM ledger_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![from as i64, limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            // Bytes as stored, whatever their type: see `entry_from_row`.
            let e = entry_from_row_parts(r)?;
            out.push(e);
        }
        Ok(out)
    }

    fn latest_tree_head(&mut self) -> Result<Option<SignedTreeHead>, StoreError> {
        latest_tree_head(&self.tx)
    }

    fn event_index(&mut self, id: Uuid) -> Result<Option<u64>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT idx FROM ledger_entries WHERE event_id = ?1")?;
        Ok(stmt
            .query_row([id.to_string()], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|i| i as u64))
    }

    fn entity(&mut self, id: Uuid) -> Result<Option<EntityRecord>, StoreError> {
        entity_query(&self.tx, id)
    }

    fn insert_entry(&mut self, e: &SealedEvent, leaf_hash: &Hash) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO ledger_entries(idx, event_id, kind, header, payload, salt, leaf_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        stmt.execute(params![
            e.header.index as i64,
            e.header.id.to_string(),
            e.header.kind,
            e.header_json,
            e.payload_json,
            &e.salt[..],
            &leaf_hash[..],
        ])?;
        let mut subj = self
            .tx
            .prepare_cached("INSERT INTO event_subjects(subject_id, idx) VALUES (?1, ?2)")?;
        for s in &e.header.subjects {
            subj.execute(params![s.id.to_string(), e.header.index as i64])?;
        }
        Ok(())
    }

    fn upsert_entity(&mut self, r: &EntityRecord) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO entities(id, kind, state, created_idx, updated_idx) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, state = excluded.state,
               created_idx = excluded.created_idx, updated_idx = excluded.updated_idx",
        )?;
        stmt.execute(params![
            r.id.to_string(),
            r.kind.as_str(),
            r.state_json(),
            r.created_index as i64,
            r.updated_index as i64
        ])?;
        Ok(())
    }

    fn insert_receipts(&mut self, receipts: &[(Uuid, String)]) -> Result<(), StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO receipts(event_id, receipt) VALUES (?1, ?2)")?;
        for (id, json) in receipts {
            stmt.execute(params![id.to_string(), json])?;
        }
        Ok(())
    }

    fn projection_version(&mut self) -> Result<Option<u32>, StoreError> {
        index::projection_version(&self.tx)
    }

    fn set_projection_version(&mut self, version: u32) -> Result<(), StoreError> {
        index::set_projection_version(&self.tx, version)
    }

    fn insert_chronology(&mut self, rows: &[ChronologyRow]) -> Result<(), StoreError> {
        index::insert_chronology(&self.tx, rows)
    }

    fn replace_entity_rows(&mut self, rows: &EntityRows) -> Result<(), StoreError> {
        index::replace_entity_rows(&self.tx, rows)
    }

    fn place_links(&mut self, place: Uuid) -> Result<Vec<Uuid>, StoreError> {
        index::place_links(&self.tx, place)
    }

    fn insert_tree_head(&mut self, sth: &SignedTreeHead) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO tree_heads(size, root, timestamp_ms, signature) VALUES (?1, ?2, ?3, ?4)",
        )?;
        stmt.execute(params![
            sth.head.size as i64,
            &sth.head.root[..],
            sth.head.timestamp_ms,
            &sth.signature[..]
        ])?;
        Ok(())
    }
}

impl RebuildTx for SqliteTx<'_> {
    fn clear_projections(&mut self) -> Result<(), StoreError> {
        self.tx.execute_batch(
            "DELETE FROM entities; DELETE FROM event_subjects; DELETE FROM chronology;
             DELETE FROM edges; DELETE FROM name_keys; DELETE FROM referrals; DELETE FROM return_interviews;
             DELETE FROM match_review; DELETE FROM case_actions;",
        )?;
        Ok(())
    }

    fn entries_page(&mut self, from: u64, limit: u64) -> Result<Vec<StoredEntry>, StoreError> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![from as i64, limit as i64], entry_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn insert_subjects(&mut self, e: &SealedEvent) -> Result<(), StoreError> {
        let mut subj = self
            .tx
            .prepare_cached("INSERT INTO event_subjects(subject_id, idx) VALUES (?1, ?2)")?;
        for s in &e.header.subjects {
            subj.execute(params![s.id.to_string(), e.header.index as i64])?;
        }
        Ok(())
    }

    fn flush_rows(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn entity_query(conn: &Connection, id: Uuid) -> Result<Option<EntityRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, state, created_idx, updated_idx FROM entities WHERE id = ?1",
    )?;
    let row = stmt.query_row([id.to_string()], row_strings).optional()?;
    row.map(entity_from_row).transpose()
}

type EntityRow = (String, String, String, i64, i64);

/// Reads an entity row as text without trusting it (see [`entry_from_row`]).
fn row_strings(r: &rusqlite::Row<'_>) -> rusqlite::Result<EntityRow> {
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(match r.get_ref(i)? {
            rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                String::from_utf8_lossy(t).into_owned()
            }
            other => format!("{other:?}"),
        })
    };
    Ok((text(0)?, text(1)?, text(2)?, r.get(3)?, r.get(4)?))
}

/// Reads an entry row without trusting it: text that is not UTF-8 (or a value
/// stored with another type) is read as bytes and converted lossily, so that
/// verification reports the entry as altered instead of failing to read it.
fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEntry> {
    use rusqlite::types::ValueRef;
    fn bytes(v: ValueRef<'_>) -> Option<Vec<u8>> {
        match v {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i.to_string().into_bytes()),
            ValueRef::Real(f) => Some(f.to_string().into_bytes()),
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(t.to_vec()),
        }
    }
    let text = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(bytes(r.get_ref(i)?).map(|b| String::from_utf8_lossy(&b).into_owned()))
    };
    Ok(StoredEntry {
        index: r.get::<_, i64>(0)? as u64,
        event_id: text(1)?.unwrap_or_default(),
        header_json: text(2)?.unwrap_or_default(),
        payload_json: text(3)?,
        salt: bytes(r.get_ref(4)?),
        leaf_hash: bytes(r.get_ref(5)?).unwrap_or_default(),
        kind: text(6)?.unwrap_or_default(),
    })
}

const ENTRY_COLUMNS: &str = "idx, event_id, header, payload, salt, leaf_hash, kind";

/// A row of `idx, event_id, header, leaf_hash` for the writer's load, read
/// as bytes without trusting its types (see [`entry_from_row`]).
fn entry_from_row_parts(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredLeaf> {
    use rusqlite::types::ValueRef;
    let bytes = |i: usize| -> rusqlite::Result<Vec<u8>> {
        Ok(match r.get_ref(i)? {
            ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
            ValueRef::Integer(n) => n.to_string().into_bytes(),
            ValueRef::Real(f) => f.to_string().into_bytes(),
            ValueRef::Null => Vec::new(),
        })
    };
    Ok(StoredLeaf {
        index: r.get::<_, i64>(0)? as u64,
        event_id: String::from_utf8_lossy(&bytes(1)?).into_owned(),
        header: bytes(2)?,
        leaf_hash: bytes(3)?,
    })
}

fn latest_tree_head(c: &Connection) -> Result<Option<SignedTreeHead>, StoreError> {
    let row = c
        .query_row(
            "SELECT size, root, timestamp_ms, signature FROM tree_heads ORDER BY size DESC LIMIT 1",
            [],
            tree_head_row,
        )
        .optional()?;
    row.transpose()
}

/// Reads through one connection: for the store's own calls, and inside a
/// read transaction for [`Store::read_snapshot`].
struct SqliteView<'c>(&'c Connection);

impl LogReader for SqliteView<'_> {
    fn for_each_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(StoredEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let c = self.0;
        let mut stmt = c.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE idx >= ?1 ORDER BY idx"
        ))?;
        let mut rows = stmt.query([from as i64])?;
        while let Some(r) = rows.next()? {
            f(entry_from_row(r)?)?;
        }
        Ok(())
    }

    fn for_each_raw_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(RawEntry<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use rusqlite::types::ValueRef;
        // Borrow SQLite's own buffers: no allocation or UTF-8 check per row.
        fn bytes<'a>(v: ValueRef<'a>) -> Option<&'a [u8]> {
            match v {
                ValueRef::Text(t) | ValueRef::Blob(t) => Some(t),
                ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => None,
            }
        }
        let mut stmt = self.0.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE idx >= ?1 ORDER BY idx"
        ))?;
        let mut rows = stmt.query([from as i64])?;
        while let Some(r) = rows.next()? {
            f(RawEntry {
                index: r.get::<_, i64>(0)? as u64,
                event_id: bytes(r.get_ref(1)?).unwrap_or_default(),
                header: bytes(r.get_ref(2)?).unwrap_or_default(),
                payload: bytes(r.get_ref(3)?),
                salt: bytes(r.get_ref(4)?),
                leaf_hash: bytes(r.get_ref(5)?).unwrap_or_default(),
                kind: bytes(r.get_ref(6)?).unwrap_or_default(),
            })?;
        }
        Ok(())
    }

    fn for_each_tree_head(
        &self,
        f: &mut dyn FnMut(SignedTreeHead) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let c = self.0;
        let mut stmt =
            c.prepare("SELECT size, root, timestamp_ms, signature FROM tree_heads ORDER BY size")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(tree_head_row(r)??)?;
        }
        Ok(())
    }

    fn for_each_entity(
        &self,
        f: &mut dyn FnMut(EntityRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let c = self.0;
        let mut stmt = c.prepare(
            "SELECT id, kind, state, created_idx, updated_idx FROM entities ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(entity_from_row(row_strings(r)?)?)?;
        }
        Ok(())
    }

    fn for_each_raw_entity(
        &self,
        f: &mut dyn FnMut(crate::RawEntity<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use rusqlite::types::ValueRef;
        use std::borrow::Cow;
        let mut stmt = self.0.prepare(
            "SELECT id, kind, state, created_idx, updated_idx FROM entities ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            // SQLite's own buffers; a value of another type is written out as
            // `row_strings` does, so it differs and is parsed to say how.
            let col = |i: usize| -> rusqlite::Result<Cow<'_, [u8]>> {
                Ok(match r.get_ref(i)? {
                    ValueRef::Text(t) | ValueRef::Blob(t) => Cow::Borrowed(t),
                    other => Cow::Owned(format!("{other:?}").into_bytes()),
                })
            };
            let (id, kind, state) = (col(0)?, col(1)?, col(2)?);
            f(crate::RawEntity {
                id: &id,
                kind: &kind,
                state: &state,
                created_idx: r.get(3)?,
                updated_idx: r.get(4)?,
            })?;
        }
        Ok(())
    }

    fn for_each_subject_link(
        &self,
        f: &mut dyn FnMut(Uuid, u64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let c = self.0;
        let mut stmt =
            c.prepare("SELECT subject_id, idx FROM event_subjects ORDER BY subject_id, idx")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let s: String = r.get(0)?;
            let id = Uuid::parse_str(&s).map_err(|_| {
                StoreError::Corrupt(format!("subject index row '{s}' is not a UUID"))
            })?;
            f(id, r.get::<_, i64>(1)? as u64)?;
        }
        Ok(())
    }

    fn for_each_kept_receipt(
        &self,
        f: &mut dyn FnMut(String, String) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .0
            .prepare("SELECT event_id, receipt FROM receipts ORDER BY event_id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(
                lossy_text(r, 0)?.unwrap_or_default(),
                lossy_text(r, 1)?.unwrap_or_default(),
            )?;
        }
        Ok(())
    }

    fn stored_log_key(&self) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .0
            .prepare("SELECT value FROM meta WHERE key = 'log_key'")?;
        let mut rows = stmt.query([])?;
        match rows.next()? {
            Some(r) => Ok(lossy_text(r, 0)?),
            None => Ok(None),
        }
    }

    fn projection_version(&self) -> Result<Option<u32>, StoreError> {
        index::projection_version(self.0)
    }

    fn for_each_chronology(
        &self,
        f: &mut dyn FnMut(ChronologyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_chronology(self.0, f)
    }

    fn for_each_edge(
        &self,
        f: &mut dyn FnMut(EdgeRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_edge(self.0, f)
    }

    fn for_each_name_key(
        &self,
        f: &mut dyn FnMut(NameKeyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_name_key(self.0, f)
    }

    fn for_each_referral(
        &self,
        f: &mut dyn FnMut(ReferralRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_referral(self.0, f)
    }

    fn for_each_match_review(
        &self,
        f: &mut dyn FnMut(MatchReviewRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_match_review(self.0, f)
    }

    fn for_each_case_action(
        &self,
        f: &mut dyn FnMut(vigil_model::index::CaseActionRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_case_action(self.0, f)
    }

    fn for_each_return_interview(
        &self,
        f: &mut dyn FnMut(vigil_model::index::ReturnInterviewRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        index::for_each_return_interview(self.0, f)
    }
}

/// Column `i` as text whatever type SQLite holds it as (None for NULL): a
/// tampered value is still read, and reported by the check that reads it.
fn lossy_text(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

impl Store for SqliteStore {
    fn writer_held_hashes(&self) -> usize {
        self.writer.lock().expect("writer poisoned").1.held_hashes()
    }

    fn append_batch(&self, batch: Batch) -> Result<BatchOutcome, StoreError> {
        let mut guard = self.writer.lock().expect("writer poisoned");
        let (conn, writer) = &mut *guard;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut stx = SqliteTx { tx };
        let pending = match writer.append_in(&mut stx, batch) {
            Ok(p) => p,
            Err(e) => {
                writer.reset();
                return Err(e);
            }
        };
        if let Err(e) = stx.tx.commit() {
            writer.reset();
            return Err(e.into());
        }
        Ok(writer.receipts(pending))
    }

    fn append_verbatim(
        &self,
        entries: Vec<StoredEntry>,
        heads: Vec<SignedTreeHead>,
    ) -> Result<(), StoreError> {
        let mut guard = self.writer.lock().expect("writer poisoned");
        let (conn, writer) = &mut *guard;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut stx = SqliteTx { tx };
        let done = writer
            .append_verbatim_in(&mut stx, entries, heads)
            .and_then(|pending| {
                stx.tx.commit()?;
                Ok(pending)
            });
        match done {
            Ok(pending) => {
                writer.receipts(pending);
                Ok(())
            }
            Err(e) => {
                writer.reset();
                Err(e)
            }
        }
    }

    fn log_size(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: Option<i64> =
                c.query_row("SELECT max(idx) FROM ledger_entries", [], |r| r.get(0))?;
            Ok(n.map(|n| n as u64 + 1).unwrap_or(0))
        })
    }

    fn latest_tree_head(&self) -> Result<Option<SignedTreeHead>, StoreError> {
        self.read(latest_tree_head)
    }

    fn payload_of(&self, event_id: Uuid) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            let p: Option<Option<String>> = c
                .query_row(
                    "SELECT payload FROM ledger_entries WHERE event_id = ?1",
                    [event_id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(p.flatten())
        })
    }

    fn for_each_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(StoredEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|c| SqliteView(c).for_each_entry(from, f))
    }

    fn for_each_tree_head(
        &self,
        f: &mut dyn FnMut(SignedTreeHead) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|c| SqliteView(c).for_each_tree_head(f))
    }

    fn for_each_entity(
        &self,
        f: &mut dyn FnMut(EntityRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|c| SqliteView(c).for_each_entity(f))
    }

    fn for_each_subject_link(
        &self,
        f: &mut dyn FnMut(Uuid, u64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|c| SqliteView(c).for_each_subject_link(f))
    }

    fn read_snapshot(
        &self,
        f: &mut dyn FnMut(&dyn LogReader) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|c| {
            c.execute_batch("BEGIN")?;
            // In WAL mode the snapshot is taken by the first read: take it now.
            let out = c
                .query_row("SELECT count(*) FROM meta", [], |_| Ok(()))
                .map_err(StoreError::from)
                .and_then(|()| f(&SqliteView(c)));
            let end = c.execute_batch("ROLLBACK");
            out.and(end.map_err(StoreError::from))
        })
    }

    fn read_snapshot_pair(
        &self,
        main: &mut dyn FnMut(&dyn LogReader) -> Result<(), StoreError>,
        side: &mut (dyn FnMut(&dyn LogReader) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        let mut a = Lease(&self.readers, Some(self.readers.get(&self.path)?));
        let Some(second) = self.readers.try_get(&self.path)? else {
            // No second connection free: both on one view, one after the other.
            drop(a);
            return self.read_snapshot(&mut |v| {
                side(v)?;
                main(v)
            });
        };
        let mut b = Lease(&self.readers, Some(second));
        let (Some(ca), Some(cb)) = (a.1.as_mut(), b.1.as_mut()) else {
            unreachable!("a lease holds its connection until dropped")
        };
        // Each connection's snapshot is taken by its first read. Holding the
        // database's write lock (BEGIN IMMEDIATE on the writer's connection)
        // while both take theirs means no commit can fall between them, so
        // both see the same database; writers wait only for these reads.
        {
            let guard = self.writer.lock().expect("writer poisoned");
            let w = &guard.0;
            // Beside busy writers the lock may be long in coming: rather
            // than wait, read both on one view, one after the other.
            w.busy_timeout(PAIR_LOCK_WAIT)?;
            let locked = w.execute_batch("BEGIN IMMEDIATE");
            w.busy_timeout(BUSY_TIMEOUT)?;
            if locked.is_err() {
                drop(guard);
                drop((a, b));
                return self.read_snapshot(&mut |v| {
                    side(v)?;
                    main(v)
                });
            }
            let begun = (|| {
                for c in [&*ca, &*cb] {
                    c.execute_batch("BEGIN")?;
                    c.query_row("SELECT count(*) FROM meta", [], |_| Ok(()))?;
                }
                Ok::<(), rusqlite::Error>(())
            })();
            let unlocked = w.execute_batch("ROLLBACK");
            if let Err(e) = begun
                .map_err(StoreError::from)
                .and(unlocked.map_err(StoreError::from))
            {
                for c in [&*ca, &*cb] {
                    let _ = c.execute_batch("ROLLBACK");
                }
                return Err(e);
            }
        }
        let (out, side_out) = std::thread::scope(|s| {
            let cb = &mut *cb;
            let side = s.spawn(move || {
                let out = side(&SqliteView(cb));
                let end = cb.execute_batch("ROLLBACK");
                out.and(end.map_err(StoreError::from))
            });
            let out = main(&SqliteView(ca));
            let end = ca.execute_batch("ROLLBACK");
            (
                out.and(end.map_err(StoreError::from)),
                side.join().expect("the second reader panicked"),
            )
        });
        out.and(side_out)
    }

    fn entity(&self, id: Uuid) -> Result<Option<EntityRecord>, StoreError> {
        self.read(|c| entity_query(c, id))
    }

    fn entries_about(&self, subject: Uuid) -> Result<Vec<StoredEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {} FROM ledger_entries e JOIN event_subjects s ON s.idx = e.idx
                 WHERE s.subject_id = ?1 ORDER BY e.idx",
                ENTRY_COLUMNS
                    .split(", ")
                    .map(|c| format!("e.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            let rows = stmt.query_map([subject.to_string()], entry_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn event_index(&self, event_id: Uuid) -> Result<Option<u64>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT idx FROM ledger_entries WHERE event_id = ?1",
                [event_id.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|i| i as u64))
        })
    }

    fn log_key(&self) -> LogKey {
        self.key.clone()
    }

    fn chronology(&self, person: Uuid, q: &ChronologyQuery) -> Result<ChronologyPage, StoreError> {
        self.read(|c| index::chronology(c, person, q))
    }

    fn chronology_head(&self, person: Uuid) -> Result<Option<u64>, StoreError> {
        self.read(|c| index::chronology_head(c, person))
    }

    fn person_page(
        &self,
        person: Uuid,
        q: Option<&ChronologyQuery>,
        ends: &dyn Fn(&EdgeRow) -> Option<Uuid>,
    ) -> Result<crate::index::PersonPage, StoreError> {
        // One pooled connection for all of it.
        self.read(|c| {
            let edges = index::edges_of(c, person)?;
            let ids = crate::index::end_ids(&edges, ends);
            Ok(crate::index::PersonPage {
                person: entity_query(c, person)?,
                referrals: index::referrals(c, ReferralQuery::AboutChild(person))?,
                ends: index::entities(c, &ids)?,
                edges,
                head: index::chronology_head(c, person)?,
                page: match q {
                    Some(q) => index::chronology(c, person, q)?,
                    None => ChronologyPage::default(),
                },
            })
        })
    }

    fn find_people(
        &self,
        q: &NameQuery,
        visible_agencies: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<PersonHit>, StoreError> {
        self.read(|c| index::find_people(c, q, visible_agencies, limit))
    }

    fn edges_of(&self, entity: Uuid) -> Result<Vec<EdgeRow>, StoreError> {
        self.read(|c| index::edges_of(c, entity))
    }

    fn edges_of_kind(&self, kind: &str, limit: usize) -> Result<Vec<EdgeRow>, StoreError> {
        self.read(|c| index::edges_of_kind(c, kind, limit))
    }

    fn match_review(&self, q: &MatchReviewQuery) -> Result<MatchReviewPage, StoreError> {
        self.read(|c| index::match_review(c, q))
    }

    fn referrals(&self, q: ReferralQuery) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c| index::referrals(c, q))
    }

    fn interviews_not_done(
        &self,
        returned_by: &str,
        limit: usize,
    ) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c| index::interviews_not_done(c, returned_by, limit))
    }

    fn case_actions(
        &self,
        q: &crate::index::CaseActionQuery,
    ) -> Result<Vec<vigil_model::index::CaseActionRow>, StoreError> {
        self.read(|c| index::case_actions(c, q))
    }

    fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c| index::entities_of_kind(c, kind))
    }

    fn entities(&self, ids: &[Uuid]) -> Result<Vec<EntityRecord>, StoreError> {
        self.read(|c| index::entities(c, ids))
    }

    fn rebuild_projections(
        &self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RebuildReport, StoreError> {
        let lock_path = self.serving_lock_path();
        let lock = open_serving_lock(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(serving_refusal(&format!(
                    "it holds {}",
                    lock_path.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Database(format!(
                    "cannot lock {}: {e}",
                    lock_path.display()
                )))
            }
        }
        let mut guard = self.writer.lock().expect("writer poisoned");
        let (conn, writer) = &mut *guard;
        // The rebuild rewrites every projection table in one transaction:
        // in SQLite's default page cache (2 MB) its pages are spilt to the
        // WAL and read back one system call each. A larger cache for the
        // rebuild only, put back after it.
        let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        conn.pragma_update(None, "cache_size", REBUILD_CACHE_KIB)?;
        let done = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut stx = SqliteTx { tx };
            let size = writer.catch_up(&mut stx)?;
            let report = crate::rebuild::rebuild_in(&mut stx, size, progress)?;
            stx.tx.commit()?;
            Ok::<_, StoreError>(report)
        })();
        let restored = conn.pragma_update(None, "cache_size", cache);
        let done = done.and_then(|r| restored.map(|()| r).map_err(StoreError::from));
        match done {
            Ok(report) => {
                drop(lock);
                Ok(report)
            }
            Err(e) => {
                writer.reset();
                Err(e)
            }
        }
    }

    fn hold_serving_lock(&self) -> Result<ServingLock, StoreError> {
        let path = self.serving_lock_path();
        let file = open_serving_lock(&path)?;
        file.lock_shared()
            .map_err(|e| StoreError::Database(format!("cannot lock {}: {e}", path.display())))?;
        Ok(ServingLock::new(Box::new(file)))
    }
}

/// Opens (creating) the serving lock file beside the database.
fn open_serving_lock(path: &Path) -> Result<std::fs::File, StoreError> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", path.display())))
}

fn tree_head_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SignedTreeHead, StoreError>> {
    let size: i64 = r.get(0)?;
    let root: Vec<u8> = r.get(1)?;
    let timestamp_ms: i64 = r.get(2)?;
    let sig: Vec<u8> = r.get(3)?;
    let bad = || StoreError::Corrupt(format!("the signed tree head of size {size} is malformed"));
    Ok((|| {
        Ok(SignedTreeHead {
            head: TreeHead {
                size: size as u64,
                root: root.try_into().map_err(|_| bad())?,
                timestamp_ms,
            },
            signature: sig.try_into().map_err(|_| bad())?,
        })
    })())
}
