//! `vigil verify`: prove that nothing in the store was altered, removed or
//! reordered behind the program's back.
//!
//! Checks, in one pass over the log in index order:
//!
//! 1. every index from 0 is present (a deleted row is a gap);
//! 2. each header hashes to the stored leaf hash (an altered header or hash);
//! 3. each header names its own index and event id (a moved or swapped row),
//!    and the row's `event_id` and `kind` columns, which queries select on,
//!    say what its header says (a row relabelled for queries);
//! 4. each payload hashes, with its salt, to the digest in its header;
//! 5. the Merkle root at every signed tree head's size equals the signed root,
//!    and every signature verifies with the log key (a rewrite that kept the
//!    per-row hashes consistent);
//! 6. no signed tree head covers entries that are not there (a truncated log);
//! 7. every entry is covered by a signed tree head: entries and their head are
//!    committed together, so an entry after the last head was put into the
//!    database behind the program's back;
//! 8. each header's subjects are sorted and unique (checked with the
//!    projections, by [`SealedEvent::from_stored`]);
//! 9. every [`Witness`] given (the tree-head file outside the database, the
//!    receipts submitters hold) is consistent with the log: its tree head's
//!    root equals the root recomputed at its size, so the log was neither
//!    cut below it nor rewritten under it, and a receipt's entry is the one
//!    at its position;
//!
//! and then, unless asked only for the ledger, rebuilds every projection row
//! and the subject index from the log with the model's rules and compares them
//! with the stored rows, and recomputes the access log's hash chain
//! ([`crate::accounts::verify_access_log`]). The first problem is reported
//! with the entry or row it concerns.

use crate::{LogReader, RawEntry, Store, StoreError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use uuid::Uuid;
use vigil_ledger::{leaf_hash, Frontier, Hash, LogKey, Receipt, SignedTreeHead};
use vigil_model::event::payload_digest;
use vigil_model::index::{
    case_action_rows, chronology_rows, edge_row, match_review_row, name_key_order, name_key_rows,
    referral_row, return_interview_row, CaseActionRow, EdgeRow, MatchReviewRow, NameKeyRow,
    ReferralRow, ReturnInterviewRow,
};
use vigil_model::projection::{self, EntityRecord, MemoryProjection, PROJECTION_VERSION};
use vigil_model::{EntityKind, SealedEvent};

/// What to check.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// Also rebuild and compare the projections (slower; on by default).
    pub projections: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { projections: true }
    }
}

/// The first thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The log entry concerned, when there is one.
    pub entry: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Something held outside the database that the log must be consistent
/// with: a signed tree head (the tree-head file, a witness's copy) and, for
/// a receipt, the entry it was given for.
#[derive(Clone, Debug)]
pub struct Witness {
    /// Where it came from, as named in reports (a file name).
    pub label: String,
    pub head: SignedTreeHead,
    /// For a receipt: its leaf index and leaf hash.
    pub leaf: Option<(u64, Hash)>,
}

impl Witness {
    pub fn tree_head(label: String, head: SignedTreeHead) -> Witness {
        Witness {
            label,
            head,
            leaf: None,
        }
    }

    /// A receipt's tree head and entry. The receipt's own checks (inclusion
    /// proof, signature) are [`Receipt::verify`]'s; this only decodes.
    pub fn receipt(label: String, r: &Receipt) -> Result<Witness, String> {
        let head = r.tree_head().map_err(|e| format!("{label}: {e}"))?;
        let leaf = r.leaf().map_err(|e| format!("{label}: {e}"))?;
        Ok(Witness {
            label,
            head,
            leaf: Some((r.leaf_index, leaf)),
        })
    }
}

/// A root the log must have at a size: a signed tree head of the database
/// (`witness` None) or of a [`Witness`].
struct Checkpoint<'w> {
    size: u64,
    root: Hash,
    witness: Option<&'w str>,
}

/// What verification saw.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub entries: u64,
    pub tree_heads: u64,
    pub entities: u64,
    pub root: Hash,
    pub problem: Option<Problem>,
    /// Set when the ledger is intact but the projections were built by
    /// another version of the rules (or before versions were recorded, and
    /// do not match version 1): they were not compared, and `vigil rebuild`
    /// is the remedy. Never set when `problem` is.
    pub stale: Option<String>,
}

/// The fields of a header that the fast path needs, read without building the
/// whole header.
#[derive(Deserialize)]
struct HeaderPeek<'a> {
    index: u64,
    id: &'a str,
    kind: &'a str,
    payload_sha256: &'a str,
}

/// Verifies the whole store, reading it in one snapshot
/// ([`Store::read_snapshot`]) so that it can run beside live writers.
pub fn verify(store: &dyn Store, opts: VerifyOptions) -> Result<VerifyReport, StoreError> {
    verify_against(store, opts, &[])
}

/// [`verify`], and checks that the log is consistent with each witness.
pub fn verify_against(
    store: &dyn Store,
    opts: VerifyOptions,
    witnesses: &[Witness],
) -> Result<VerifyReport, StoreError> {
    verify_with_key(store, &store.log_key(), opts, witnesses)
}

/// [`verify_against`] with the log's public key given by the caller (one
/// held outside the data directory): the database must name that key and
/// every signature must verify with it. Someone who replaced the data
/// directory's key, the database's and every signature is caught only so.
pub fn verify_with_key(
    store: &dyn Store,
    key: &LogKey,
    opts: VerifyOptions,
    witnesses: &[Witness],
) -> Result<VerifyReport, StoreError> {
    let mut report = None;
    // A key drawn for this run: rows are compared by keyed hashes, which
    // someone who altered the store beforehand cannot aim at.
    let hash_key = RandomState::new();
    if opts.projections {
        // The stored projection tables are digested on a second view of the
        // same snapshot, on a thread of its own, while this one replays the
        // log (the pipeline's reader and checker).
        let (digests_tx, digests_rx) = std::sync::mpsc::sync_channel(1);
        let done = AtomicBool::new(false);
        let (hash_key, done) = (&hash_key, &done);
        store.read_snapshot_pair(
            &mut |view| {
                let out = verify_view(view, key, opts, witnesses, hash_key, Some(&digests_rx));
                done.store(true, Ordering::Relaxed);
                report = Some(out?);
                Ok(())
            },
            &mut |view| {
                let digests = stored_digests(view, hash_key, done)?;
                let _ = digests_tx.send(digests);
                Ok(())
            },
        )?;
    } else {
        store.read_snapshot(&mut |view| {
            report = Some(verify_view(view, key, opts, witnesses, &hash_key, None)?);
            Ok(())
        })?;
    }
    let mut report = report
        .ok_or_else(|| StoreError::Database("the store did not run the verification".into()))?;
    // The access log (who read which child's record) is hash-linked too.
    if opts.projections && report.problem.is_none() {
        let (_, bad) = crate::accounts::verify_access_log(store)?;
        report.problem = bad.map(|message| Problem {
            entry: None,
            message,
        });
    }
    Ok(report)
}

