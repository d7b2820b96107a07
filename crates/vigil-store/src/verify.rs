//! `vigil verify`: prove that nothing in the store was altered, removed or
//! reordered behind the program's back.
//!
//! Checks, in one pass over the log in index order:
//!
//! 1. every index from 0 is present (a deleted row is a gap);
//! 2. each header hashes to the stored leaf hash (an altered header or hash);
//! 3. each header names its own index and event id (a moved or swapped row);
//! 4. each payload hashes, with its salt, to the digest in its header;
//! 5. the Merkle root at every signed tree head's size equals the signed root,
//!    and every signature verifies with the log key (a rewrite that kept the
//!    per-row hashes consistent);
//! 6. no signed tree head covers entries that are not there (a truncated log);
//!
//! and then, unless asked only for the ledger, rebuilds every projection row
//! and the subject index from the log with the model's rules and compares them
//! with the stored rows, and recomputes the access log's hash chain
//! ([`crate::accounts::verify_access_log`]). The first problem is reported
//! with the entry or row it concerns.

use crate::{LogReader, Store, StoreError, StoredEntry};
use serde::Deserialize;
use std::collections::BTreeSet;
use uuid::Uuid;
use vigil_ledger::{leaf_hash, Frontier, Hash, SignedTreeHead};
use vigil_model::event::payload_digest;
use vigil_model::projection::{self, EntityRecord, MemoryProjection};
use vigil_model::SealedEvent;

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

/// What verification saw.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub entries: u64,
    pub tree_heads: u64,
    pub entities: u64,
    pub root: Hash,
    pub problem: Option<Problem>,
}

/// The fields of a header that the fast path needs, read without building the
/// whole header.
#[derive(Deserialize)]
struct HeaderPeek<'a> {
    index: u64,
    id: &'a str,
    payload_sha256: &'a str,
}

/// Stops the streaming pass at the first problem.
enum Stop {
    Problem(Problem),
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

fn problem(entry: Option<u64>, message: String) -> Stop {
    Stop::Problem(Problem { entry, message })
}

/// Verifies the whole store, reading it in one snapshot
/// ([`Store::read_snapshot`]) so that it can run beside live writers.
pub fn verify(store: &dyn Store, opts: VerifyOptions) -> Result<VerifyReport, StoreError> {
    let key = store.log_key();
    let mut report = None;
    store.read_snapshot(&mut |view| {
        report = Some(verify_view(view, &key, opts)?);
        Ok(())
    })?;
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
    key: &vigil_ledger::LogKey,
    opts: VerifyOptions,
) -> Result<VerifyReport, StoreError> {
    let mut heads: Vec<SignedTreeHead> = Vec::new();
    let heads_read = store.for_each_tree_head(&mut |h| {
        heads.push(h);
        Ok(())
    });
    if let Some(p) = corrupt_as_problem(heads_read)? {
        return Ok(VerifyReport {
            entries: 0,
            tree_heads: 0,
            entities: 0,
            root: vigil_ledger::empty_root(),
            problem: Some(p),
        });
    }
    let mut report = VerifyReport {
        entries: 0,
        tree_heads: heads.len() as u64,
        entities: 0,
        root: vigil_ledger::empty_root(),
        problem: None,
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

    let mut frontier = Frontier::new();
    let mut next_head = 0usize;
    let mut rebuilt = MemoryProjection::default();
    let mut subjects: BTreeSet<(Uuid, u64)> = BTreeSet::new();
    let mut last_checked_size = 0u64;

    let mut check = |e: StoredEntry| -> Result<(), Stop> {
        let expected = frontier.size();
        let n = e.index;
        if n != expected {
            return Err(problem(
                Some(expected),
                format!("entry {expected} is missing from the log (the next entry present is {n})"),
            ));
        }
        let leaf = leaf_hash(e.header_json.as_bytes());
        if e.leaf_hash.as_slice() != leaf {
            return Err(problem(
                Some(n),
                format!("entry {n} (event {}) was altered: its header does not hash to its stored leaf hash", e.event_id),
            ));
        }
        let peek: HeaderPeek<'_> = serde_json::from_str(&e.header_json).map_err(|_| {
            problem(
                Some(n),
                format!(
                    "entry {n} (event {}) has a header that cannot be read",
                    e.event_id
                ),
            )
        })?;
        if peek.index != n {
            return Err(problem(
                Some(n),
                format!(
                    "entry {n} holds the record written as entry {} (event {}): rows were moved or swapped",
                    peek.index, peek.id
                ),
            ));
        }
        if peek.id != e.event_id {
            return Err(problem(
                Some(n),
                format!(
                    "entry {n}: the stored event id {} is not the id in its header ({})",
                    e.event_id, peek.id
                ),
            ));
        }
        match (&e.payload_json, &e.salt) {
            (Some(p), Some(s)) => {
                if hex::encode(payload_digest(s, p.as_bytes())) != peek.payload_sha256 {
                    return Err(problem(
                        Some(n),
                        format!("entry {n} (event {}) was altered: its payload does not match the digest in its header", e.event_id),
                    ));
                }
            }
            _ => {
                return Err(problem(
                    Some(n),
                    format!(
                        "entry {n} (event {}) has lost its payload or salt",
                        e.event_id
                    ),
                ))
            }
        }
        frontier.push(leaf);
        while next_head < heads.len() && heads[next_head].head.size == frontier.size() {
            if heads[next_head].head.root != frontier.root() {
                return Err(problem(
                    Some(n),
                    format!(
                        "entries {last_checked_size} to {n} do not match the signed tree head of size {}: one of them was rewritten",
                        frontier.size()
                    ),
                ));
            }
            last_checked_size = frontier.size();
            next_head += 1;
        }
        if opts.projections {
            let sealed = SealedEvent::from_stored(
                &e.header_json,
                e.payload_json.as_deref().unwrap_or(""),
                e.salt.as_deref().unwrap_or(&[]),
            )
            .map_err(|err| problem(Some(n), format!("entry {n} (event {}): {err}", e.event_id)))?;
            for s in &sealed.header.subjects {
                subjects.insert((s.id, n));
            }
            projection::apply(&sealed, &mut rebuilt).map_err(|err| {
                problem(
                    Some(n),
                    format!("entry {n} (event {}) cannot be replayed: {err}", e.event_id),
                )
            })?;
        }
        Ok(())
    };

