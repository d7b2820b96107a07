//! What the web service keeps beside the log: sign-in secrets, sessions,
//! failed sign-ins, issued receipts and the access log; and the one
//! projection query its read models need ([`AccountStore::entities_changed_since`]).
//!
//! Accounts themselves (who exists, with which role and agency, who created
//! or changed them) are events in the log (`user.*` kinds). What is kept
//! here instead is what must *not* go in a log that is handed to auditors and
//! kept for 75 years: password hashes and session tokens. Each backend keeps
//! these in its own tables, added by a migration of its own
//! ([`SQLITE_MIGRATION`], [`POSTGRES_MIGRATION`]).
//!
//! # The access log
//!
//! Every time a user reads a child's record the web service appends an
//! [`AccessRecord`]. Rows are hash-linked, like a simple chain: row *n*
//! stores `hash_n = SHA-256(hash_{n-1} || record_n)`, where `record_n` is the
//! RFC 8785 canonical JSON of the access including its own `seq`, and
//! `hash_{-1}` is 32 zero bytes. Changing, removing or reordering a row
//! breaks every later hash; [`verify_access_log`] recomputes the chain and
//! `vigil verify` runs it. Rows are also protected by database triggers that
//! refuse UPDATE and DELETE. (docs/access.md gives the format for an
//! independent checker.)
//!
//! Appends are batched by the caller (one transaction for many reads) so a
//! busy server does not pay one disk flush per page.

use crate::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vigil_model::canonical::to_canonical_string;
use vigil_model::codes::Role;
use vigil_model::projection::EntityRecord;
use vigil_model::{EntityKind, SubjectRef};

/// A password hash and how it may be used. The hash is an Argon2id PHC
/// string; this crate never sees a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub user_id: Uuid,
    pub username: String,
    pub phc: String,
    /// A temporary password: the user must choose a new one after signing in.
    pub must_change: bool,
    pub set_at_ms: i64,
}

/// A signed-in session. Only the SHA-256 of the token is stored, so a copy
/// of the database does not let anyone sign in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub token_sha256: [u8; 32],
    pub user_id: Uuid,
    /// The anti-forgery token every form of this session must carry.
    pub csrf: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
    /// Signed in with a temporary password: may only choose a new one.
    pub restricted: bool,
}

/// A form kept when it was sent on a session that had ended (a referral
/// typed for longer than the session lasts): held for the same account
/// under a one-time token, whose SHA-256 alone is stored, until that
/// account signs in again and takes it, or it expires. Never in the log;
/// taking it deletes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldForm {
    pub token_sha256: [u8; 32],
    /// The account whose ended session sent it: only they can take it.
    pub user_id: Uuid,
    /// The form's URL-encoded body, as sent.
    pub form: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// One read of person-level data, as the web service reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// Who: the username, role and agency code at the time. For a refused
    /// sign-in to an account that does not exist, the username as typed
    /// (bounded and escaped by the web service), with no role and no agency.
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    pub agency: String,
    /// What was done, in words (`opened person record`, `listed triage queue`,
    /// `signed in`, `sign-in refused`, `signed out`).
    pub action: String,
    /// The entities shown (people, referrals).
    pub subjects: Vec<SubjectRef>,
    /// Sign-ins, refusals and sign-outs: the client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Sign-ins and sign-outs: which session, as the hex SHA-256 of the
    /// stored token hash (the token itself is never written anywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// The actions [`AccessQuery::sign_ins`] selects.
pub const SIGN_IN_ACTIONS: &[&str] = &["signed in", "sign-in refused", "signed out"];

/// The hashed form of a row: the record and its position.
#[derive(Serialize)]
struct HashedRecord<'a> {
    seq: u64,
    #[serde(flatten)]
    record: &'a AccessRecord,
}

/// A stored access-log row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessEntry {
    pub seq: u64,
    /// Canonical JSON of the record with its `seq`: exactly what was hashed.
    pub record_json: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AccessEntry {
    /// The record, parsed (None if the stored text is damaged).
    pub fn record(&self) -> Option<AccessRecord> {
        serde_json::from_str(&self.record_json).ok()
    }
}

/// Which access-log rows to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Only rows that showed this entity.
    pub subject: Option<Uuid>,
    /// Only rows by this username.
    pub user: Option<String>,
    /// Only sign-ins, refused sign-ins and sign-outs ([`SIGN_IN_ACTIONS`]).
    pub sign_ins: bool,
    /// Only rows before this position (for paging back).
    pub before_seq: Option<u64>,
    pub limit: u32,
}