fn verify_view(
    store: &dyn LogReader,
    key: &LogKey,
    opts: VerifyOptions,
    given: &[Witness],
    hash_key: &RandomState,
    stored: Option<&Receiver<Option<Digests>>>,
) -> Result<VerifyReport, StoreError> {
    let failed = |p: Problem| VerifyReport {
        entries: 0,
        tree_heads: 0,
        entities: 0,
        root: vigil_ledger::empty_root(),
        problem: Some(p),
        stale: None,
    };
    if let Some(p) = other_key(store, key)? {
        return Ok(failed(p));
    }
    let mut heads: Vec<SignedTreeHead> = Vec::new();
    let heads_read = store.for_each_tree_head(&mut |h| {
        heads.push(h);
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(heads_read)? {
        return Ok(failed(p));
    }
    let mut witnesses = given.to_vec();
    match kept_receipts(store, key)? {
        Ok(kept) => witnesses.extend(kept),
        Err(p) => return Ok(failed(p)),
    }
    let witnesses = witnesses.as_slice();
    let mut report = VerifyReport {
        entries: 0,
        tree_heads: heads.len() as u64,
        entities: 0,
        root: vigil_ledger::empty_root(),
        problem: None,
        stale: None,
    };
    for h in &heads {
        if key.verify_tree_head(h).is_err() {
            report.problem = Some(Problem {
                entry: None,
                message: format!(
                    "the signed tree head of size {} does not carry a valid signature from this log's key",
                    h.head.size
                ),
            });
            return Ok(report);
        }
    }
    for w in witnesses {
        if key.verify_tree_head(&w.head).is_err() {
            report.problem = Some(Problem {
                entry: None,
                message: format!(
                    "the tree head in {} (size {}) does not carry a valid signature from this log's key",
                    w.label, w.head.head.size
                ),
            });
            return Ok(report);
        }
    }
    // Projections built by other rules are not compared (they would differ
    // everywhere): the ledger is still verified, and the report says so.
    let stored_version = match corrupt_as_problem_value(store.projection_version())? {
        Ok(v) => v,
        Err(p) => return Ok(failed(p)),
    };
    let mut opts = opts;
    if opts.projections && stored_version.is_some_and(|v| v != PROJECTION_VERSION) {
        report.stale = Some(crate::index::stale_message(stored_version));
        opts.projections = false;
    }
    let checkpoints = checkpoints(&heads, witnesses);
    let signed = heads.iter().map(|h| h.head.size).max().unwrap_or(0);
    let mut leaves: BTreeMap<u64, Vec<(&str, Hash)>> = BTreeMap::new();
    for w in witnesses {
        if let Some((i, h)) = w.leaf {
            leaves.entry(i).or_default().push((&w.label, h));
        }
    }

    // Two stages on two threads: this one reads rows from the store and packs
    // their bytes into chunks; the checker hashes, checks and replays them in
    // order. Reading and hashing cost about the same, so on two cores the
    // pipeline roughly halves the time of a full check (see BENCHMARKS.md).
    let (chunks_tx, chunks_rx) = std::sync::mpsc::sync_channel::<Chunk>(8);
    let (outcome, read) = std::thread::scope(|scope| {
        let (checkpoints, leaves) = (&checkpoints, &leaves);
        let checker = scope.spawn(move || {
            let mut c = Checker::new(checkpoints, leaves, signed, opts, hash_key);
            for chunk in chunks_rx {
                for row in &chunk.rows {
                    c.check(chunk.entry(row))?;
                }
            }
            Ok::<Checker<'_>, Problem>(c)
        });
        let mut chunk = Chunk::default();
        let read = store.for_each_raw_entry(0, &mut |e| {
            chunk.push(&e);
            if chunk.rows.len() >= CHUNK_ROWS {
                let full = std::mem::take(&mut chunk);
                // The checker stopped early (it found a problem): stop reading.
                chunks_tx
                    .send(full)
                    .map_err(|_| StoreError::Corrupt(String::new()))?;
            }
            Ok(())
        });
        if read.is_ok() && !chunk.rows.is_empty() {
            let _ = chunks_tx.send(chunk);
        }
        drop(chunks_tx);
        (
            checker.join().expect("the verification thread panicked"),
            read,
        )
    });
    let checker = match outcome {
        Err(p) => {
            report.entries = p.entry.unwrap_or(0);
            report.problem = Some(p);
            return Ok(report);
        }
        Ok(c) => {
            read?;
            c
        }
    };
    let Checker {
        frontier,
        next_head,
        rebuilt,
        mut subjects,
        chronology,
        unsigned_event,
        ..
    } = checker;
    report.entries = frontier.size();
    report.root = frontier.root();
    let size = frontier.size();
    if let Some(h) = checkpoints.get(next_head) {
        report.problem = Some(Problem {
            entry: Some(size),
            message: if h.size <= size {
                format!(
                    "the signed tree head of size {} does not match the log",
                    h.size
                )
            } else if let Some(label) = h.witness {
                format!(
                    "{} missing: {label} holds a tree head of this log of size {}, so the log was cut back",
                    missing(size, h.size),
                    h.size
                )
            } else {
                format!(
                    "{} missing: the signed tree head of size {} covers them",
                    missing(size, h.size),
                    h.size
                )
            },
        });
        return Ok(report);
    }
    if size > signed {
        let event = unsigned_event
            .map(|e| format!(" (event {e})"))
            .unwrap_or_default();
        report.problem = Some(Problem {
            entry: Some(signed),
            message: format!(
                "entry {signed}{event}{} covered by no signed tree head: entries are always committed with their tree head, so {} put into the database behind the program's back",
                if size - signed > 1 {
                    format!(" and the {} after it are", size - signed - 1)
                } else {
                    " is".into()
                },
                if size - signed > 1 { "they were" } else { "it was" }
            ),
        });
        return Ok(report);
    }

    if opts.projections {
        // Fast path: the digests of the stored tables (made beside the
        // replay) equal those of the rows the log produces. Anything else is
        // compared row by row, which decides and names the first difference.
        let stored = stored.and_then(|rx| rx.recv().ok().flatten());
        let same = match stored {
            Some(stored) => stored == rebuilt_digests(&rebuilt, &subjects, &chronology, hash_key)?,
            None => false,
        };
        report.entities = rebuilt.records.len() as u64;
        if !same {
            // By id, as the stored rows are listed.
            let rebuilt = MemoryProjection {
                records: rebuilt.records.into_iter().collect(),
            };
            subjects.sort_unstable();
            report.problem = compare_projections(store, &rebuilt, &subjects)?;
            if report.problem.is_none() {
                report.problem = compare_secondary(store, &rebuilt, &chronology, hash_key)?;
            }
        }
        // A store from before projection versions counts as version 1 if
        // its tables match; if they do not, it is stale, not corrupt.
        if stored_version.is_none() && report.entries > 0 {
            if let Some(p) = report.problem.take() {
                report.stale = Some(format!(
                    "{} (the first difference: {p})",
                    crate::index::stale_message(None)
                ));
            }
        }
    }
    Ok(report)
}

/// A chronology row rebuilt from the log, kept small: its key and a hash of
/// the whole row.
type ChronologyDigest = (u64, Uuid, u64);

/// A keyed hash of every field of a row (SipHash with this run's key: the
/// same in the rebuild and the comparison, which run in one process).
fn row_hash(key: &RandomState, row: &impl std::hash::Hash) -> u64 {
    key.hash_one(row)
}

/// A table's rows as a multiset: how many, and the sum of their keyed
/// hashes. Order-independent, so the rows can be digested in any order and
/// in parts on several threads; with a key drawn for the run, a store whose
/// rows differ from the log's has the same digest with probability about
/// 2^-64 per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct TableDigest {
    rows: u64,
    sum: u64,
}

impl TableDigest {
    fn add(&mut self, hash: u64) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(hash);
    }

    fn merge(&mut self, other: TableDigest) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }
}