    let mut stop: Option<Stop> = None;
    let res = store.for_each_entry(0, &mut |e| match check(e) {
        Ok(()) => Ok(()),
        Err(s) => {
            stop = Some(s);
            // Abort the scan; the real reason is in `stop`.
            Err(StoreError::Corrupt(String::new()))
        }
    });
    match stop {
        Some(Stop::Problem(p)) => {
            report.entries = p.entry.unwrap_or(0);
            report.problem = Some(p);
            return Ok(report);
        }
        Some(Stop::Store(e)) => return Err(e),
        None => res?,
    }
    report.entries = frontier.size();
    report.root = frontier.root();
    if let Some(h) = heads.get(next_head) {
        let size = frontier.size();
        report.problem = Some(Problem {
            entry: Some(size),
            message: if h.head.size > size {
                format!(
                    "entries {size} to {} are missing: the signed tree head of size {} covers them",
                    h.head.size - 1,
                    h.head.size
                )
            } else {
                format!(
                    "the signed tree head of size {} does not match the log",
                    h.head.size
                )
            },
        });
        return Ok(report);
    }

    if opts.projections {
        report.problem = compare_projections(store, &rebuilt, &subjects)?;
        report.entities = rebuilt.records.len() as u64;
    }
    Ok(report)
}

/// Walks stored and rebuilt rows together (both sorted by id) and names the
/// first difference.
fn compare_projections(
    store: &dyn LogReader,
    rebuilt: &MemoryProjection,
    subjects: &BTreeSet<(Uuid, u64)>,
) -> Result<Option<Problem>, StoreError> {
    let mut expected = rebuilt.records.values();
    let mut found: Option<Problem> = None;
    let describe = |r: &EntityRecord| format!("{} {}", r.kind, r.id);
    let read = store.for_each_entity(&mut |stored| {
        if found.is_some() {
            return Ok(());
        }
        match expected.next() {
            Some(want) if want.id == stored.id => {
                if want.kind != stored.kind
                    || want.state_json() != stored.state_json()
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