/// The hash that row `seq` must carry.
pub fn access_hash(prev: &[u8], record_json: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(record_json.as_bytes());
    h.finalize().into()
}

/// The canonical JSON of a record at position `seq`.
pub fn access_record_json(seq: u64, record: &AccessRecord) -> Result<String, StoreError> {
    to_canonical_string(&HashedRecord { seq, record })
        .map_err(|e| StoreError::Database(format!("an access record could not be encoded: {e}")))
}

/// The subject index rows for a batch of `records` written from position
/// `next`: for each entity the batch showed, one `(subject id, last seq,
/// first seq)` row, sorted by subject.
///
/// Why ranges and not one row per (subject, read): a queue page names fifty
/// children, so a batch of fifty page loads would write 2,500 index rows, and
/// on PostgreSQL those index inserts were most of the cost of serving the
/// page. One row per subject per batch is 50. The price is paid when an
/// auditor asks about one child: rows inside a range that did not show that
/// child are read and dropped ([`rows_about`]). Batches never overlap, so one
/// subject's ranges are disjoint and ordering them by `last_seq` orders the
/// rows they cover.
pub(crate) fn subject_ranges(next: u64, records: &[AccessRecord]) -> Vec<([u8; 16], i64, i64)> {
    let mut ranges: std::collections::BTreeMap<[u8; 16], (i64, i64)> = Default::default();
    for (i, r) in records.iter().enumerate() {
        let seq = (next + i as u64) as i64;
        for s in &r.subjects {
            let e = ranges.entry(*s.id.as_bytes()).or_insert((seq, seq));
            e.0 = e.0.max(seq);
            e.1 = e.1.min(seq);
        }
    }
    ranges
        .into_iter()
        .map(|(id, (last, first))| (id, last, first))
        .collect()
}

/// The rows a query about one subject lists, newest first, at most
/// `limit`: `candidates(before, limit)` gives the rows inside that subject's
/// ranges (newest first, positions below `before`), and those whose record
/// did not show the subject are dropped here. A row whose stored record
/// cannot be read is kept (the auditor should see it; verification names it).
pub(crate) fn rows_about(
    subject: Uuid,
    before: i64,
    limit: i64,
    mut candidates: impl FnMut(i64, i64) -> Result<Vec<AccessEntry>, StoreError>,
) -> Result<Vec<AccessEntry>, StoreError> {
    let mut out = Vec::new();
    let mut before = before;
    loop {
        let rows = candidates(before, limit)?;
        let fetched = rows.len() as i64;
        for e in rows {
            before = e.seq as i64;
            let shows = e
                .record()
                .is_none_or(|r| r.subjects.iter().any(|s| s.id == subject));
            if shows {
                out.push(e);
                if out.len() as i64 == limit {
                    return Ok(out);
                }
            }
        }
        if fetched < limit {
            return Ok(out);
        }
    }
}

/// One row to write: position, canonical record, previous hash, hash.
pub(crate) type ChainRow = (u64, String, Vec<u8>, [u8; 32]);

/// The rows to write for `records` after a log whose last row has position
/// `next - 1` and hash `prev`: `(seq, record_json, prev_hash, hash)`.
pub(crate) fn chain(
    mut next: u64,
    mut prev: Vec<u8>,
    records: &[AccessRecord],
) -> Result<Vec<ChainRow>, StoreError> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let json = access_record_json(next, r)?;
        let hash = access_hash(&prev, &json);
        out.push((next, json, prev.clone(), hash));
        prev = hash.to_vec();
        next += 1;
    }
    Ok(out)
}

/// A count a password check must stay under: attempts against `key`
/// (`user:NAME`, `ip:ADDR`) within the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptLimit {
    pub key: String,
    pub limit: u32,
}

/// A password check that was counted before it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginAttempt {
    pub keys: Vec<String>,
    pub at_ms: i64,
    /// Attempts already in the window for each key, before this one.
    pub before: Vec<u32>,
}

/// What [`AccountStore::reserve_login_attempt`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Counted: the password may be checked now.
    Admitted(LoginAttempt),
    /// `limits[limit]` is reached: wait until `until_ms`; nothing was counted.
    Waiting { limit: usize, until_ms: i64 },
}

/// Shortest and longest wait once a limit is reached.
pub const FIRST_WAIT_MS: i64 = 30_000;
pub const LONGEST_WAIT_MS: i64 = 15 * 60_000;