/// Digests of every projection table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Digests {
    entities: TableDigest,
    subjects: TableDigest,
    chronology: TableDigest,
    edges: TableDigest,
    referrals: TableDigest,
    match_review: TableDigest,
    name_keys: TableDigest,
    case_actions: TableDigest,
    return_interviews: TableDigest,
}

impl Digests {
    fn merge(&mut self, o: Digests) {
        self.entities.merge(o.entities);
        self.subjects.merge(o.subjects);
        self.chronology.merge(o.chronology);
        self.edges.merge(o.edges);
        self.referrals.merge(o.referrals);
        self.match_review.merge(o.match_review);
        self.name_keys.merge(o.name_keys);
        self.case_actions.merge(o.case_actions);
        self.return_interviews.merge(o.return_interviews);
    }
}

/// An `entities` row as the bytes the writer stores: its id (hyphenated
/// text), kind, the state's canonical JSON, and the two indexes.
fn entity_hash(key: &RandomState, id: &[u8], kind: &[u8], state: &[u8], idx: (i64, i64)) -> u64 {
    let mut h = key.build_hasher();
    for b in [id, kind, state] {
        h.write_usize(b.len());
        h.write(b);
    }
    h.write_i64(idx.0);
    h.write_i64(idx.1);
    h.finish()
}

fn subject_hash(key: &RandomState, id: Uuid, idx: u64) -> u64 {
    key.hash_one((id, idx))
}

// Every field, by destructuring: a field added to a row is a compile error
// here until it is hashed.
fn edge_hash(key: &RandomState, r: &EdgeRow) -> u64 {
    let EdgeRow {
        link_id,
        from,
        to,
        kind,
        first_seen,
        last_seen,
        active,
        agency,
    } = r;
    key.hash_one((
        link_id, from, to, kind, first_seen, last_seen, active, agency,
    ))
}

fn referral_hash(key: &RandomState, r: &ReferralRow) -> u64 {
    let ReferralRow {
        referral_id,
        child_id,
        submitted_by,
        submitted_agency,
        status,
        submitted_at,
        decided_at,
        reference,
    } = r;
    key.hash_one((
        referral_id,
        child_id,
        submitted_by,
        submitted_agency,
        status,
        submitted_at,
        decided_at,
        reference,
    ))
}

fn case_action_hash(key: &RandomState, r: &CaseActionRow) -> u64 {
    let CaseActionRow {
        case_id,
        action_id,
        child_id,
        owner,
        due,
        status,
        meeting_id,
    } = r;
    key.hash_one((case_id, action_id, child_id, owner, due, status, meeting_id))
}

fn return_interview_hash(key: &RandomState, r: &ReturnInterviewRow) -> u64 {
    let ReturnInterviewRow {
        episode_id,
        child_id,
        agency,
        returned_at,
        done,
        assigned_agency,
        assigned_worker,
    } = r;
    key.hash_one((
        episode_id,
        child_id,
        agency,
        returned_at,
        done,
        assigned_agency,
        assigned_worker,
    ))
}

fn match_review_hash(key: &RandomState, r: &MatchReviewRow) -> u64 {
    let MatchReviewRow {
        link_id,
        a,
        b,
        a_agency,
        b_agency,
        probability_ppm,
    } = r;
    key.hash_one((link_id, a, b, a_agency, b_agency, probability_ppm))
}

fn name_key_hash(key: &RandomState, r: &NameKeyRow) -> u64 {
    let NameKeyRow {
        source_id,
        person_id,
        kind,
        key: k,
        agency,
    } = r;
    key.hash_one((source_id, person_id, kind, k, agency))
}

/// The digests of the stored tables, read through `store` (a second view of
/// the snapshot being verified). None when a row could not even be read
/// (the row-by-row comparison then says which), when the projections are
/// of another version (not compared), or when `stop` was set (the
/// verification ended without needing them).
fn stored_digests(
    store: &dyn LogReader,
    key: &RandomState,
    stop: &AtomicBool,
) -> Result<Option<Digests>, StoreError> {
    if store
        .projection_version()
        .map_or(true, |v| v.is_some_and(|v| v != PROJECTION_VERSION))
    {
        return Ok(None);
    }
    let mut d = Digests::default();
    // Stops a stream early; not an error of the store.
    let halt = || StoreError::Corrupt(String::new());
    let going = || !stop.load(Ordering::Relaxed);
    let read = (|| {
        store.for_each_raw_entity(&mut |r| {
            d.entities.add(entity_hash(
                key,
                r.id,
                r.kind,
                r.state,
                (r.created_idx, r.updated_idx),
            ));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_subject_link(&mut |id, idx| {
            d.subjects.add(subject_hash(key, id, idx));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_chronology(&mut |r| {
            d.chronology.add(row_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_edge(&mut |r| {
            d.edges.add(edge_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_referral(&mut |r| {
            d.referrals.add(referral_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_match_review(&mut |r| {
            d.match_review.add(match_review_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_case_action(&mut |r| {
            d.case_actions.add(case_action_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_return_interview(&mut |r| {
            d.return_interviews.add(return_interview_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })?;
        store.for_each_name_key(&mut |r| {
            d.name_keys.add(name_key_hash(key, &r));
            going().then_some(()).ok_or_else(halt)
        })
    })();
    match read {
        Ok(()) => Ok(Some(d)),
        Err(StoreError::Corrupt(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The digests of the rows the log produces: the entity, edge, referral
/// and name-key rows of each rebuilt record (records split among the cores,
/// read only), and the subject index and chronology kept by the replay.
fn rebuilt_digests(
    rebuilt: &Replayed,
    subjects: &[(Uuid, u64)],
    chronology: &[ChronologyDigest],
    key: &RandomState,
) -> Result<Digests, StoreError> {
    let parts = std::thread::available_parallelism().map_or(2, |n| n.get());
    let records: Vec<&EntityRecord> = rebuilt.records.values().collect();
    let per_part = records.len().div_ceil(parts).max(1);
    let part = |records: &[&EntityRecord]| -> Result<Digests, StoreError> {
        let mut d = Digests::default();
        let mut id_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        for &rec in records {
            let id = rec.id.hyphenated().encode_lower(&mut id_text);
            d.entities.add(entity_hash(
                key,
                id.as_bytes(),
                rec.kind.as_str().as_bytes(),
                rec.state_json().as_bytes(),
                (rec.created_index as i64, rec.updated_index as i64),
            ));
            if let Some(e) = edge_row(rec) {
                d.edges.add(edge_hash(key, &e));
            }
            if let Some(r) = referral_row(rec) {
                d.referrals.add(referral_hash(key, &r));
            }
            for r in case_action_rows(rec) {
                d.case_actions.add(case_action_hash(key, &r));
            }
            if let Some(r) = return_interview_row(rec) {
                d.return_interviews.add(return_interview_hash(key, &r));
            }
            if let Some(r) = match_review_row(rec, &mut Lookup(&rebuilt.records))
                .map_err(|e| StoreError::Database(e.to_string()))?
            {
                d.match_review.add(match_review_hash(key, &r));
            }
            if matches!(
                rec.kind,
                EntityKind::Person | EntityKind::Referral | EntityKind::Link
            ) {
                let rows = name_key_rows(rec, &mut Lookup(&rebuilt.records))
                    .map_err(|e| StoreError::Database(e.to_string()))?;
                for r in &rows {
                    d.name_keys.add(name_key_hash(key, r));
                }
            }
        }
        Ok(d)
    };
    let mut total = Digests::default();
    let part = &part;
    let results = std::thread::scope(|s| {
        let mut chunks = records.chunks(per_part);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks.map(|c| s.spawn(move || part(c))).collect();
        let mut out = vec![part(first)];
        out.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("a digest thread panicked")),
        );
        out
    });
    for r in results {
        total.merge(r?);
    }
    for &(id, idx) in subjects {
        total.subjects.add(subject_hash(key, id, idx));
    }
    for &(_, _, h) in chronology {
        total.chronology.add(h);
    }
    Ok(total)
}

/// Compares the chronology, edges, referrals, match review and name keys with what the
/// rebuilt state produces, naming the first difference.
fn compare_secondary(
    store: &dyn LogReader,
    rebuilt: &MemoryProjection,
    chronology: &[ChronologyDigest],
    hash_key: &RandomState,
) -> Result<Option<Problem>, StoreError> {
    let problem = |entry: Option<u64>, message: String| Some(Problem { entry, message });
    let mut found: Option<Problem> = None;
    let mut want = chronology.iter();
    let read = store.for_each_chronology(&mut |row| {
        if found.is_some() {
            return Ok(());
        }
        let (idx, person) = (row.log_index, row.person_id);
        found = match want.next() {
            Some(&(wi, wp, wh)) if wi == idx && wp == person => (wh != row_hash(hash_key, &row)).then(|| Problem {
                entry: Some(idx),
                message: format!("the chronology row of person {person} for entry {idx} differs from what the log produces"),
            }),
            Some(&(wi, wp, _)) if (wi, wp) < (idx, person) => problem(
                Some(wi),
                format!("the chronology row of person {wp} for entry {wi} is missing"),
            ),
            _ => problem(
                Some(idx),
                format!("the chronology row of person {person} for entry {idx} is not produced by the log: it was added behind the program's back"),
            ),
        };
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(read)? {
        return Ok(Some(p));
    }
    if found.is_none() {
        if let Some(&(wi, wp, _)) = want.next() {
            found = problem(
                Some(wi),
                format!("the chronology row of person {wp} for entry {wi} is missing"),
            );
        }
    }
    if found.is_some() {
        return Ok(found);
    }

    let records: Vec<&EntityRecord> = rebuilt.records.values().collect();
    let edges: Vec<EdgeRow> = records.iter().filter_map(|r| edge_row(r)).collect();
    let referrals: Vec<ReferralRow> = records.iter().filter_map(|r| referral_row(r)).collect();
    if let Some(p) = compare_rows("edge", "link", &edges, |r| r.link_id, &mut |f| {
        store.for_each_edge(f)
    })? {
        return Ok(Some(p));
    }
    if let Some(p) = compare_rows(
        "referral",
        "referral",
        &referrals,
        |r| r.referral_id,
        &mut |f| store.for_each_referral(f),
    )? {
        return Ok(Some(p));
    }
    let mut reviews: Vec<MatchReviewRow> = Vec::new();
    for r in &records {
        if let Some(row) = match_review_row(r, &mut Lookup(&rebuilt.records))
            .map_err(|e| StoreError::Database(e.to_string()))?
        {
            reviews.push(row);
        }
    }
    if let Some(p) = compare_rows("match review", "link", &reviews, |r| r.link_id, &mut |f| {
        store.for_each_match_review(f)
    })? {
        return Ok(Some(p));
    }
    let mut actions: Vec<CaseActionRow> =
        records.iter().flat_map(|r| case_action_rows(r)).collect();
    actions.sort_by_key(|a| a.action_id);
    if let Some(p) = compare_rows(
        "case action",
        "action",
        &actions,
        |r| r.action_id,
        &mut |f| store.for_each_case_action(f),
    )? {
        return Ok(Some(p));
    }
    let interviews: Vec<ReturnInterviewRow> = records
        .iter()
        .filter_map(|r| return_interview_row(r))
        .collect();
    if let Some(p) = compare_rows(
        "return interview",
        "missing episode",
        &interviews,
        |r| r.episode_id,
        &mut |f| store.for_each_return_interview(f),
    )? {
        return Ok(Some(p));
    }
    // Name keys, made source by source as the stored rows come (sorted by
    // source id, as the records are).
    let ids: Vec<Uuid> = rebuilt.records.keys().copied().collect();
    let mut next_id = ids.into_iter();
    let mut pending: std::collections::VecDeque<NameKeyRow> = Default::default();
    let mut next_expected = |rebuilt: &MemoryProjection| -> Result<Option<NameKeyRow>, StoreError> {
        while pending.is_empty() {
            let Some(id) = next_id.next() else {
                return Ok(None);
            };
            let rec = &rebuilt.records[&id];
            // Only these kinds have name keys; the others are not read.
            if !matches!(
                rec.kind,
                EntityKind::Person | EntityKind::Referral | EntityKind::Link
            ) {
                continue;
            }
            let rows = name_key_rows(rec, &mut Lookup(&rebuilt.records))
                .map_err(|e| StoreError::Database(e.to_string()))?;
            pending.extend(rows);
        }
        Ok(pending.pop_front())
    };
    let describe = |r: &NameKeyRow| {
        format!(
            "the name key {} '{}' of person {} (from {})",
            r.kind, r.key, r.person_id, r.source_id
        )
    };
    let read = store.for_each_name_key(&mut |row| {
        if found.is_some() {
            return Ok(());
        }
        found = match next_expected(rebuilt)? {
            Some(w) if w == row => None,
            Some(w) if name_key_order(&w) < name_key_order(&row) => {
                problem(None, format!("{} is missing", describe(&w)))
            }
            Some(w) if name_key_order(&w) == name_key_order(&row) => problem(
                None,
                format!("{} differs from what the log produces", describe(&w)),
            ),
            _ => problem(
                None,
                format!(
                    "{} is not produced by the log: it was added behind the program's back",
                    describe(&row)
                ),
            ),
        };
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(read)? {
        return Ok(Some(p));
    }
    if found.is_none() {
        if let Some(w) = next_expected(rebuilt)? {
            found = problem(None, format!("{} is missing", describe(&w)));
        }
    }
    Ok(found)
}

/// The rebuilt state, read only: deriving a record's name keys reads other
/// records (a place's postcode) without the record itself being copied.
struct Lookup<'a, M>(&'a M);

/// Records by id: the replay's map, or the same sorted for the row-by-row
/// comparison.
trait Records {
    fn record(&self, id: &Uuid) -> Option<&EntityRecord>;
}

impl Records for HashMap<Uuid, EntityRecord> {
    fn record(&self, id: &Uuid) -> Option<&EntityRecord> {
        self.get(id)
    }
}

impl Records for BTreeMap<Uuid, EntityRecord> {
    fn record(&self, id: &Uuid) -> Option<&EntityRecord> {
        self.get(id)
    }
}

impl<M: Records> vigil_model::projection::ProjectionState for Lookup<'_, M> {
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, projection::ProjectionError> {
        Ok(self.0.record(&id).cloned())
    }
    fn put(&mut self, _: EntityRecord) -> Result<(), projection::ProjectionError> {
        Err(projection::ProjectionError::Store(
            "deriving name keys does not change state".into(),
        ))
    }
    fn kind_of(&mut self, id: Uuid) -> Result<Option<EntityKind>, projection::ProjectionError> {
        Ok(self.0.record(&id).map(|r| r.kind))
    }
    fn read(
        &mut self,
        id: Uuid,
        look: &mut dyn FnMut(&EntityRecord),
    ) -> Result<bool, projection::ProjectionError> {
        Ok(self.0.record(&id).map(look).is_some())
    }
}

/// The state the replay builds: as [`MemoryProjection`], in a hash map
/// (each event reads and changes a few records of hundreds of thousands:
/// a B-tree walk per read was a tenth of a full verification at a million
/// entries). Sorted only if the rows must be compared one by one.
#[derive(Default)]
struct Replayed {
    records: HashMap<Uuid, EntityRecord>,
}

impl vigil_model::projection::ProjectionState for Replayed {
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, projection::ProjectionError> {
        Ok(self.records.get(&id).cloned())
    }
    fn put(&mut self, record: EntityRecord) -> Result<(), projection::ProjectionError> {
        self.records.insert(record.id, record);
        Ok(())
    }
    fn kind_of(&mut self, id: Uuid) -> Result<Option<EntityKind>, projection::ProjectionError> {
        Ok(self.records.get(&id).map(|r| r.kind))
    }
    fn read(
        &mut self,
        id: Uuid,
        look: &mut dyn FnMut(&EntityRecord),
    ) -> Result<bool, projection::ProjectionError> {
        Ok(self.records.get(&id).map(look).is_some())
    }
    /// In place, as [`MemoryProjection`] does (rules check before they change).
    fn modify(
        &mut self,
        id: Uuid,
        change: &mut dyn FnMut(&mut EntityRecord) -> Result<(), projection::ProjectionError>,
    ) -> Result<bool, projection::ProjectionError> {
        match self.records.get_mut(&id) {
            Some(rec) => change(rec).map(|()| true),
            None => Ok(false),
        }
    }
}

/// A `LogReader::for_each_*` method of one table.
type RowStream<'a, T> =
    dyn FnMut(&mut dyn FnMut(T) -> Result<(), StoreError>) -> Result<(), StoreError> + 'a;

/// Walks stored rows and expected rows (both by id) together, naming the first difference.
fn compare_rows<T: PartialEq>(
    what: &str,
    entity: &str,
    expected: &[T],
    id: impl Fn(&T) -> Uuid,
    stream: &mut RowStream<'_, T>,
) -> Result<Option<Problem>, StoreError> {
    let mut want = expected.iter();
    let mut found: Option<Problem> = None;
    let problem = |message: String| {
        Some(Problem {
            entry: None,
            message,
        })
    };
    let read = stream(&mut |row| {
        if found.is_some() {
            return Ok(());
        }
        let rid = id(&row);
        found = match want.next() {
            Some(w) if id(w) == rid => (*w != row).then(|| Problem {
                entry: None,
                message: format!("the {what} row of {entity} {rid} differs from what the log produces"),
            }),
            Some(w) if id(w) < rid => problem(format!("the {what} row of {entity} {} is missing", id(w))),
            _ => problem(format!("the {what} row of {entity} {rid} is not produced by the log: it was added behind the program's back")),
        };
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(read)? {
        return Ok(Some(p));
    }
    if found.is_none() {
        if let Some(w) = want.next() {
            found = problem(format!("the {what} row of {entity} {} is missing", id(w)));
        }
    }
    Ok(found)
}

fn corrupt_as_problem_value<T>(r: Result<T, StoreError>) -> Result<Result<T, Problem>, StoreError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(StoreError::Corrupt(message)) => Ok(Err(Problem {
            entry: None,
            message,
        })),
        Err(e) => Err(e),
    }
}

/// The database must say it belongs to the log of `key` (`meta.log_key`).
fn other_key(store: &dyn LogReader, key: &LogKey) -> Result<Option<Problem>, StoreError> {
    let want = key.to_base64();
    let message = match store.stored_log_key()? {
        Some(k) if k == want => return Ok(None),
        Some(k) => format!(
            "the database says it belongs to the log of another key (meta.log_key is {k}, not {want}, the key of log {})",
            key.log_id()
        ),
        None => "the database names no log key (meta.log_key is missing)".to_string(),
    };
    Ok(Some(Problem {
        entry: None,
        message,
    }))
}

/// The receipts the store keeps for submitters to download again, as
/// witnesses: a submitter who downloads one must get a valid receipt of
/// this log for that event, whose entry is the stored header at its
/// position and whose tree head the log holds (the last two are checked
/// with the other witnesses, in the pass over the log).
fn kept_receipts(
    store: &dyn LogReader,
    key: &LogKey,
) -> Result<Result<Vec<Witness>, Problem>, StoreError> {
    let mut kept = Vec::new();
    let mut problem = None;
    let read = store.for_each_kept_receipt(&mut |event_id, text| {
        if problem.is_none() {
            match kept_receipt(&event_id, &text, key) {
                Ok(w) => kept.push(w),
                Err(message) => {
                    problem = Some(Problem {
                        entry: None,
                        message,
                    })
                }
            }
        }
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(read)? {
        return Ok(Err(p));
    }
    Ok(problem.map_or(Ok(kept), Err))
}

/// One kept receipt checked on its own, as §5 of docs/ledger-format.md says
/// a submitter checks it, and for the event it is kept under.
fn kept_receipt(event_id: &str, text: &str, key: &LogKey) -> Result<Witness, String> {
    let label = format!("the stored receipt of event {event_id}");
    let r: Receipt = serde_json::from_str(text)
        .map_err(|_| format!("{label} is not a Vigil receipt: it was altered"))?;
    r.verify(key).map_err(|e| {
        format!("{label} does not verify with this log's key ({e}): it was altered")
    })?;
    if r.event_id != event_id {
        return Err(format!(
            "{label} is the receipt of event {}: it was replaced",
            r.event_id
        ));
    }
    match peek_header(r.entry.as_bytes()) {
        Some(p) if p.index == r.leaf_index && p.id == event_id.as_bytes() => {}
        _ => {
            return Err(format!(
                "{label} does not hold the header of event {event_id} at entry {}: it was altered",
                r.leaf_index
            ))
        }
    }
    Witness::receipt(label, &r)
}

/// "entry 6 is" / "entries 6 to 13 are": the entries from `size` up to `end`.
fn missing(size: u64, end: u64) -> String {
    if end - size == 1 {
        format!("entry {size} is")
    } else {
        format!("entries {size} to {} are", end - 1)
    }
}

/// The database's signed tree heads and the witnesses' heads, by size (a
/// database head before a witness's of the same size, so that a rewrite is
/// reported against the database's own head first).
fn checkpoints<'w>(heads: &[SignedTreeHead], witnesses: &'w [Witness]) -> Vec<Checkpoint<'w>> {
    let mut all: Vec<Checkpoint<'w>> = heads
        .iter()
        .map(|h| Checkpoint {
            size: h.head.size,
            root: h.head.root,
            witness: None,
        })
        .chain(witnesses.iter().map(|w| Checkpoint {
            size: w.head.head.size,
            root: w.head.head.root,
            witness: Some(w.label.as_str()),
        }))
        .collect();
    all.sort_by_key(|c| (c.size, c.witness.is_some()));
    all
}

/// Rows per chunk handed from the reader to the checker.
const CHUNK_ROWS: usize = 4096;

/// Byte ranges of one row inside a [`Chunk`].
struct RowSpans {
    index: u64,
    event_id: std::ops::Range<usize>,
    header: std::ops::Range<usize>,
    payload: Option<std::ops::Range<usize>>,
    salt: Option<std::ops::Range<usize>>,
    leaf_hash: std::ops::Range<usize>,
    kind: std::ops::Range<usize>,
}

/// Rows copied out of the store's buffers into one allocation.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    rows: Vec<RowSpans>,
}

/// An entry's header and payload parsed for the replay, trusting the payload
/// digest, which [`Checker::check`] compares on these bytes first.
fn parse_entry(e: &RawEntry<'_>) -> Result<SealedEvent, String> {
    let header =
        std::str::from_utf8(e.header).map_err(|_| "its header is not UTF-8 text".to_string())?;
    let payload = std::str::from_utf8(e.payload.unwrap_or_default())
        .map_err(|_| "its payload is not UTF-8 text".to_string())?;
    SealedEvent::from_stored_digest_checked(header, payload, e.salt.unwrap_or_default())
        .map_err(|err| err.to_string())
}

impl Chunk {
    fn put(&mut self, b: &[u8]) -> std::ops::Range<usize> {
        let start = self.data.len();
        self.data.extend_from_slice(b);
        start..self.data.len()
    }

    fn push(&mut self, e: &RawEntry<'_>) {
        let row = RowSpans {
            index: e.index,
            event_id: self.put(e.event_id),
            header: self.put(e.header),
            payload: e.payload.map(|p| self.put(p)),
            salt: e.salt.map(|p| self.put(p)),
            leaf_hash: self.put(e.leaf_hash),
            kind: self.put(e.kind),
        };
        self.rows.push(row);
    }

    fn entry(&self, r: &RowSpans) -> RawEntry<'_> {
        RawEntry {
            index: r.index,
            event_id: &self.data[r.event_id.clone()],
            header: &self.data[r.header.clone()],
            payload: r.payload.clone().map(|x| &self.data[x]),
            salt: r.salt.clone().map(|x| &self.data[x]),
            leaf_hash: &self.data[r.leaf_hash.clone()],
            kind: &self.data[r.kind.clone()],
        }
    }
}

/// The checks on each entry, in log order, and the state they build.
struct Checker<'h> {
    hash_key: &'h RandomState,
    heads: &'h [Checkpoint<'h>],
    /// Leaf hashes receipts were given for, by index.
    leaves: &'h BTreeMap<u64, Vec<(&'h str, Hash)>>,
    /// Size of the largest signed tree head in the database.
    signed: u64,
    opts: VerifyOptions,
    frontier: Frontier,
    next_head: usize,
    last_checked_size: u64,
    rebuilt: Replayed,
    /// (subject, entry) of every header, in log order: sorted once at the
    /// end (unique, because each header's subjects are).
    subjects: Vec<(Uuid, u64)>,
    /// The chronology the log produces, by entry then person.
    chronology: Vec<ChronologyDigest>,
    /// The event id of entry `signed`, the first no tree head covers.
    unsigned_event: Option<String>,
}

impl<'h> Checker<'h> {
    fn new(
        heads: &'h [Checkpoint<'h>],
        leaves: &'h BTreeMap<u64, Vec<(&'h str, Hash)>>,
        signed: u64,
        opts: VerifyOptions,
        hash_key: &'h RandomState,
    ) -> Self {
        Checker {
            hash_key,
            heads,
            leaves,
            signed,
            opts,
            frontier: Frontier::new(),
            next_head: 0,
            last_checked_size: 0,
            rebuilt: Replayed::default(),
            subjects: Vec::new(),
            chronology: Vec::new(),
            unsigned_event: None,
        }
    }

    fn check(&mut self, e: RawEntry<'_>) -> Result<(), Problem> {
        let bad = |entry: u64, message: String| Problem {
            entry: Some(entry),
            message,
        };
        let expected = self.frontier.size();
        let n = e.index;
        // Decoded only for a message.
        let event = Lossy(e.event_id);
        if n != expected {
            return Err(bad(
                expected,
                format!("entry {expected} is missing from the log (the next entry present is {n})"),
            ));
        }
        let leaf = leaf_hash(e.header);
        if e.leaf_hash != leaf {
            return Err(bad(
                n,
                format!("entry {n} (event {event}) was altered: its header does not hash to its stored leaf hash"),
            ));
        }
        let peek = peek_header(e.header).ok_or_else(|| {
            bad(
                n,
                format!("entry {n} (event {event}) has a header that cannot be read"),
            )
        })?;
        if peek.index != n {
            return Err(bad(
                n,
                format!(
                    "entry {n} holds the record written as entry {} (event {}): rows were moved or swapped",
                    peek.index,
                    String::from_utf8_lossy(peek.id)
                ),
            ));
        }
        if peek.id != e.event_id {
            return Err(bad(
                n,
                format!(
                    "entry {n}: the stored event id {event} is not the id in its header ({})",
                    String::from_utf8_lossy(peek.id)
                ),
            ));
        }
        if peek.kind != e.kind {
            return Err(bad(
                n,
                format!(
                    "entry {n} (event {event}): the stored kind {} is not the kind in its header ({}): the row was relabelled",
                    String::from_utf8_lossy(e.kind),
                    String::from_utf8_lossy(peek.kind)
                ),
            ));
        }
        match (e.payload, e.salt) {
            (Some(p), Some(s)) => {
                if !hex_eq(&payload_digest(s, p), peek.payload_sha256) {
                    return Err(bad(
                        n,
                        format!("entry {n} (event {event}) was altered: its payload does not match the digest in its header"),
                    ));
                }
            }
            _ => {
                return Err(bad(
                    n,
                    format!("entry {n} (event {event}) has lost its payload or salt"),
                ));
            }
        }
        let receipts = if self.leaves.is_empty() {
            None
        } else {
            self.leaves.get(&n)
        };
        for (label, want) in receipts.into_iter().flatten() {
            if *want != leaf {
                return Err(bad(
                    n,
                    format!("entry {n} (event {event}) is not the entry {label} was given for: it was replaced"),
                ));
            }
        }
        if n == self.signed {
            self.unsigned_event = Some(event.to_string());
        }
        self.frontier.push(leaf);
        while self.next_head < self.heads.len()
            && self.heads[self.next_head].size == self.frontier.size()
        {
            let h = &self.heads[self.next_head];
            if h.root != self.frontier.root() {
                return Err(bad(
                    n,
                    match h.witness {
                        None => format!(
                            "entries {} to {n} do not match the signed tree head of size {}: one of them was rewritten",
                            self.last_checked_size,
                            self.frontier.size()
                        ),
                        Some(label) => format!(
                            "the first {} entries of the log do not match the tree head of that size in {label}: the log was rewritten after it was signed",
                            self.frontier.size()
                        ),
                    },
                ));
            }
            self.last_checked_size = self.frontier.size();
            self.next_head += 1;
        }
        if self.opts.projections {
            let sealed = parse_entry(&e)
                .map_err(|err| bad(n, format!("entry {n} (event {event}): {err}")))?;
            self.subjects
                .extend(sealed.header.subjects.iter().map(|s| (s.id, n)));
            projection::apply(&sealed, &mut self.rebuilt)
                .and_then(|()| chronology_rows(&sealed, &mut self.rebuilt))
                .map(|mut rows| {
                    rows.sort_by_key(|r| r.person_id);
                    self.chronology.extend(
                        rows.iter()
                            .map(|r| (r.log_index, r.person_id, row_hash(self.hash_key, r))),
                    );
                })
                .map_err(|err| {
                    bad(
                        n,
                        format!("entry {n} (event {event}) cannot be replayed: {err}"),
                    )
                })?;
        }
        Ok(())
    }
}

/// Bytes shown as text (invalid UTF-8 replaced) when formatted.
#[derive(Clone, Copy)]
struct Lossy<'a>(&'a [u8]);

impl std::fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.0))
    }
}

/// The header fields the fast path needs.
struct Peek<'a> {
    index: u64,
    id: &'a [u8],
    kind: &'a [u8],
    payload_sha256: &'a [u8],
}

/// Finds `index`, `id`, `kind` and `payload_sha256` in a header without parsing all
/// of it. Sound because headers are canonical JSON with a fixed schema: the
/// top-level keys are sorted (`actor`, `agency`, `id`, `index`, ...), nothing
/// before `id` has a key of that name, and a quote inside a string value is
/// always escaped, so a pattern like `"index":` can only be the key. The
/// bytes it reads were in any case checked against the stored leaf hash and
/// are checked against the signed root, so a header crafted to mislead it is
/// caught there. Anything unexpected falls back to a real JSON parse.
fn peek_header(h: &[u8]) -> Option<Peek<'_>> {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // Built once: building a searcher cost as much as a search.
    static ID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"id\":\""));
    static KIND: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"kind\":\""));
    static SHA: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"payload_sha256\":\""));
    static INDEX: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"index\":"));
    fn string_after<'a>(h: &'a [u8], key: &Finder<'_>) -> Option<&'a [u8]> {
        let at = key.find(h)? + key.needle().len();
        let len = memchr::memchr(b'"', &h[at..])?;
        Some(&h[at..at + len])
    }
    let fast = (|| {
        let id = string_after(h, &ID)?;
        let kind = string_after(h, &KIND)?;
        let sha = string_after(h, &SHA)?;
        let at = INDEX.find(h)? + 8;
        let digits = h[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let index = std::str::from_utf8(&h[at..at + digits])
            .ok()?
            .parse()
            .ok()?;
        Some(Peek {
            index,
            id,
            kind,
            payload_sha256: sha,
        })
    })();
    fast.or_else(|| {
        let p: HeaderPeek<'_> = serde_json::from_slice(h).ok()?;
        // Borrowed strings without escapes point into `h`; find them there.
        let id = memchr::memmem::find(h, p.id.as_bytes()).map(|i| &h[i..i + p.id.len()])?;
        let kind = memchr::memmem::find(h, p.kind.as_bytes()).map(|i| &h[i..i + p.kind.len()])?;
        let sha = memchr::memmem::find(h, p.payload_sha256.as_bytes())
            .map(|i| &h[i..i + p.payload_sha256.len()])?;
        Some(Peek {
            index: p.index,
            id,
            kind,
            payload_sha256: sha,
        })
    })
}

/// Compares a digest with lower-case hex text without allocating.
fn hex_eq(digest: &[u8; 32], hex_text: &[u8]) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    hex_text.len() == 64
        && digest.iter().enumerate().all(|(i, b)| {
            hex_text[2 * i] == HEX[(b >> 4) as usize]
                && hex_text[2 * i + 1] == HEX[(b & 15) as usize]
        })
}

/// Walks stored and rebuilt rows together (both sorted by id) and names the
/// first difference.
fn compare_projections(
    store: &dyn LogReader,
    rebuilt: &MemoryProjection,
    subjects: &[(Uuid, u64)],
) -> Result<Option<Problem>, StoreError> {
    let mut expected = rebuilt.records.values().peekable();
    let mut found: Option<Problem> = None;
    let describe = |r: &EntityRecord| format!("{} {}", r.kind, r.id);
    let mut id_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let read = store.for_each_raw_entity(&mut |raw| {
        if found.is_some() {
            return Ok(());
        }
        // Fast path: the stored row is byte for byte the row the writer
        // would write for the rebuilt record (its canonical JSON). Anything
        // else, however small, is parsed and compared as before, which
        // decides and names the difference.
        if let Some(want) = expected.peek() {
            let id = want.id.hyphenated().encode_lower(&mut id_text);
            if raw.id == id.as_bytes()
                && raw.kind == want.kind.as_str().as_bytes()
                && raw.created_idx == want.created_index as i64
                && raw.updated_idx == want.updated_index as i64
                && raw.state == want.state_json().as_bytes()
            {
                expected.next();
                return Ok(());
            }
        }
        let stored = raw.parse()?;
        match expected.next() {
            Some(want) if want.id == stored.id => {
                // The stored row was parsed strictly as its kind's struct, so
                // comparing the typed states compares every field without
                // serialising either.
                if want.kind != stored.kind
                    || want.state != stored.state
                    || want.created_index != stored.created_index
                    || want.updated_index != stored.updated_index
                {
                    found = Some(Problem {
                        entry: Some(want.updated_index),
                        message: format!(
                            "the projection row for {} differs from what the log produces (it was last changed by entry {})",
                            describe(want),
                            want.updated_index
                        ),
                    });
                }
            }
            Some(want) if want.id < stored.id => {
                found = Some(Problem {
                    entry: Some(want.updated_index),
                    message: format!("the projection row for {} is missing (the log creates it at entry {})", describe(want), want.created_index),
                });
            }
            _ => {
                found = Some(Problem {
                    entry: None,
                    message: format!("the projection row for {} is not produced by the log: it was added behind the program's back", describe(&stored)),
                });
            }
        }
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(read)? {
        return Ok(Some(p));
    }
    if found.is_none() {
        if let Some(want) = expected.next() {
            found = Some(Problem {
                entry: Some(want.created_index),
                message: format!(
                    "the projection row for {} is missing (the log creates it at entry {})",
                    describe(want),
                    want.created_index
                ),
            });
        }
    }
    if found.is_some() {
        return Ok(found);
    }
    let mut want = subjects.iter();
    store.for_each_subject_link(&mut |id, idx| {
        if found.is_some() {
            return Ok(());
        }
        match want.next() {
            Some(&(wid, widx)) if wid == id && widx == idx => {}
            Some(&(wid, widx)) => {
                found = Some(Problem {
                    entry: Some(widx.min(idx)),
                    message: format!(
                        "the subject index differs from the log near entry {} ({wid} / {id})",
                        widx.min(idx)
                    ),
                })
            }
            None => {
                found = Some(Problem {
                    entry: Some(idx),
                    message: format!(
                        "the subject index links {id} to entry {idx}, which does not concern it"
                    ),
                })
            }
        }
        Ok(())
    })?;
    if found.is_none() {
        if let Some(&(wid, widx)) = want.next() {
            found = Some(Problem {
                entry: Some(widx),
                message: format!("the subject index has lost the link from {wid} to entry {widx}"),
            });
        }
    }
    Ok(found)
}

/// A row the store could not even parse is itself evidence of tampering:
/// report it as a problem (exit 1), not as a failure to run (exit 2).
fn corrupt_as_problem(r: Result<(), StoreError>) -> Result<Option<Problem>, StoreError> {
    match r {
        Ok(()) => Ok(None),
        Err(StoreError::Corrupt(message)) => Ok(Some(Problem {
            entry: None,
            message,
        })),
        Err(e) => Err(e),
    }
}