/// Until when a key with `count` attempts in the window, the latest at
/// `last_ms`, must wait: from the `limit`th attempt, 30 seconds after the
/// latest, doubling with each further one, up to 15 minutes.
pub fn login_wait_until(count: u32, last_ms: Option<i64>, limit: u32) -> Option<i64> {
    let last = last_ms?;
    if count < limit {
        return None;
    }
    let doublings = (count - limit).min(20);
    let wait = (FIRST_WAIT_MS << doublings).min(LONGEST_WAIT_MS);
    Some(last + wait)
}

/// The decision for one reservation, given each limit's (count, latest).
pub(crate) fn reservation(
    limits: &[AttemptLimit],
    counts: &[(u32, Option<i64>)],
    now_ms: i64,
) -> Reserved {
    for (i, (l, (n, last))) in limits.iter().zip(counts).enumerate() {
        if let Some(until) = login_wait_until(*n, *last, l.limit).filter(|u| *u > now_ms) {
            return Reserved::Waiting {
                limit: i,
                until_ms: until,
            };
        }
    }
    Reserved::Admitted(LoginAttempt {
        keys: limits.iter().map(|l| l.key.clone()).collect(),
        at_ms: now_ms,
        before: counts.iter().map(|(n, _)| *n).collect(),
    })
}

/// The hash before the first row.
pub const ACCESS_GENESIS: [u8; 32] = [0u8; 32];

/// What the web service needs to keep beside the log. Implemented by every
/// backend; [`crate::Store`] requires it.
pub trait AccountStore: Send + Sync {
    /// Sets (creates or replaces) an account's password hash.
    fn put_credential(&self, c: &Credential) -> Result<(), StoreError>;
    /// The password hash of an account, by username.
    fn credential(&self, username: &str) -> Result<Option<Credential>, StoreError>;

    fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError>;
    fn session(&self, token_sha256: &[u8; 32]) -> Result<Option<SessionRow>, StoreError>;
    /// Records activity on a session and moves its expiry.
    fn touch_session(
        &self,
        token_sha256: &[u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError>;
    fn delete_session(&self, token_sha256: &[u8; 32]) -> Result<(), StoreError>;
    /// Ends every session of an account (disabled, password reset); returns how many.
    fn delete_sessions_of(&self, user_id: Uuid) -> Result<u64, StoreError>;
    /// Forgets sessions that expired before `sessions_before_ms` (an ended
    /// session is kept a while, so a form sent on it can still be held for
    /// its account), held forms that expired before `held_before_ms`, and
    /// failures before `failures_before_ms`.
    fn purge_expired(
        &self,
        sessions_before_ms: i64,
        held_before_ms: i64,
        failures_before_ms: i64,
    ) -> Result<(), StoreError>;

    /// Keeps a form sent on an ended session ([`HeldForm`]).
    fn hold_form(&self, f: &HeldForm) -> Result<(), StoreError>;
    /// Takes (reads and deletes, in one statement) the form held under this
    /// token for this account, if it has not expired at `now_ms`. Another
    /// account's token takes nothing and leaves the form where it is.
    fn take_held_form(
        &self,
        token_sha256: &[u8; 32],
        user_id: Uuid,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError>;

    /// Counts a password check before it is made: in one transaction that
    /// every server on the database serialises on, checks each limit over
    /// the attempts since `since_ms` (failures and checks still under way)
    /// and, if none makes the caller wait, records the attempt against
    /// every key at `now_ms`. So attempts sent at once cannot all slip
    /// under a limit: the one that reaches it waits, unchecked.
    fn reserve_login_attempt(
        &self,
        limits: &[AttemptLimit],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<Reserved, StoreError>;
    /// Forgets a reserved attempt that turned out right (one row per key).
    fn forget_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError>;
    /// Attempts for `key` since `since_ms`: how many, and the latest.
    fn login_failures(&self, key: &str, since_ms: i64) -> Result<(u32, Option<i64>), StoreError>;
    /// Forgets the attempts against `key` made before `before_ms` (after a
    /// right password: earlier failures are forgiven, attempts under way
    /// at the same moment still count).
    fn clear_login_failures(&self, key: &str, before_ms: i64) -> Result<(), StoreError>;

    fn receipt(&self, event_id: Uuid) -> Result<Option<String>, StoreError>;

    /// Appends records to the access log in one transaction, in order;
    /// returns the position of the first.
    fn append_access(&self, records: &[AccessRecord]) -> Result<u64, StoreError>;
    fn access_entries(&self, q: &AccessQuery) -> Result<Vec<AccessEntry>, StoreError>;
    /// Streams every access-log row in order (for verification).
    fn for_each_access_entry(
        &self,
        f: &mut dyn FnMut(AccessEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Entities of these kinds changed by log entries after `after_index`
    /// (all when None), oldest change first. The web service keeps its read
    /// models (the triage queue, "my referrals", possible matches) in memory
    /// and asks this on each request, which is one indexed query that
    /// usually returns nothing; it works the same with several servers on
    /// one database.
    fn entities_changed_since(
        &self,
        kinds: &[EntityKind],
        after_index: Option<u64>,
    ) -> Result<Vec<EntityRecord>, StoreError>;
}

/// The first thing wrong with the access log, if anything; and how many rows
/// were checked.
pub fn verify_access_log(store: &dyn crate::Store) -> Result<(u64, Option<String>), StoreError> {
    // The anchors the ledger holds: (rows, head, ledger entry).
    let anchors = access_anchors(store)?;
    let wanted: std::collections::BTreeSet<u64> = anchors
        .iter()
        .filter(|(rows, _, _)| *rows > 0)
        .map(|(rows, _, _)| rows - 1)
        .collect();
    let mut hashes: std::collections::BTreeMap<u64, String> = std::collections::BTreeMap::new();
    let mut expected_seq = 0u64;
    let mut prev = ACCESS_GENESIS.to_vec();
    let mut problem: Option<String> = None;
    let r = store.for_each_access_entry(&mut |e| {
        let bad = |what: &str| format!("access log row {}: {what}", e.seq);
        let found = if e.seq != expected_seq {
            Some(format!(
                "access log row {expected_seq} is missing (the next row is {})",
                e.seq
            ))
        } else if e.prev_hash != prev {
            Some(bad(
                "it does not follow the row before it (its previous hash differs)",
            ))
        } else if access_hash(&e.prev_hash, &e.record_json).as_slice() != e.hash.as_slice() {
            Some(bad("its content does not match its hash: it was altered"))
        } else {
            match serde_json::from_str::<serde_json::Value>(&e.record_json) {
                Ok(v) if v.get("seq").and_then(|s| s.as_u64()) == Some(e.seq) => None,
                Ok(_) => Some(bad("its content names another position")),
                Err(_) => Some(bad("its content is not JSON")),
            }
        };
        if let Some(p) = found {
            problem = Some(p);
            return Err(StoreError::Corrupt("stop".into()));
        }
        if wanted.contains(&e.seq) {
            hashes.insert(e.seq, hex::encode(&e.hash));
        }
        prev = e.hash.clone();
        expected_seq += 1;
        Ok(())
    });
    match r {
        Ok(()) => {}
        Err(_) if problem.is_some() => return Ok((expected_seq, problem)),
        Err(e) => return Err(e),
    }
    for (rows, head, entry) in anchors {
        if rows == 0 {
            continue;
        }
        if rows > expected_seq {
            return Ok((
                expected_seq,
                Some(format!(
                    "access log rows {expected_seq} to {} are missing: the ledger anchored {rows} rows at entry {entry}",
                    rows - 1
                )),
            ));
        }
        if hashes.get(&(rows - 1)) != Some(&head) {
            return Ok((
                expected_seq,
                Some(format!(
                    "access log row {} does not match the hash the ledger anchored at entry {entry}: the log was rewritten",
                    rows - 1
                )),
            ));
        }
    }
    Ok((expected_seq, None))
}

/// Every `access_log.checkpointed` in the ledger: (rows, head hash in hex, entry).
fn access_anchors(store: &dyn crate::Store) -> Result<Vec<(u64, String, u64)>, StoreError> {
    let mut out = Vec::new();
    for e in store.entries_about(vigil_model::payload::access_log_id())? {
        let Some(payload) = e.payload_json.as_deref() else {
            continue; // erased at the end of its retention: nothing to check
        };
        if let Ok(vigil_model::EventPayload::AccessLogCheckpointed(c)) =
            vigil_model::EventPayload::from_kind_and_json("access_log.checkpointed", payload)
        {
            out.push((c.rows, c.head_sha256, e.index));
        }
    }
    Ok(out)
}

/// The position and hash of the access log's last row (None when empty).
pub fn access_head(store: &dyn AccountStore) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
    Ok(store
        .access_entries(&AccessQuery {
            limit: 1,
            ..Default::default()
        })?
        .into_iter()
        .next()
        .map(|e| (e.seq, e.hash)))
}

/// Milliseconds since the epoch of a time, for the tables here.
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The SQLite tables (migration 2 of the SQLite list).
pub const SQLITE_MIGRATION: &str = r#"
-- Sign-in secrets, never in the log: one Argon2id hash per account.
CREATE TABLE credentials (
    user_id     TEXT PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE,
    phc         TEXT NOT NULL,
    must_change INTEGER NOT NULL,
    set_at_ms   INTEGER NOT NULL
);
-- Sessions: only the SHA-256 of each token is kept.
CREATE TABLE sessions (
    token_sha256 BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    restricted   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
-- Failed sign-ins, by account (user:NAME) and by address (ip:ADDR), for throttling.
CREATE TABLE login_failures (
    key   TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at_ms);
-- Receipts handed out, so a submitter can download theirs again.
CREATE TABLE receipts (
    event_id TEXT PRIMARY KEY,
    receipt  TEXT NOT NULL
);
-- The access log: who read which child's record, hash-linked row to row.
CREATE TABLE access_log (
    seq       INTEGER PRIMARY KEY,
    username  TEXT NOT NULL,
    record    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE INDEX access_log_user ON access_log(username, seq);
-- The records each read showed (16-byte UUIDs: a busy queue page lists many).
CREATE TABLE access_subjects (
    subject_id BLOB NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (subject_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
-- The web service keeps its read models up to date by asking what changed.
CREATE INDEX entities_updated ON entities(kind, updated_idx);
"#;

/// The PostgreSQL tables (migration 2 of the PostgreSQL list).
pub const POSTGRES_MIGRATION: &str = r#"
CREATE TABLE credentials (
    user_id     TEXT COLLATE "C" PRIMARY KEY,
    username    TEXT COLLATE "C" NOT NULL UNIQUE,
    phc         TEXT NOT NULL,
    must_change BOOLEAN NOT NULL,
    set_at_ms   BIGINT NOT NULL
);
CREATE TABLE sessions (
    token_sha256 BYTEA PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL,
    csrf         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    restricted   BOOLEAN NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE login_failures (
    key   TEXT COLLATE "C" NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at_ms);
CREATE TABLE receipts (
    event_id TEXT COLLATE "C" PRIMARY KEY,
    receipt  TEXT NOT NULL
);
CREATE TABLE access_log (
    seq       BIGINT PRIMARY KEY,
    username  TEXT COLLATE "C" NOT NULL,
    record    TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);
CREATE INDEX access_log_user ON access_log(username, seq);
CREATE TABLE access_subjects (
    subject_id BYTEA NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (subject_id, seq)
);
CREATE FUNCTION vigil_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
FOR EACH ROW EXECUTE FUNCTION vigil_access_log_append_only();
CREATE INDEX entities_updated ON entities(kind, updated_idx);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_links_each_row_to_the_one_before() {
        let r = AccessRecord {
            at: "2025-03-01T10:00:00.000Z".into(),
            user: "triage.01".into(),
            role: Some(Role::Triage),
            agency: "northshire-childrens-services".into(),
            action: "opened person record".into(),
            subjects: vec![SubjectRef::new(EntityKind::Person, Uuid::from_u128(1))],
            address: None,
            session: None,
        };
        let rows = chain(0, ACCESS_GENESIS.to_vec(), &[r.clone(), r.clone()]).unwrap();
        assert_eq!(rows[0].0, 0);
        assert_eq!(rows[1].2, rows[0].3.to_vec());
        assert_ne!(rows[0].3, rows[1].3, "the position is part of the hash");
        assert_eq!(
            rows[0].1,
            r#"{"action":"opened person record","agency":"northshire-childrens-services","at":"2025-03-01T10:00:00.000Z","role":"triage","seq":0,"subjects":[{"id":"00000000-0000-0000-0000-000000000001","type":"person"}],"user":"triage.01"}"#
        );
    }

    #[test]
    fn waits_double_from_the_limit_and_stop_growing() {
        assert_eq!(login_wait_until(4, Some(1_000), 5), None);
        assert_eq!(login_wait_until(5, Some(1_000), 5), Some(31_000));
        assert_eq!(login_wait_until(6, Some(1_000), 5), Some(61_000));
        assert_eq!(
            login_wait_until(50, Some(1_000), 5),
            Some(1_000 + 15 * 60_000)
        );
        assert_eq!(login_wait_until(9, None, 5), None);
    }
}
